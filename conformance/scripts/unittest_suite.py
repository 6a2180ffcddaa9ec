"""unittest: a TestCase suite (pass, fail, error, skip, expectedFailure, subTest, setUp/tearDown, setUpClass, assertRaises/assertLogs) run by TextTestRunner(stream=sys.stdout, verbosity=2); the timing line is removed."""
import io, logging, sys, unittest

class Basic(unittest.TestCase):
    log = []
    @classmethod
    def setUpClass(cls): cls.log.append("setUpClass")
    def setUp(self): self.value = 41
    def tearDown(self): self.log.append("tearDown")
    def test_pass(self): self.assertEqual(self.value + 1, 42)
    def test_fail(self): self.assertEqual([1, 2, 3], [1, 2, 4], "lists differ")
    def test_error(self): {}["missing"]
    @unittest.skip("demonstration skip")
    def test_skip(self): pass
    @unittest.expectedFailure
    def test_expected_failure(self): self.assertTrue(False)
    @unittest.expectedFailure
    def test_unexpected_success(self): pass
    def test_subtests(self):
        for i in range(4):
            with self.subTest(i=i):
                self.assertNotEqual(i, 2)
    def test_raises(self):
        with self.assertRaisesRegex(ValueError, "invalid literal"):
            int("x")
    def test_logs(self):
        with self.assertLogs("demo", level="INFO") as cm:
            logging.getLogger("demo").info("hello %s", "log")
        self.assertEqual(cm.output, ["INFO:demo:hello log"])
    def test_almost(self):
        self.assertAlmostEqual(0.1 + 0.2, 0.3)
        self.assertCountEqual("abc", "cba")
        self.assertIn(3, {3: 1})

class Second(unittest.TestCase):
    def test_multiline_diff(self):
        self.maxDiff = None
        self.assertEqual("a\nb\nc\n", "a\nB\nc\n")

out = io.StringIO()
suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
result = unittest.TextTestRunner(stream=out, verbosity=2).run(suite)
for line in out.getvalue().splitlines():
    if line.startswith("Ran ") and " tests in " in line:
        line = line.split(" in ")[0]
    print(line)
print("testsRun", result.testsRun, "failures", len(result.failures), "errors", len(result.errors), "skipped", len(result.skipped),
      "expectedFailures", len(result.expectedFailures), "unexpectedSuccesses", len(result.unexpectedSuccesses), "wasSuccessful", result.wasSuccessful())
print("class log", Basic.log[0], Basic.log.count("tearDown"))
