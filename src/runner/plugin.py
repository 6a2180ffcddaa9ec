"""pyodide-test's pytest plugin: reports every test to the host as it happens.

Loaded with ``-p _pyodide_test_plugin``. Events are JSON objects, one per
line, written to the event device that ``PYODIDE_TEST_EVENTS`` names (the
runner's channel, apart from stdout and stderr: nothing a test prints, and
no ``dup2`` over or closing of fds 1 and 2, reaches it). The device is
opened on a high descriptor; if a test closes it anyway, it is opened
again. Without ``PYODIDE_TEST_EVENTS`` (running the plugin by hand) events
go to a copy of fd 1. Events:

- ``{"ev": "collected", "ids": [...]}``: the tests that will run.
- ``{"ev": "start", "id": ...}``: a test begins (setup).
- ``{"ev": "result", "id", "outcome", "duration", "message"}``: it ended.
- ``{"ev": "collect_error", "id", "message"}``: a file (or other
  collector) failed to collect.
- ``{"ev": "done"}``: the session finished.
- ``{"ev": "pyc", "source", "pyc", "data"}``: pytest rewrote ``source``;
  ``data`` (base64) is the ``pyc`` pytest would have written (the guest's
  CPython writes no bytecode); the runner keeps it for the next run, which places it in ``/tmp/.pyodide-test-rewritten`` (see the
  runner's ``rewritten.rs``), and the other modules pytest rewrote
  (plugins', conftests) in ``/tmp/.pyodide-test-rewritten-early``. The
  tables are read, their modules written where pytest looks for them, and
  removed: the second as this plugin is imported, the first at
  ``pytest_configure``.

``PYODIDE_TEST_RESUME`` names a file of node ids (one a line) that already
have a result; they are deselected silently (a fresh guest resuming a file
after a crash).
"""

import glob
import json
import os
import sys

import pytest

_PATH = os.environ.get("PYODIDE_TEST_EVENTS")

# Out of the way of tests that close or reuse low descriptors.
_HIGH_FD = 900


def _open_channel():
    fd = os.open(_PATH, os.O_WRONLY) if _PATH else os.dup(1)
    try:
        import fcntl

        high = fcntl.fcntl(fd, fcntl.F_DUPFD, _HIGH_FD)
        os.close(fd)
        fd = high
    except (ImportError, OSError):
        pass
    os.set_inheritable(fd, False)
    return fd


_FD = _open_channel()


def _emit(**event):
    global _FD
    data = (json.dumps(event) + "\n").encode()
    reopened = False
    while data:
        try:
            n = os.write(_FD, data)
        except OSError:
            if not _PATH or reopened:
                raise
            # A test closed (or replaced) our descriptor: open it again.
            _FD = _open_channel()
            reopened = True
            continue
        data = data[n:]


def _short(text, limit=300):
    text = str(text).strip()
    line = text.splitlines()[0] if text else ""
    if len(line) > limit:
        line = line[: limit - 3] + "..."
    return line


def _resume_ids():
    path = os.environ.get("PYODIDE_TEST_RESUME")
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8") as f:
            return {line.rstrip("\n") for line in f if line.strip()}
    except OSError:
        return set()


def _scope(item):
    """What keeps tests together when a file is split: their class, else
    their function (its parametrizations)."""
    for node in item.listchain()[::-1]:
        if isinstance(node, pytest.Class):
            return node.nodeid
    parent = item.parent.nodeid if item.parent is not None else ""
    return (parent, getattr(item, "originalname", None) or item.name)


def _part(items):
    """The items of this job's part (``PYODIDE_TEST_PART=K/N``) of its
    file: the file's tests in N contiguous runs, cut where the runner says
    (``PYODIDE_TEST_PART_CUTS``: by the tests' times in an earlier run),
    else of about as many tests, never splitting a class or a function's
    parametrizations; the runner gives the parts to different workers.
    All of them without a part."""
    spec = os.environ.get("PYODIDE_TEST_PART")
    if not spec:
        return items
    k, n = (int(x) for x in spec.split("/"))
    cuts = os.environ.get("PYODIDE_TEST_PART_CUTS")
    if cuts:
        # Cut by the tests' times (the runner's choice), when every cut is
        # still a test here, in order: every part decides alike.
        index = {item.nodeid: i for i, item in enumerate(items)}
        starts = [index.get(c) for c in cuts.split("\n")]
        if len(starts) == n - 1 and None not in starts and starts == sorted(starts):
            bounds = [0] + starts + [len(items)]
            return items[bounds[k - 1] : bounds[k]]
    kept = []
    last, start = None, 0
    for index, item in enumerate(items):
        scope = _scope(item)
        if scope != last:
            last, start = scope, index
        # A run of one scope belongs to the part its first test falls in.
        if start * n // max(len(items), 1) == k - 1:
            kept.append(item)
    return kept


def _longrepr_message(report):
    """The failure's message: the exception line, else the last line."""
    lr = report.longrepr
    if lr is None:
        return ""
    if isinstance(lr, tuple) and len(lr) == 3:
        return _short(lr[2])
    crash = getattr(lr, "reprcrash", None)
    if crash is not None and getattr(crash, "message", None):
        return _short(crash.message)
    text = str(lr).strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return _short(lines[-1]) if lines else ""


def _skip_reason(report):
    lr = report.longrepr
    if isinstance(lr, tuple) and len(lr) == 3:
        reason = str(lr[2])
    else:
        reason = str(lr or "")
    if reason.startswith("Skipped: "):
        reason = reason[len("Skipped: ") :]
    return _short(reason)


def _emit_collect_skip(nodeid, reason):
    """A collector skipped whole, recorded as one skipped test under its
    id (see ``_Tracker.collect_skips``)."""
    _emit(ev="result", id=nodeid, outcome="skipped", duration=0.0, message=reason)


def _forget_args_skipped(session, skips):
    """pytest given a file by name below a collector skipped whole (a
    directory whose ``conftest.py`` skips) finds no collector for the file
    and ends the session with a usage error. Given the directory, as its
    users run it, it reports the directory skipped and goes on: so do we,
    each of our jobs naming its file. Called with the session's own
    collect report, just before pytest looks at what it did not find."""
    notfound = getattr(session, "_notfound", None)
    if not notfound:
        return
    root = str(session.config.rootpath)
    skipped = [
        os.path.normpath(os.path.join(root, nodeid.split("::")[0])) for nodeid, _ in skips
    ]

    def below_skipped(arg):
        path = os.path.normpath(str(arg).split("::")[0])
        return any(path == s or path.startswith(s.rstrip(os.sep) + os.sep) for s in skipped)

    notfound[:] = [entry for entry in notfound if not below_skipped(entry[0])]


# While pytest loads its initial conftests: the directories whose conftests
# pytest run as its users run it (in the rootdir, no arguments: over its
# ``testpaths``, else the rootdir) loads before it collects. A conftest
# there that skips ends that pytest before any test; one elsewhere skips
# its directory when collection comes to it.
_users_initial_dirs = None
# The directory of the conftest whose import just raised Skipped.
_skipping_conftest = []


def _user_anchors(config):
    """Where pytest run as its users run it (in the rootdir, no arguments)
    starts collecting: its ``testpaths``, else the rootdir (normalised
    absolute paths)."""
    root = str(config.rootpath)
    try:
        testpaths = config.getini("testpaths") or []
    except (ValueError, KeyError):
        testpaths = []
    anchors = []
    if not config.known_args_namespace.pyargs:
        for pattern in testpaths:
            anchors.extend(sorted(glob.glob(os.path.join(root, pattern), recursive=True)))
    return [os.path.normpath(a) for a in anchors if os.path.exists(a)] or [os.path.normpath(root)]


def _initial_conftest_dirs(config):
    anchors = _user_anchors(config)
    # pytest also takes the conftests of an anchor's test* subdirectories.
    for anchor in list(anchors):
        if os.path.isdir(anchor):
            anchors.extend(
                p for p in sorted(glob.glob(os.path.join(anchor, "test*"))) if os.path.isdir(p)
            )
    dirs = set()
    for anchor in anchors:
        d = os.path.normpath(anchor if os.path.isdir(anchor) else os.path.dirname(anchor))
        while True:
            dirs.add(d)
            parent = os.path.dirname(d)
            if parent == d:
                break
            d = parent
    return dirs


def _tolerate_skipping_conftests():
    """Our jobs name their files, so pytest loads the conftests of each
    file's directories before collecting; one that skips (a conftest's
    ``pytest.importorskip``) would end the session. Where pytest run as its
    users run it would meet that conftest only while collecting, the skip
    is left for collection: it loads the conftest again there, and reports
    its directory skipped."""
    try:
        from _pytest.config import PytestPluginManager
        from _pytest.outcomes import Skipped

        load = PytestPluginManager._loadconftestmodules
        import_conftest = PytestPluginManager._importconftest
    except (ImportError, AttributeError):
        return

    def _importconftest(self, conftestpath, *args, **kwargs):
        try:
            return import_conftest(self, conftestpath, *args, **kwargs)
        except Skipped:
            _skipping_conftest.append(os.path.normpath(str(conftestpath.parent)))
            raise

    def _loadconftestmodules(self, path, *args, **kwargs):
        _skipping_conftest.clear()
        try:
            return load(self, path, *args, **kwargs)
        except Skipped:
            dirs = _users_initial_dirs
            if dirs is None or not _skipping_conftest or _skipping_conftest[-1] in dirs:
                raise
            # Nothing is remembered for `path`: collection loads it again.
            return None

    PytestPluginManager._importconftest = _importconftest
    PytestPluginManager._loadconftestmodules = _loadconftestmodules


_tolerate_skipping_conftests()


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """While pytest loads its initial conftests, skips are tolerated
    outside ``_users_initial_dirs`` (see _tolerate_skipping_conftests)."""
    global _users_initial_dirs
    _users_initial_dirs = _initial_conftest_dirs(early_config)
    try:
        yield
    finally:
        _users_initial_dirs = None


def _ignored_by_collection(session, arg, anchors):
    """Whether pytest run as its users run it would leave out the file
    ``arg``: ``pytest_ignore_collect`` (a conftest's ``collect_ignore`` or
    ``collect_ignore_glob``, ``--ignore``, ``norecursedirs``, a plugin's or
    conftest's own) says so for it or for a directory between it and where
    that pytest starts. pytest asks none of this of a path named on its
    command line, as each of our jobs names its file."""
    from pathlib import Path

    if "::" in arg:
        return False
    path = os.path.normpath(os.path.abspath(arg))
    if not os.path.isfile(path):
        return False
    config = session.config
    if path in anchors:
        return False
    above = [a for a in anchors if path.startswith(a.rstrip(os.sep) + os.sep)]
    top = max(above, key=len) if above else os.path.dirname(path)
    chain = []
    p = path
    while len(p) > len(top):
        chain.append(p)
        p = os.path.dirname(p)
    pm = config.pluginmanager
    load = getattr(pm, "_loadconftestmodules", None)
    for p in reversed(chain):
        directory = Path(os.path.dirname(p))
        if load is not None:
            # The directory's conftests, as collecting it loads them (pytest
            # loaded the modules with the initial conftests already).
            try:
                try:
                    load(
                        directory,
                        config.getoption("importmode"),
                        rootpath=config.rootpath,
                        consider_namespace_packages=config.getini("consider_namespace_packages"),
                    )
                except TypeError:
                    load(directory, config.getoption("importmode"), rootpath=config.rootpath)
            except (Exception, pytest.skip.Exception):
                # Collection meets it again and reports it.
                return False
        try:
            ihook = session.gethookproxy(directory)
            if ihook.pytest_ignore_collect(collection_path=Path(p), config=config):
                return True
        except Exception:
            # A hook that fails here (an older pytest's, say) leaves the
            # file to pytest, as before.
            return False
    return False


def _check_package_origin():
    """The package under test must be the installed wheel's (site-packages),
    never a copy of its sources beside the tests: ``PYODIDE_TEST_PACKAGE``
    names its top-level modules; one imported from elsewhere is a
    collection error of the file."""
    import site
    import sys

    names = [n for n in os.environ.get("PYODIDE_TEST_PACKAGE", "").split(",") if n]
    roots = [os.path.realpath(p) for p in site.getsitepackages()]
    for name in names:
        module = sys.modules.get(name)
        where = getattr(module, "__file__", None)
        if module is None or where is None:
            continue
        where = os.path.realpath(where)
        if not any(where.startswith(r + os.sep) for r in roots):
            _emit(
                ev="collect_error",
                id="",
                message=f"the package under test was imported from {where}, "
                "not from the installed wheel in site-packages",
            )


class _Tracker:
    def __init__(self):
        self.state = {}
        # (node id, message) of every collector that failed to collect.
        self.collect_failures = []
        # (node id, reason) of every collector skipped whole: a module that
        # calls ``pytest.skip(..., allow_module_level=True)`` or a
        # module-level ``pytest.importorskip`` that misses. pytest counts
        # each as one skipped in its summary (and its JUnit XML as one
        # skipped testcase); so do we, under the collector's id.
        self.collect_skips = []
        # The collected items by file (see index_items).
        self.items_by_path = None
        # Every test file this zygote collected, items or not (index_items).
        self.suite_files = frozenset()
        # The session (pytest_sessionstart).
        self.session = None

    def index_items(self, session):
        """In a zygote that collected the whole suite, before it forks:
        the items by file (in collection order), so that each child keeps
        its file's without going over every item of the suite, and without
        copying the pages they live on (pydantic-core: 6,108 items, about
        22 ms a child)."""
        by_path = {}
        for index, item in enumerate(session.items):
            by_path.setdefault(os.path.normpath(str(item.path)), []).append((index, item))
        self.items_by_path = by_path
        # Files whose tests were all deselected (-k, -m) or that have none
        # are the suite's too, each its own child's.
        self.suite_files = frozenset(
            os.path.normpath(os.path.abspath(str(a).split("::")[0]))
            for a in session.config.args
        ) | by_path.keys()

    def narrow(self, session, files):
        """In a child of a zygote that collected the whole suite: keep the
        tests of ``files`` (absolute paths) and their collection errors, as
        if pytest had been given these files alone, and report them."""
        config = session.config
        root = str(config.rootpath)
        wanted = {os.path.normpath(f.split("::")[0]) for f in files}

        def applies(nodeid):
            # A failed collector of one of the files, of a directory above
            # one (a conftest, a package's __init__), or of the session.
            path = nodeid.split("::")[0]
            if not path:
                return True
            full = os.path.normpath(os.path.join(root, path))
            prefix = full.rstrip(os.sep) + os.sep
            return any(f == full or f.startswith(prefix) for f in wanted)

        if self.items_by_path is None:
            self.index_items(session)
        by_path = self.items_by_path
        global _report_only
        _report_only = (wanted, self.suite_files, frozenset(_fresh))
        failures = [(i, m) for i, m in self.collect_failures if applies(i)]
        resume = _resume_ids()
        kept = sorted(
            (pair for path in wanted for pair in by_path.get(path, ())),
            key=lambda pair: pair[0],
        )
        part = _part([item for _, item in kept])
        session.items[:] = [item for item in part if item.nodeid not in resume]
        session.testscollected = len(session.items)
        session.testsfailed = len(failures)
        session.shouldstop = False
        maxfail = config.getvalue("maxfail")
        session.shouldfail = (
            f"stopping after {len(failures)} failures"
            if maxfail and len(failures) >= maxfail
            else False
        )
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None and "error" in reporter.stats:
            reporter.stats["error"] = [
                r for r in reporter.stats["error"] if applies(getattr(r, "nodeid", ""))
            ]
        for nodeid, message in failures:
            _emit(ev="collect_error", id=nodeid, message=message)
        for nodeid, reason in self.collect_skips:
            if applies(nodeid):
                _emit_collect_skip(nodeid, reason)
        _check_package_origin()
        _emit(ev="collected", ids=[item.nodeid for item in session.items])

    def pytest_collection_modifyitems(self, session, config, items):
        # Read here, not at configuration: a zygote configures pytest once
        # for every file, and a resumed job's list comes with the job.
        # The other parts' tests are not this job's: not deselected (nothing
        # reports them), as if never collected.
        items[:] = _part(items)
        resume = _resume_ids()
        if not resume:
            return
        keep, drop = [], []
        for item in items:
            (drop if item.nodeid in resume else keep).append(item)
        if drop:
            items[:] = keep

    def pytest_collection_finish(self, session):
        _check_package_origin()
        _emit(ev="collected", ids=[item.nodeid for item in session.items])

    def pytest_sessionstart(self, session):
        self.session = session

    def pytest_collectreport(self, report):
        if report.skipped and report.nodeid:
            reason = _skip_reason(report)
            self.collect_skips.append((report.nodeid, reason))
            _emit_collect_skip(report.nodeid, reason)
        if not report.nodeid and self.collect_skips and self.session is not None:
            _forget_args_skipped(self.session, self.collect_skips)
        if report.failed:
            message = _longrepr_message(report)
            self.collect_failures.append((report.nodeid, message))
            _emit(ev="collect_error", id=report.nodeid, message=message)

    def pytest_runtest_logstart(self, nodeid, location):
        self.state[nodeid] = {"outcome": None, "duration": 0.0, "message": ""}
        _emit(ev="start", id=nodeid)

    def pytest_runtest_logreport(self, report):
        st = self.state.setdefault(
            report.nodeid, {"outcome": None, "duration": 0.0, "message": ""}
        )
        st["duration"] += getattr(report, "duration", 0.0) or 0.0
        wasxfail = getattr(report, "wasxfail", None)
        if report.when == "call":
            if wasxfail is not None:
                if report.skipped:
                    st["outcome"] = "xfailed"
                    st["message"] = _short(wasxfail)
                elif report.passed:
                    st["outcome"] = "xpassed"
                    st["message"] = _short(wasxfail)
                else:
                    st["outcome"] = "failed"
                    st["message"] = _longrepr_message(report)
            elif report.passed:
                st["outcome"] = "passed"
            elif report.skipped:
                st["outcome"] = "skipped"
                st["message"] = _skip_reason(report)
            else:
                st["outcome"] = "failed"
                st["message"] = _longrepr_message(report)
                if "[XPASS(strict)]" in str(report.longrepr or ""):
                    st["outcome"] = "xpassed"
        elif report.when == "setup":
            if report.skipped:
                if wasxfail is not None:
                    st["outcome"] = "xfailed"
                    st["message"] = _short(wasxfail)
                else:
                    st["outcome"] = "skipped"
                    st["message"] = _skip_reason(report)
            elif report.failed:
                st["outcome"] = "error"
                st["message"] = _longrepr_message(report)
        elif report.when == "teardown":
            if report.failed and st["outcome"] in (None, "passed", "skipped"):
                st["outcome"] = "error"
                st["message"] = _longrepr_message(report)

    def pytest_runtest_logfinish(self, nodeid, location):
        st = self.state.pop(nodeid, None) or {}
        _emit(
            ev="result",
            id=nodeid,
            outcome=st.get("outcome") or "error",
            duration=round(st.get("duration", 0.0), 6),
            message=st.get("message", ""),
        )

    def finish(self, exitstatus):
        """The file's session is over: say so, and report what pytest
        rewrote (see the module's ``pytest_sessionfinish``)."""
        _emit(ev="done", status=int(exitstatus))
        _report_rewritten()


_TABLE = "/tmp/.pyodide-test-rewritten"
# The other modules of the runner's table: installed plugins' (pytest
# rewrites an entry-point plugin's whole distribution as it loads it),
# conftests and the modules they name in ``pytest_plugins``. pytest imports
# them while it configures itself, before any ``pytest_configure``: they
# are placed as this module is imported (``-p``, before the entry points
# and the initial conftests load).
_EARLY_TABLE = "/tmp/.pyodide-test-rewritten-early"
# Sources whose rewritten module came from the table (not reported again).
_placed = set()


def _read_table(path):
    """The runner's table at ``path`` (removed once read): (source, pyc,
    data) for each module; empty when there is none."""
    import struct

    try:
        with open(path, "rb") as f:
            table = f.read()
        os.remove(path)
    except OSError:
        return []
    entries = []
    pos = 0
    while pos < len(table):
        fields = []
        for _ in range(3):
            (n,) = struct.unpack_from("<I", table, pos)
            fields.append(table[pos + 4 : pos + 4 + n])
            pos += 4 + n
        entries.append((fields[0].decode(), fields[1].decode(), fields[2]))
    return entries


def _place(entries):
    """Write each rewritten module where pytest looks for it (unless
    pytest has rewritten it already in this guest: it came too late)."""
    for source, pyc, data in entries:
        if source in _fresh:
            continue
        try:
            if data[4:8] == b"\0\0\0\0":
                # A pytest whose pycs hold the source's time and size.
                st = os.stat(source)
                data = (
                    data[:8]
                    + (int(st.st_mtime) & 0xFFFFFFFF).to_bytes(4, "little")
                    + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little")
                    + data[16:]
                )
            os.makedirs(os.path.dirname(pyc), exist_ok=True)
            with open(pyc, "wb") as f:
                f.write(data)
        except OSError:
            continue
        _placed.add(source)


def _place_rewritten(config):
    """Write the test modules of the runner's table that this session may
    collect where pytest looks for them."""
    wanted = [os.path.abspath(str(a).split("::")[0]) for a in config.args]

    def collected(source):
        return any(source == w or source.startswith(w.rstrip(os.sep) + os.sep) for w in wanted)

    _place(entry for entry in _read_table(_TABLE) if collected(entry[0]))


# Modules pytest rewrote in this guest: source -> what its `_rewrite_test`
# returned. The guest's CPython does not write bytecode, so pytest does
# not keep them itself.
_fresh = {}
# In a child of a zygote that collected the whole suite: (its own files,
# every test file the zygote collected, the modules the zygote had
# rewritten when it forked). A child reports the rewritten modules of its
# own files, and those it rewrote itself; the zygote's other ones
# (conftests, helpers, plugins) only its first child reports, not each.
_report_only = None


def _record_rewrites():
    """Keep what pytest's rewriting returns, to report it at the end."""
    try:
        from _pytest.assertion import rewrite

        original = rewrite._rewrite_test
    except Exception:
        return

    def _rewrite_test(fn, config):
        result = original(fn, config)
        _fresh[str(fn)] = (fn, result)
        return result

    rewrite._rewrite_test = _rewrite_test


def _report_rewritten():
    """Report the modules pytest rewrote in this guest, as the pycs pytest
    would have written."""
    import base64
    import io

    try:
        from _pytest.assertion.rewrite import PYC_TAIL, _write_pyc_fp, get_cache_dir
    except Exception:
        return
    for source, (fn, (stamp, code)) in list(_fresh.items()):
        if source in _placed:
            continue
        if _report_only is not None:
            own, suite, inherited = _report_only
            norm = os.path.normpath(source)
            if norm not in own and (
                norm in suite
                or source in inherited
                and not getattr(sys, "_pyodide_test_first_child", True)
            ):
                continue
        _placed.add(source)
        buf = io.BytesIO()
        try:
            _write_pyc_fp(buf, stamp, code)
            pyc = get_cache_dir(fn) / (fn.name[:-3] + PYC_TAIL)
        except Exception:
            continue
        _emit(ev="pyc", source=source, pyc=str(pyc), data=base64.b64encode(buf.getvalue()).decode())


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_collection(session):
    """A zygote that configured pytest for the whole suite forks here (see
    the zygote prelude): before any other implementation (a wrapper runs
    first, and one that returns a result would stop the rest), or, for a
    zygote that collects the whole suite, after every one, the child then
    keeping its own file's tests; elsewhere nothing happens."""
    fork = getattr(sys, "_pyodide_test_fork", None)
    if fork is not None and not getattr(fork, "after_collection", False):
        fork(session)
        # In a collector the fork point is now the end of collection.
        fork = getattr(sys, "_pyodide_test_fork", None)
    after = getattr(fork, "after_collection", False)
    others = getattr(fork, "others", None) if after else None
    if others:
        # Other collectors collect these files of the suite.
        session.config.args = [a for a in session.config.args if a not in others]
    # Files that pytest over the suite leaves out are not collected (a
    # child of such a file's then reports nothing, as pytest over the
    # suite would not name it).
    anchors = _user_anchors(session.config)
    session.config.args = [
        a for a in session.config.args if not _ignored_by_collection(session, a, anchors)
    ]
    outcome = yield
    if fork is not None and after and outcome.excinfo is None:
        tracker = session.config.pluginmanager.get_plugin("pyodide-test-tracker")
        tracker.index_items(session)
        files = fork(session)
        tracker.narrow(session, files)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """A zygote's child whose file failed to collect ends here, as pytest
    would end the session (interrupted: status 2), without the
    interruption's traceback that pytest formats for its summary (about
    0.2 s, parsing its own sources), which the child never prints."""
    if getattr(sys, "_pyodide_test_end", None) is None or not session.testsfailed:
        return None
    if session.config.option.continue_on_collection_errors:
        return None
    _session_over(session, pytest.ExitCode.INTERRUPTED)


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """The file's tests have run and are reported: the session is done,
    before any other plugin's or conftest's session finish runs, so that
    one that fails cannot change the file's outcomes.

    A zygote's child then ends at once, without the rest of the session's
    finish (summaries, reports over the session, unconfiguring): what those
    print nobody reads, and in every child of a suite they would run again
    (pydantic-core: 119 files, about 120 ms each in inline-snapshot's
    report and pytest-pretty's and hypothesis's summaries). pytest over a
    whole suite, as under Node, runs them once, at its end.
    ``PYODIDE_TEST_ZYGOTE_FINALIZE=1`` keeps them."""
    _session_over(session, exitstatus)
    yield


def _session_over(session, status):
    """Report the file's session over with ``status``; a zygote's child
    then ends (see pytest_sessionfinish)."""
    tracker = session.config.pluginmanager.get_plugin("pyodide-test-tracker")
    if tracker is not None:
        tracker.finish(status)
    end = getattr(sys, "_pyodide_test_end", None)
    if end is not None:
        end(int(status))


def _parse_each_source_once():
    """pytest formats a failure's traceback (an error, a failed or an
    xfailed test: ``--tb=short`` included) by parsing the whole source file
    of each entry to find its statement, and it keeps the parsed tree only
    for that one failure. A file with N failures is parsed N times:
    pydantic-core's ``test_url.py``, 6 xfailed tests, about 30 ms each in
    the guest. Here the tree of a source text is kept for the next failure
    whose entry has the very same text (the key is the text, not the path:
    a file rewritten between two failures is parsed again), so the report
    is the one pytest would write. The last 16 texts are kept."""
    try:
        from _pytest._code import code, source
    except ImportError:
        return
    original = getattr(code, "getstatementrange_ast", None)
    if original is None or original is not getattr(source, "getstatementrange_ast", None):
        return
    trees = {}

    def getstatementrange_ast(lineno, src, assertion=False, astnode=None):
        if astnode is not None:
            return original(lineno, src, assertion, astnode)
        text = str(src)
        tree = trees.pop(text, None)
        if tree is None:
            # The original parses (or raises SyntaxError: nothing kept).
            tree, start, end = original(lineno, src, assertion, None)
        else:
            _, start, end = original(lineno, src, assertion, tree)
        trees[text] = tree
        while len(trees) > 16:
            del trees[next(iter(trees))]
        return tree, start, end

    code.getstatementrange_ast = getstatementrange_ast


_parse_each_source_once()

# Before pytest loads its entry-point plugins and the initial conftests.
_record_rewrites()
_place(_read_table(_EARLY_TABLE))


# The marks of plugins that cannot work in the guest and that the runner
# does not install (its testdeps' GUEST_UNUSABLE), by the name each plugin
# registers under: a test that carries one must not fail as an unknown mark
# (``--strict-markers``, ``filterwarnings = error``), as it does not where
# the plugin is installed.
_ABSENT_PLUGINS_MARKS = (
    ("timeout", "timeout(seconds): pytest-timeout's mark; pyodide-test's --timeout applies instead"),
    ("pytest_cov", "no_cover: pytest-cov's mark; pytest-cov is not installed (no coverage is measured)"),
    ("xdist", "xdist_group(name): pytest-xdist's mark; pytest-xdist is not installed (one process)"),
    ("pytest_forked", "forked: pytest-forked's mark; pytest-forked is not installed (no fork)"),
)


def pytest_configure(config):
    _place_rewritten(config)
    config.pluginmanager.register(_Tracker(), "pyodide-test-tracker")
    for plugin, line in _ABSENT_PLUGINS_MARKS:
        if not config.pluginmanager.hasplugin(plugin):
            config.addinivalue_line("markers", line)
