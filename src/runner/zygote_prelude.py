"""pyodide-test's zygote prelude: ``python -m _pyodide_test_zygote NAME...``.

Imports what every job of a suite would import first (the suite snapshot
point): pytest and its built-in plugins, and the distributions NAME (their
top-level modules). Then it reads its job from stdin. In the zygote that
read does not return: the host forks a child per job there, and in each
child it returns the job's description (JSON: ``module``, ``args``,
``env``, ``files``), which the child then runs as ``python -m MODULE
ARGS`` would, in the state the zygote left.

Only modules that pytest imports itself before any plugin are warmed here:
a ``-p`` or entry-point plugin imported early would miss pytest's
assertion rewriting (and pytest would warn).
"""

import atexit
import binascii
import gc
import json
import os
import sys


def _top_level(dist_name):
    """The top-level import names of an installed distribution."""
    from importlib import metadata

    try:
        dist = metadata.distribution(dist_name)
    except Exception:
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
    try:
        import pytest  # noqa: F401
        from _pytest.config import default_plugins

        for name in default_plugins:
            try:
                __import__("_pytest." + name)
            except Exception:
                pass
    except Exception:
        pass
    # What both drivers import before the first test (pytest's debugging
    # plugin imports pdb while configuring; CPython's suite runs unittest).
    for name in ("pdb", "unittest"):
        try:
            __import__(name)
        except Exception:
            pass
    for dist in dists:
        for name in _top_level(dist):
            try:
                __import__(name)
            except BaseException:
                # The job meets the same error itself, where it reports it.
                pass


def _read_job():
    chunks = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    return json.loads(b"".join(chunks))


def _exit_status(code):
    """The status `SystemExit(code)` ends a process with (as CPython)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _main():
    _warm(sys.argv[1:])
    # What the zygote holds lives as long as every child: no collection
    # needs to look at it (and a collection that did would copy every page
    # of the heap into the child).
    gc.collect()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    job = _read_job()  # the fork point
    os.environ.update(dict(job["env"]))
    for path, data in job["files"]:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(binascii.a2b_base64(data))
    # Every child would otherwise draw the zygote's random numbers.
    if "random" in sys.modules:
        sys.modules["random"].seed()
    sys.argv = [""] + job["args"]
    import runpy

    try:
        runpy.run_module(job["module"], run_name="__main__", alter_sys=True)
        status = 0
    except SystemExit as e:
        status = _exit_status(e.code)
    if not job.get("finalize"):
        # The process ends with the job: exit handlers and buffered output,
        # but no clearing of modules, collection or finalisation of what
        # the zygote built (PYODIDE_TEST_ZYGOTE_FINALIZE=1 keeps them).
        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(status)
    sys.exit(status)


_main()
