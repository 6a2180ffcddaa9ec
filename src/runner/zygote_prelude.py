"""pyodide-test's zygote prelude: ``python -m _pyodide_test_zygote NAME...``.

Imports what every job of a suite would import first (the suite snapshot
point): the distributions NAME (their top-level modules), after pytest, its
built-in plugins, pdb and unittest, which the host's warm-up
(``zygote_warm.py``) imported before this prelude. Then it reads its job from stdin. In the zygote that
read does not return: the host forks a child per job there, and in each
child it returns the job's description (JSON: ``module``, ``args``,
``env``, ``files``), which the child then runs as ``python -m MODULE
ARGS`` would, in the state the zygote left.

Only modules that pytest imports itself before any plugin are warmed here:
a ``-p`` or entry-point plugin imported early would miss pytest's
assertion rewriting (and pytest would warn).

``python -m _pyodide_test_zygote NAME... --pytest JSON`` goes further for a
pytest suite: after the warming it runs ``python -m pytest ARGS`` itself,
ARGS (the JSON list) ending in every test file of the suite, so that
pytest's configuration, its plugins' and the conftests' ``pytest_configure``
and the session's start happen once. The fork point is then the start of
collection (our plugin calls ``sys._pyodide_test_fork``): each child
collects and runs only its job's ``args`` (its test file), exactly as
``python -m pytest`` over the whole suite would run that file's tests.

A job that is a collector's description (``{"collect": true, "others":
[...]}``: read in a child collector the host forked, or in the zygote
itself, see the host's ``zygote.rs``) goes on from the start of collection
instead: pytest collects
every test file but ``others`` (files other collectors collect side by side),
as pytest over the whole suite does before running any test (and as Node runs
a suite), and the collector forks once collection is over; each of its
children keeps its own file's tests and collection errors (our plugin narrows
the session) and runs them.
"""

import atexit
import binascii
import gc
import json
import os
import runpy  # every child runs its job through it
import sys


def _top_level(dist_name):
    """The top-level import names of an installed distribution."""
    from importlib import metadata

    # Only the directories on sys.path: looking into a zip there (the
    # stdlib's) leaves it open, held by importlib.metadata's cache, a
    # descriptor that the job's own guest would not have (CPython's
    # test_os needs two consecutive free descriptors).
    path = [p for p in sys.path if os.path.isdir(p or ".")]
    try:
        dist = next(iter(metadata.distributions(name=dist_name, path=path)), None)
    except Exception:
        dist = None
    if dist is None:
        return []
    text = dist.read_text("top_level.txt")
    if text:
        return text.split()
    names = set()
    for f in dist.files or ():
        parts = f.parts
        top = parts[0]
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
            continue
        if len(parts) > 1:
            names.add(top)
        elif top.endswith(".py"):
            names.add(top[:-3])
        elif top.endswith(".so"):
            names.add(top.split(".")[0])
    return sorted(n for n in names if n.isidentifier())


def _warm(dists):
    # pytest, its built-in plugins, pdb and unittest are imported already:
    # the host ran zygote_warm.py before this prelude.
    for dist in dists:
        for name in _top_level(dist):
            try:
                __import__(name)
            except BaseException:
                # The job meets the same error itself, where it reports it.
                pass


# The fork point's descriptor (the zygote's stdin), kept apart from fd 0:
# pytest's capturing puts /dev/null on fd 0 before collection.
_JOB_FD = os.dup(0)


def _read_job():
    chunks = []
    while True:
        chunk = os.read(_JOB_FD, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    job = json.loads(b"".join(chunks))
    if not job.get("collect"):
        # A collector reads its own jobs here later.
        os.close(_JOB_FD)
    return job


def _exit_status(code):
    """The status `SystemExit(code)` ends a process with (as CPython)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _fork():
    """The fork point: returns the job, in a child only."""
    # What the zygote holds lives as long as every child: no collection
    # needs to look at it (and a collection that did would copy every page
    # of the heap into the child).
    gc.collect()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    job = _read_job()
    os.environ.update(dict(job["env"]))
    for path, data in job["files"]:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(binascii.a2b_base64(data))
    # Every child would otherwise draw the zygote's random numbers.
    if "random" in sys.modules:
        sys.modules["random"].seed()
    return job


def _end(status, job, early=False):
    if not job.get("finalize"):
        # The process ends with the job: exit handlers and buffered output,
        # but no clearing of modules, collection or finalisation of what
        # the zygote built (PYODIDE_TEST_ZYGOTE_FINALIZE=1 keeps them).
        import warnings

        with warnings.catch_warnings():
            if early:
                # The session's own cleanup did not run (a plugin's
                # temporary directory, say): the exit handlers that clean
                # up after it warn that they do, which says nothing about
                # the tests.
                warnings.simplefilter("ignore", ResourceWarning)
            atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(status)
    sys.exit(status)


def _run_module(module, args):
    """``python -m MODULE ARGS``: the exit status."""
    sys.argv = [""] + list(args)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    except SystemExit as e:
        return _exit_status(e.code)


def _collect_directories_once():
    """pytest collects a test file's directory again for every file named
    on its command line (so that a file named twice runs twice): with the
    suite's N files in one directory, that is N*N nodes (60 one-test files:
    1.2 s of collection, 0.3 s with this). The zygote names each file
    once; a directory's first collection serves them all, as it does when
    pytest is given the directory."""
    try:
        from _pytest import main, nodes

        original = main.Session._collect_one_node
        directory = nodes.Directory
    except (ImportError, AttributeError):
        return
    if "handle_dupes" not in original.__code__.co_varnames:
        return

    def _collect_one_node(self, node, handle_dupes=True):
        return original(self, node, handle_dupes or isinstance(node, directory))

    main.Session._collect_one_node = _collect_one_node


def _serve_pytest(args):
    """Run pytest over the whole suite up to the fork point, the start of
    collection; each child goes on with its own test file, or as a
    collector, to the end of collection, its next fork point."""
    job = None

    def fork(session):
        """Our plugin's fork point (the start of collection, or in a
        collector its end): in the child pytest is given the job's files
        alone; returns them (absolute), to which the plugin narrows a
        session that is already collected. In a collector nothing changes
        but the fork point, now the end of collection, and the files it
        leaves to other collectors (our plugin reads both from ``fork``)."""
        nonlocal job
        del sys._pyodide_test_fork
        job = _fork()
        if job.get("collect"):
            fork.after_collection = True
            fork.others = frozenset(job["others"])
            sys._pyodide_test_fork = fork
            return None
        # Whether this is the zygote's first child: our plugin reports what
        # the zygote itself rewrote through that one only.
        sys._pyodide_test_first_child = bool(job.get("first"))
        if not job.get("finalize"):
            # Our plugin ends the child once its file's session is over and
            # reported (see its pytest_sessionfinish).
            sys._pyodide_test_end = lambda status: _end(status, job, early=True)
        config = session.config
        config.args = list(job["args"])
        for namespace in (config.option, config.known_args_namespace):
            namespace.file_or_dir = list(job["args"])
        return [os.path.abspath(a) for a in job["args"]]

    fork.after_collection = False
    # Files of the suite that other collectors collect (one skips them).
    fork.others = frozenset()
    sys._pyodide_test_fork = fork
    _collect_directories_once()
    status = _run_module("pytest", args)
    if job is None or job.get("collect"):
        # pytest ended before the fork point: the zygote (or collector)
        # cannot serve.
        when = "collecting" if job is None else "finishing its collection"
        print(
            f"pyodide-test zygote: pytest ended before {when} (status {status})",
            file=sys.stderr,
        )
        sys.stderr.flush()
        os._exit(status or 1)
    _end(status, job)


def _main():
    argv = sys.argv[1:]
    if "--pytest" in argv:
        # The host appends these two after the guest's image (see the
        # runner's zygote.rs), so that they do not name the image.
        at = argv.index("--pytest")
        _warm(argv[:at])
        _serve_pytest(json.loads(argv[at + 1]))
        return
    _warm(argv)
    job = _fork()
    _end(_run_module(job["module"], job["args"]), job)


_main()
