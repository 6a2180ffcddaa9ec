"""Run one module of CPython's own test suite (``Lib/test``) inside the guest
and report every test as it happens.

    python -m cpython_driver [OPTIONS] test_json
    python /path/cpython_driver.py [OPTIONS] test.test_json

It prepares ``test.support`` the way CPython's own runner (regrtest) does for
one test module in a worker, in its own code: resources from ``-u`` (none by
default), ``support.verbose`` from ``-v``, no failfast, no JUnit, a fresh
working directory under the temp dir (so ``os_helper.TESTFN`` lands there),
a fixed random seed; no environment-altered checks, no recursion-limit change,
no signal handler for Ctrl-C tests.

The module is loaded with ``unittest.TestLoader().loadTestsFromModule``, which
honours ``load_tests`` (test packages such as test_json, test_asyncio load
their submodules through it). Every test then runs in order through the
driver's own suite loop, which keeps unittest's class and module fixtures.

Events: JSON objects, one per line (see EVENTS below and ``REPORT.md``).

Environment:
  PYODIDE_TEST_EVENTS   path to open for writing (O_WRONLY|O_CREAT)
                        and write the events to, unbuffered; without it (and
                        without --events) events go to a copy of fd 1, each
                        line prefixed with "\\x1e@pyodide-test@ " (like the
                        pytest plugin).
  PYODIDE_TEST_RESUME   file of test ids already done, one a line: those are
                        neither run nor reported.
  PYODIDE_TEST_MATCH    only run tests whose id contains this substring.
  PYODIDE_TEST_SKIP     file of "module<TAB>id<TAB>reason" lines: those tests
                        of that module are not run
                        but reported skipped with the reason (the runner's
                        plan of tests that cannot run here).
  PYODIDE_TEST_ISOLATE  file of lines in the same format: those tests run
                        alone in their guest. The guest ends (exit status
                        FRESH_GUEST, no "done") before such a test when it
                        has run another, and after it when tests remain;
                        the runner goes on with the module in a fresh guest
                        (as after a crash), the tests done so far excluded.
"""

import gc
import io
import json
import os
import re
import sys
import time
import traceback
import unittest

EVENT_PREFIX = "\x1e@pyodide-test@ "
MESSAGE_LIMIT = 300
# The exit status that asks the runner for a fresh guest (PYODIDE_TEST_ISOLATE).
FRESH_GUEST = 75

# regrtest's resource names (test.libregrtest.utils in 3.14): "all" enables
# the first group, the second group must be named.
ALL_RESOURCES = ("audio", "console", "curses", "largefile", "network",
                 "decimal", "cpu", "subprocess", "urlfetch", "gui", "walltime")
EXTRA_RESOURCES = ("extralargefile", "tzdata", "xpickle", "wantobjects")

# Outcomes, worst last: a test that both failed and errored is an error.
SEVERITY = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3,
            "failed": 4, "error": 5}
BAD = ("failed", "error", "xpassed")

FIXTURE_RE = re.compile(r"^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((.*)\)$")

USAGE = """usage: cpython_driver [options] TEST
  TEST                 test_json, test.test_json or test.test_json.test_speedups
  -u, --use RES,...    resources as regrtest's -u (all, none, -RES, RES); default: none
  -v, --verbose        support.verbose += 1 (default 0, as regrtest)
  -m, --match PAT      only tests matching PAT (regrtest's -m: fnmatch on the id
                       or one of its dotted parts); repeatable
  -i, --ignore PAT     skip tests matching PAT; repeatable
  -k SUBSTR            only tests whose id contains SUBSTR (also PYODIDE_TEST_MATCH)
  --events PATH        write events there (overrides PYODIDE_TEST_EVENTS)
  --resume FILE        ids already done (overrides PYODIDE_TEST_RESUME)
  --testdir DIR        directory holding the `test` package (default: found on
                       sys.path, else /lib/cpython-tests)
  --tmp-dir DIR        parent of the per-module working directory (default: tempfile's)
  --random-seed N      random.seed() before the module (default 0)
  --no-capture         let tests write to the real stdout/stderr
  --list               collect only: report the ids and stop
  --stack-tests        run the tests marked skip_emscripten_stack_overflow (the
                       V8 stack limit does not apply here); also PYODIDE_TEST_STACK_TESTS=1
"""


def _short(text, limit=MESSAGE_LIMIT):
    text = str(text).strip()
    line = text.splitlines()[0].strip() if text else ""
    if len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def _exc_message(err):
    """The exception's own line: ``AssertionError: 1 != 2`` (the last line of
    a traceback, or the first line of a multi-line exception message)."""
    if err is None:
        return ""
    etype, value, _tb = err
    try:
        lines = traceback.format_exception_only(etype, value)
    except Exception:  # a broken __str__
        return etype.__name__
    for line in lines:
        if line.strip() and not line.startswith("  "):
            text = line
            break
    else:
        text = lines[-1] if lines else etype.__name__
    return _short(text)


class Events:
    """The channel to the host: one JSON object a line, one write a line."""

    def __init__(self, path):
        if path:
            # No O_APPEND: the runner's channel is a device (or, under
            # Node, a stream), where appending means a seek that fails.
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
            self.prefix = ""
        else:
            self.fd = os.dup(1)
            self.prefix = EVENT_PREFIX
        # Out of the way of tests that close or reuse low descriptors.
        try:
            import fcntl

            high = fcntl.fcntl(self.fd, fcntl.F_DUPFD, 900)
            os.close(self.fd)
            self.fd = high
        except (ImportError, OSError):
            pass
        os.set_inheritable(self.fd, False)

    def emit(self, **event):
        data = (self.prefix + json.dumps(event, ensure_ascii=True) + "\n").encode()
        while data:
            n = os.write(self.fd, data)
            data = data[n:]


class Options:
    def __init__(self):
        self.test = None
        self.use = []
        self.verbose = 0
        self.match = []  # (pattern, include)
        self.substring = os.environ.get("PYODIDE_TEST_MATCH") or None
        self.events = os.environ.get("PYODIDE_TEST_EVENTS") or None
        self.resume = os.environ.get("PYODIDE_TEST_RESUME") or None
        self.testdir = None
        self.tmp_dir = None
        self.random_seed = 0
        self.capture = True
        self.list_only = False
        self.stack_tests = bool(os.environ.get("PYODIDE_TEST_STACK_TESTS"))


def parse_args(argv):
    o = Options()
    it = iter(argv)
    use_specs = []

    def value(flag):
        try:
            return next(it)
        except StopIteration:
            raise SystemExit(f"cpython_driver: {flag} needs a value\n{USAGE}")

    for arg in it:
        key, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        get = (lambda: inline) if eq else (lambda k=key: value(k))
        if key in ("-h", "--help"):
            print(USAGE)
            raise SystemExit(0)
        elif key in ("-u", "--use"):
            use_specs.append(get())
        elif key.startswith("-u") and len(key) > 2:
            use_specs.append(key[2:])
        elif key in ("-v", "--verbose"):
            o.verbose += 1
        elif key in ("-m", "--match"):
            o.match.append((get(), True))
        elif key in ("-i", "--ignore"):
            o.match.append((get(), False))
        elif key == "-k":
            o.substring = get()
        elif key == "--events":
            o.events = get()
        elif key == "--resume":
            o.resume = get()
        elif key == "--testdir":
            o.testdir = get()
        elif key == "--tmp-dir":
            o.tmp_dir = get()
        elif key == "--random-seed":
            o.random_seed = int(get())
        elif key == "--no-capture":
            o.capture = False
        elif key == "--list":
            o.list_only = True
        elif key == "--stack-tests":
            o.stack_tests = True
        elif arg.startswith("-"):
            raise SystemExit(f"cpython_driver: unknown option {arg}\n{USAGE}")
        elif o.test is None:
            o.test = arg
        else:
            raise SystemExit("cpython_driver: one test module per run")
    if o.test is None:
        raise SystemExit(f"cpython_driver: which test module?\n{USAGE}")
    o.use = resources(use_specs)
    return o


def resources(specs):
    """regrtest's -u: a comma list of names, `all`, `none`, `-name`."""
    use = []
    for spec in specs:
        for r in (x.strip().lower() for x in spec.split(",")):
            if not r:
                continue
            if r == "all":
                use[:] = list(ALL_RESOURCES)
            elif r == "none":
                del use[:]
            elif r.startswith("-"):
                if r[1:] in use:
                    use.remove(r[1:])
            elif r in ALL_RESOURCES + EXTRA_RESOURCES:
                if r not in use:
                    use.append(r)
            else:
                raise SystemExit(f"cpython_driver: invalid resource {r!r}")
    return use


def _id_matcher(patterns, substring):
    """A predicate on test ids from -m/-i (regrtest's semantics: a pattern with
    a dot and no wildcard is a full id; else fnmatch on the id or any of its
    dotted parts; the last matching pattern decides) and -k."""
    import fnmatch

    compiled = []
    for pat, include in patterns:
        if "." in pat and not re.search(r"[?*\[\]]", pat):
            compiled.append((lambda tid, p=pat: tid == p, include))
        else:
            rx = re.compile(fnmatch.translate(pat)).match
            compiled.append((lambda tid, rx=rx: bool(rx(tid)) or any(map(rx, tid.split("."))), include))

    def keep(tid):
        if substring and substring not in tid:
            return False
        if not compiled:
            return True
        for match, include in reversed(compiled):
            if match(tid):
                return include
        # No pattern matched: kept only if the patterns were all exclusions.
        return not any(inc for _, inc in compiled)

    return keep


def read_rules(path, module):
    """The plan's rules (skips, or isolations) for `module` (``test.test_x``
    or a submodule of a test package): a function from a test id to the
    reason given for it, or None. Each line is "MODULE<TAB>PATTERN<TAB>reason"
    and applies only when MODULE is the running module's top-level test
    module; a pattern matches as regrtest's -m does (a full id, or fnmatch
    on the id or a dotted part)."""
    if not path:
        return lambda tid: None
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 and parts[0] == "test" else parts[0]
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\n").split("\t", 2) for line in f if line.strip()]
    except OSError:
        return lambda tid: None
    rules = [(_id_matcher([(p[1], True)], None), p[2] if len(p) > 2 else "skipped by the plan")
             for p in lines if len(p) > 1 and p[0] == top]

    def reason(tid):
        for matches, why in rules:
            if matches(tid):
                return why
        return None

    return reason


def read_resume(path):
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8") as f:
            return {line.rstrip("\n") for line in f if line.strip()}
    except OSError:
        return set()


# ---------------------------------------------------------------------------
# Collection


def flatten(suite):
    for t in suite:
        if isinstance(t, unittest.TestSuite) or _iterable(t):
            yield from flatten(t)
        else:
            yield t


def _iterable(obj):
    try:
        iter(obj)
    except TypeError:
        return False
    return True


def test_id(test):
    """The unittest id, with the loader's stand-ins named by their module:
    a submodule that raised SkipTest at import is `test.test_x.test_y`."""
    cls = type(test)
    if cls.__name__ == "ModuleSkipped" and cls.__module__ == "unittest.loader":
        return test._testMethodName
    return test.id()


def failed_test_message(exc):
    """The loader wraps an import failure as ImportError("Failed to import test
    module: NAME\n<traceback>"): its last line is the message. Other stand-ins
    (a failing load_tests) keep the original exception."""
    text = str(exc).strip()
    if isinstance(exc, ImportError) and text.startswith("Failed to import test module:"):
        lines = [l for l in text.splitlines() if l.strip() and not l.startswith(" ")]
        return _short(lines[-1]) if lines else "ImportError"
    return _short(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def is_failed_import(test):
    return isinstance(test, unittest.loader._FailedTest)


# ---------------------------------------------------------------------------
# Running


class Record:
    __slots__ = ("id", "outcome", "message", "sub", "sub_message", "t0",
                 "sub_passed", "sub_skipped")

    def __init__(self, tid):
        self.id = tid
        self.outcome = None
        self.message = ""
        self.sub = None
        self.sub_message = ""
        self.sub_passed = 0
        self.sub_skipped = None  # reason of the first skipped subtest
        self.t0 = time.perf_counter()

    def set(self, outcome, message=""):
        if self.outcome is None or SEVERITY[outcome] > SEVERITY[self.outcome]:
            self.outcome = outcome
            self.message = message

    def set_sub(self, outcome, message):
        if self.sub is None or SEVERITY[outcome] > SEVERITY[self.sub]:
            self.sub = outcome
            self.sub_message = message

    def final(self):
        outcome, message = self.outcome, self.message
        if self.sub is not None and (outcome is None or SEVERITY[self.sub] > SEVERITY[outcome]):
            outcome, message = self.sub, self.sub_message
        if outcome is None and self.sub_skipped is not None:
            # unittest reports no outcome for a test whose subtests skipped:
            # passed if some subtest passed, else skipped.
            if self.sub_passed:
                outcome = "passed"
            else:
                outcome, message = "skipped", self.sub_skipped
        if outcome is None:
            outcome, message = "error", "the test reported no outcome"
        return outcome, message


class Driver:
    def __init__(self, events, ids, capture):
        self.events = events
        self.ids = ids  # test object id() -> reported test id
        self.capture = capture
        self.current = None  # Record of the test in flight
        self.fixture_errors = {}  # ("setUpClass", "test.x.C") -> (outcome, message)
        self.counts = {k: 0 for k in SEVERITY}
        self.saved_streams = None
        self.buffer = None

    # Capture of the test's output, from its start to its result.
    def _capture_start(self):
        if not self.capture:
            return
        for s in (sys.stdout, sys.stderr):
            try:
                s.flush()
            except Exception:
                pass
        self.saved_streams = (sys.stdout, sys.stderr)
        self.buffer = io.StringIO()
        sys.stdout = sys.stderr = self.buffer

    def _capture_end(self):
        if self.saved_streams is None:
            return ""
        sys.stdout, sys.stderr = self.saved_streams
        self.saved_streams = None
        text, self.buffer = self.buffer.getvalue(), None
        return text

    def begin(self, test):
        tid = self.ids.get(id(test)) or test_id(test)
        self.current = Record(tid)
        self.events.emit(ev="start", id=tid)
        self._capture_start()

    def finish(self):
        rec, self.current = self.current, None
        if rec is None:
            return
        output = self._capture_end()
        outcome, message = rec.final()
        duration = round(time.perf_counter() - rec.t0, 6)
        self.counts[outcome] += 1
        if output and outcome in BAD:
            sys.stderr.write(f"----- output of {rec.id} ({outcome}) -----\n{output}")
            if not output.endswith("\n"):
                sys.stderr.write("\n")
            sys.stderr.flush()
        self.events.emit(ev="result", id=rec.id, outcome=outcome,
                         duration=duration, message=message)

    def not_run(self, test, class_failed):
        """The class's or module's setUp failed (or skipped): the test did not
        run; it gets the fixture's outcome and message."""
        cls = type(test)
        key = ("setUpClass", unittest.util.strclass(cls)) if class_failed else ("setUpModule", cls.__module__)
        outcome, message = self.fixture_errors.get(key, ("error", f"{key[0]} failed"))
        if self.current is not None:
            self.current.set(outcome, message)
        self.finish()

    def fixture(self, holder, outcome, message):
        """An _ErrorHolder: a class/module fixture failed or skipped."""
        m = FIXTURE_RE.match(holder.description)
        if m and m.group(1).startswith("setUp"):
            self.fixture_errors.setdefault((m.group(1), m.group(2)), (outcome, message))
            return
        # tearDownClass / tearDownModule (or an unknown holder): a record of
        # its own, `test.x.C.tearDownClass`, emitted now.
        tid = f"{m.group(2)}.{m.group(1)}" if m else holder.description
        self.counts[outcome] += 1
        self.events.emit(ev="result", id=tid, outcome=outcome, duration=0.0, message=message)


class DriverResult(unittest.TestResult):
    def __init__(self, driver):
        super().__init__()
        self.driver = driver
        self.failfast = False
        self.buffer = False

    def _record(self, test):
        rec = self.driver.current
        if rec is None:
            # A test the suite did not announce (should not happen): open one.
            self.driver.begin(test)
            rec = self.driver.current
        return rec

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test).set("passed")

    def addError(self, test, err):
        super().addError(test, err)
        if isinstance(test, unittest.suite._ErrorHolder):
            self.driver.fixture(test, "error", _exc_message(err))
        else:
            self._record(test).set("error", _exc_message(err))

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test).set("failed", _exc_message(err))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        if isinstance(test, unittest.suite._ErrorHolder):
            self.driver.fixture(test, "skipped", _short(reason))
        elif isinstance(test, unittest.case._SubTest):
            rec = self._record(test.test_case)
            if rec.sub_skipped is None:
                rec.sub_skipped = f"{test._subDescription()}: {_short(reason)}"
        else:
            self._record(test).set("skipped", _short(reason))

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test).set("xfailed", _exc_message(err))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test).set("xpassed", "unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is None:
            self._record(test).sub_passed += 1
        else:
            failure = issubclass(err[0], test.failureException)
            self._record(test).set_sub("failed" if failure else "error",
                                       f"{subtest._subDescription()}: {_exc_message(err)}")


class DriverSuite(unittest.TestSuite):
    """Runs a flat list of tests with unittest's fixture protocol, announcing
    each test before its module's and class's set-up (so a crash in
    ``setUpClass`` is attributed to the first test of the class)."""

    def __init__(self, tests, driver, isolated=frozenset()):
        super().__init__()
        self._flat = list(tests)
        self._driver = driver
        # The tests (their ids) that run alone in their guest.
        self._isolated = isolated

    def _fresh_guest(self):
        """End this guest: the runner goes on with the module's remaining
        tests in a fresh one. No fixture's tear-down runs: the guest, and
        all it holds, is discarded."""
        for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                s.flush()
            except Exception:
                pass
        os._exit(FRESH_GUEST)

    def run(self, result, debug=False):
        d = self._driver
        result._testRunEntered = True
        ran = False
        last = len(self._flat) - 1
        for index, test in enumerate(self._flat):
            if result.shouldStop:
                break
            alone = d.ids.get(id(test)) in self._isolated
            if alone and ran:
                # Not after what other tests did to this guest.
                self._fresh_guest()
            self._tearDownPreviousClass(test, result)
            d.begin(test)
            self._handleModuleFixture(test, result)
            self._handleClassSetUp(test, result)
            result._previousTestClass = type(test)
            module_failed = getattr(result, "_moduleSetUpFailed", False)
            class_failed = getattr(type(test), "_classSetupFailed", False)
            if module_failed or class_failed:
                d.not_run(test, class_failed and not module_failed)
            else:
                test(result)
                d.finish()
            self._flat[index] = None  # free it, as unittest's _cleanup does
            ran = True
            if alone and index < last and not result.shouldStop:
                # Nothing after it in what it did to this guest.
                self._fresh_guest()
        self._tearDownPreviousClass(None, result)
        self._handleModuleTearDown(result)
        result._testRunEntered = False
        return result


# ---------------------------------------------------------------------------
# Set-up, as regrtest does for one test module in a worker


def find_testdir(explicit):
    if explicit:
        return os.path.abspath(explicit)
    for entry in sys.path:
        base = os.path.abspath(entry or os.getcwd())
        if os.path.isfile(os.path.join(base, "test", "support", "__init__.py")):
            return base
    return "/lib/cpython-tests"


def setup_process(testdir):
    if testdir not in sys.path:
        sys.path.insert(0, testdir)
    # Packages imported so far must not depend on the cwd (we chdir below).
    for module in list(sys.modules.values()):
        path = getattr(module, "__path__", None)
        if path is not None and isinstance(path, list):
            for i, p in enumerate(path):
                path[i] = os.path.abspath(p)
        f = getattr(module, "__file__", None)
        if isinstance(f, str):
            try:
                module.__file__ = os.path.abspath(f)
            except Exception:
                pass

    from test import support
    from test.support import os_helper

    try:
        import faulthandler
        faulthandler.enable(all_threads=True, file=sys.__stderr__.fileno())
    except Exception:
        pass
    support.record_original_stdout(sys.stdout)
    try:
        sys.stdout.reconfigure(errors="backslashreplace")
    except Exception:
        pass
    if hasattr(sys, "addaudithook"):
        sys.addaudithook(lambda name, args: None)
    # regrtest keeps a non-ASCII variable in the environment for all tests.
    guard = "PYTHONREGRTEST_UNICODE_GUARD"
    if os_helper.TESTFN_UNDECODABLE and os.supports_bytes_environ:
        os.environb.setdefault(guard.encode(), os_helper.TESTFN_UNDECODABLE)
    elif os_helper.FS_NONASCII:
        os.environ.setdefault(guard, os_helper.FS_NONASCII)
    return support, os_helper


def setup_tests(support, opts):
    import random

    support.verbose = opts.verbose
    support.failfast = False
    support.PGO = False
    support.PGO_EXTENDED = False
    support.junit_xml_list = None
    support.use_resources = list(opts.use)
    random.seed(opts.random_seed)
    # Deterministic tempfile names (messages quote paths like /tmp/qi_7_hv7):
    # tempfile's shared name sequence gets a seeded generator for this process.
    try:
        import tempfile
        seq = tempfile._get_candidate_names()
        seq._rng = random.Random(opts.random_seed)
        seq._rng_pid = os.getpid()
    except Exception:
        pass
    if opts.stack_tests:
        # Tests that exhaust V8's stack under Emscripten: run them anyway.
        support.skip_emscripten_stack_overflow = lambda: (lambda obj: obj)


def clear_caches():
    for mod in list(sys.modules.values()):
        if hasattr(mod, "__warningregistry__"):
            try:
                del mod.__warningregistry__
            except Exception:
                pass
    for name, attr in (("re", "purge"),):
        mod = sys.modules.get(name)
        if mod is not None:
            getattr(mod, attr)()


def remove_testfn(os_helper):
    name = os_helper.TESTFN
    try:
        if os.path.isdir(name):
            import shutil
            shutil.rmtree(name, ignore_errors=True)
        elif os.path.lexists(name):
            os.unlink(name)
    except OSError:
        pass


def module_name(test):
    return test if test.startswith("test.") else "test." + test


def run(opts):
    events = Events(opts.events)
    testdir = find_testdir(opts.testdir)
    support, os_helper = setup_process(testdir)
    setup_tests(support, opts)

    import random
    import tempfile

    tmp_dir = os.path.abspath(opts.tmp_dir or tempfile.gettempdir())
    os.makedirs(tmp_dir, exist_ok=True)
    # regrtest's worker directory name: a random nonce on Emscripten/WASI,
    # plus a non-ASCII character when the file system encoding has one.
    work_dir = os.path.join(
        tmp_dir, f"test_python_worker_{random.randint(0, 1_000_000)}{os_helper.FS_NONASCII}")
    random.seed(opts.random_seed)  # the nonce must not shift the tests' seed
    name = module_name(opts.test)
    with os_helper.temp_cwd(work_dir, quiet=True):
        return run_module(name, opts, events, support, os_helper)


def run_module(name, opts, events, support, os_helper):
    import importlib

    clear_caches()
    support.gc_collect()
    try:
        mod = importlib.import_module(name)
    except unittest.SkipTest as exc:  # includes support.ResourceDenied
        events.emit(ev="collected", ids=[name])
        events.emit(ev="start", id=name)
        events.emit(ev="result", id=name, outcome="skipped", duration=0.0, message=_short(exc))
        events.emit(ev="done", status=0)
        return 0
    except KeyboardInterrupt:
        raise
    except BaseException:
        traceback.print_exc()
        events.emit(ev="collect_error", id=name, message=_exc_message(sys.exc_info()))
        events.emit(ev="done", status=2)
        return 2

    if hasattr(mod, "test_main"):
        # regrtest (3.13+) refuses these too.
        msg = f"Module {name} defines test_main() which is no longer supported by regrtest"
        events.emit(ev="collect_error", id=name, message=msg)
        events.emit(ev="done", status=2)
        return 2

    loader = unittest.TestLoader()
    try:
        suite = loader.loadTestsFromModule(mod)
    except BaseException:
        traceback.print_exc()
        events.emit(ev="collect_error", id=name, message=_exc_message(sys.exc_info()))
        events.emit(ev="done", status=2)
        return 2
    for error in loader.errors:
        print(error, file=sys.stderr)

    done = read_resume(opts.resume)
    planned = read_rules(os.environ.get("PYODIDE_TEST_SKIP"), name)
    keep = _id_matcher(opts.match, opts.substring)
    tests, ids, collected, seen = [], {}, [], {}
    plan_skipped = []
    collect_errors = 0
    for test in flatten(suite):
        if is_failed_import(test):
            # A submodule that failed to import, or a failing load_tests.
            tid = test._testMethodName
            events.emit(ev="collect_error", id=tid, message=failed_test_message(test._exception))
            collect_errors += 1
            continue
        tid = test_id(test)
        n = seen.get(tid, 0) + 1
        seen[tid] = n
        if n > 1:
            tid = f"{tid}#{n}"  # the same test loaded twice: keep ids unique
        if tid in done or not keep(tid):
            continue
        why = planned(tid)
        if why is not None:
            plan_skipped.append((tid, why))
            collected.append(tid)
            continue
        ids[id(test)] = tid
        tests.append(test)
        collected.append(tid)
    del suite
    events.emit(ev="collected", ids=collected)
    if opts.list_only:
        events.emit(ev="done", status=0)
        return 0
    for tid, why in plan_skipped:
        events.emit(ev="start", id=tid)
        events.emit(ev="result", id=tid, outcome="skipped", duration=0.0,
                    message=_short("plan: " + why))

    isolation = read_rules(os.environ.get("PYODIDE_TEST_ISOLATE"), name)
    isolated = frozenset(tid for tid in ids.values() if isolation(tid) is not None)
    driver = Driver(events, ids, opts.capture)
    result = DriverResult(driver)
    runner_suite = DriverSuite(tests, driver, isolated)
    del tests
    try:
        runner_suite.run(result)
    finally:
        if driver.current is not None:  # an exception escaped the loop
            driver.current.set("error", _exc_message(sys.exc_info()) or "interrupted")
            driver.finish()
        support.gc_collect()
        remove_testfn(os_helper)
    bad = sum(driver.counts[k] for k in BAD)
    status = 1 if bad else (2 if collect_errors else 0)
    events.emit(ev="done", status=status)
    counts = ", ".join(f"{v} {k}" for k, v in driver.counts.items() if v)
    print(f"{name}: {counts or 'no tests'}"
          + (f", {collect_errors} collect errors" if collect_errors else ""),
          file=sys.stderr)
    return status


def main(argv=None):
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    status = run(opts)
    sys.stdout.flush()
    sys.stderr.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
