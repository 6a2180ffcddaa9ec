#!/usr/bin/env node
// Reference driver: run a Python command line under Pyodide in Node, the way
// Pyodide's own CLI (src/templates/python_cli_entry.mjs in pyodide/pyodide)
// does, but with a deterministic, host-independent guest world.
//
// Usage:
//   node conformance/node/run.mjs --dist DIR [options] [--] python-args...
//
// Options (all before `--` or the first non-option argument):
//   --dist DIR            Pyodide distribution directory holding pyodide.mjs
//                         (default: $PYODIDE_DIST)
//   --put HOST=GUEST      copy the host file HOST into the guest's MEMFS at the
//                         absolute path GUEST before Python starts (repeatable)
//   --env NAME=VALUE      add/override one guest environment variable
//                         (repeatable)
//   --executable PATH     sys.executable / Emscripten's thisProgram
//                         (default: /usr/bin/python3)
//   --node-deps DIR       directory whose node_modules holds the dist's npm
//                         dependencies (`ws`); default $PYODIDE_NODE_DEPS.
//                         See conformance/README.md.
//   --events-fd N         create the device /dev/pyodide-test-events in the
//                         guest; what the guest writes to it goes to the
//                         host's file descriptor N (the test runner's
//                         channel for test results, apart from stdout)
//
// python-args are CPython's own command line: `-c CODE`, `-m mod args`,
// `script.py args`, `-`, `-u`, `-X opt`, `-I`, ...
//
// Under Node 20-24 the script re-runs itself with
// --experimental-wasm-stack-switching, as Pyodide's `python` launcher does
// (set PYODIDE_NO_JSPI=1 to run without it).
//
// Differences from Pyodide's CLI, on purpose (to make reference runs
// reproducible): the host file system is NOT mounted (the CLI mounts every
// top-level host directory with NODEFS), the host's environment is NOT copied
// into the guest, HOME stays /home/pyodide (the CLI uses the host cwd), and
// sys.executable is a fixed path. Everything else follows the CLI: the
// environment carries PYTHONINSPECT="" (so an exception does not drop into
// interactive mode and PyErr_Print exits), stdout/stderr are Pyodide's default
// Node streams (fs.writeSync of the raw bytes on fds 1 and 2, isatty taken
// from the real fds), stdin is read with fs.readSync from fd 0, `run_main`
// gives CPython's -c/-m/-/file semantics, sys.modules is cleared and gc run
// before Py_FinalizeEx, and the process exits with Python's exit status.

import { spawnSync } from "node:child_process";
import { readFileSync, existsSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

function usage(msg) {
  if (msg) process.stderr.write(`run.mjs: ${msg}\n`);
  process.stderr.write(
    "usage: node run.mjs --dist DIR [--put HOST=GUEST]... [--env NAME=VALUE]... " +
      "[--executable PATH] [--node-deps DIR] [--] python-args...\n",
  );
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    dist: process.env.PYODIDE_DIST,
    puts: [],
    env: {},
    executable: "/usr/bin/python3",
    nodeDeps: process.env.PYODIDE_NODE_DEPS,
    eventsFd: undefined,
  };
  let i = 0;
  const value = (name) => {
    if (i + 1 >= argv.length) usage(`${name} needs a value`);
    return argv[++i];
  };
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      i++;
      break;
    } else if (a === "--dist") {
      opts.dist = value(a);
    } else if (a === "--put") {
      const v = value(a);
      const eq = v.lastIndexOf("=");
      if (eq <= 0 || !v.slice(eq + 1).startsWith("/"))
        usage("--put wants HOST=/absolute/guest/path");
      opts.puts.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else if (a === "--env") {
      const v = value(a);
      const eq = v.indexOf("=");
      if (eq <= 0) usage("--env wants NAME=VALUE");
      opts.env[v.slice(0, eq)] = v.slice(eq + 1);
    } else if (a === "--executable") {
      opts.executable = value(a);
    } else if (a === "--node-deps") {
      opts.nodeDeps = value(a);
    } else if (a === "--events-fd") {
      opts.eventsFd = Number(value(a));
      if (!Number.isInteger(opts.eventsFd) || opts.eventsFd < 3)
        usage("--events-fd wants a descriptor number of 3 or more");
    } else if (a === "--help" && opts.dist === undefined) {
      usage();
    } else {
      break; // first Python argument
    }
  }
  opts.pythonArgs = argv.slice(i);
  if (!opts.dist) usage("no --dist given and PYODIDE_DIST is not set");
  return opts;
}

// Make `require("ws")` inside pyodide.asm.mjs (a createRequire() require, so
// CommonJS resolution) find the dist's npm dependencies installed elsewhere:
// CommonJS resolution honours NODE_PATH, re-read by Module._initPaths().
function useNodeDeps(dir) {
  if (!dir) return;
  const nm = path.resolve(dir, "node_modules");
  if (!existsSync(nm)) {
    process.stderr.write(`run.mjs: warning: ${nm} does not exist\n`);
    return;
  }
  const sep = path.delimiter;
  process.env.NODE_PATH = process.env.NODE_PATH
    ? nm + sep + process.env.NODE_PATH
    : nm;
  const require = createRequire(import.meta.url);
  require("node:module")._initPaths();
}

// Pyodide's `python` launcher (src/templates/python) starts Node 20-24 with
// --experimental-wasm-stack-switching (JSPI: needed by asyncio.run, which
// Pyodide serves with its WebLoop, and by anything that blocks on a JS
// promise). Do the same: re-run this script under that flag if it is missing.
// PYODIDE_NO_JSPI=1 skips this (to see Pyodide without stack switching).
const STACK_SWITCHING = "--experimental-wasm-stack-switching";
function reexecWithStackSwitching() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20 || major > 24) return false;
  if (process.execArgv.includes(STACK_SWITCHING)) return false;
  if (process.env.PYODIDE_NO_JSPI) return false;
  // Pass the events descriptor on too (at the same number).
  const at = process.argv.indexOf("--events-fd");
  const stdio = ["inherit", "inherit", "inherit"];
  if (at > 0) {
    const fd = Number(process.argv[at + 1]);
    while (stdio.length < fd) stdio.push("ignore");
    stdio[fd] = fd;
  }
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, STACK_SWITCHING, ...process.argv.slice(1)],
    { stdio },
  );
  if (r.error) throw r.error;
  if (r.signal) process.kill(process.pid, r.signal);
  process.exit(r.status ?? 1);
}

async function main() {
  if (reexecWithStackSwitching()) return;
  const opts = parseArgs(process.argv.slice(2));
  useNodeDeps(opts.nodeDeps);
  const dist = path.resolve(opts.dist);
  const { loadPyodide: loadEsm } = await import(
    pathToFileURL(path.join(dist, "pyodide.mjs")).href
  );
  // Releases before 0.24 import their npm dependencies (`ws`) as ES
  // modules, which ignore NODE_PATH; their CommonJS build honours it.
  async function loadPyodide(config) {
    try {
      return await loadEsm(config);
    } catch (e) {
      if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
      const require = createRequire(import.meta.url);
      return await require(path.join(dist, "pyodide.js")).loadPyodide(config);
    }
  }

  const files = opts.puts.map(([host, guest]) => [guest, readFileSync(host)]);
  let fsInitDone = false;
  function fsInit(FS) {
    fsInitDone = true;
    for (const [guest, data] of files) {
      FS.mkdirTree(path.posix.dirname(guest));
      FS.writeFile(guest, data);
    }
    if (opts.eventsFd !== undefined) {
      // A write-only character device whose writes go to the host fd.
      const fd = opts.eventsFd;
      const dev = FS.makedev(99, 0);
      FS.registerDevice(dev, {
        read() {
          throw new FS.ErrnoError(8); // EBADF: the device is write-only
        },
        write(stream, buffer, offset, length) {
          let done = 0;
          while (done < length)
            done += writeSync(fd, buffer.subarray(offset + done, offset + length));
          return length;
        },
      });
      FS.mkdev("/dev/pyodide-test-events", 0o200, dev);
    }
  }

  const env = Object.assign(
    {
      // As the CLI: stop loadPyodide's default PYTHONINSPECT=1.
      PYTHONINSPECT: "",
      PYTHONEXECUTABLE: opts.executable,
      HOME: "/home/pyodide",
    },
    opts.env,
  );
  let py;
  try {
    py = await loadPyodide({
      indexURL: dist + path.sep,
      args: opts.pythonArgs,
      _sysExecutable: opts.executable,
      env,
      fsInit,
    });
  } catch (e) {
    if (e?.constructor?.name !== "ExitStatus") throw e;
    // --help, --version, or a bad command line: CPython already printed.
    process.exit(e.status);
  }
  // Releases before 0.24 have no fsInit hook: place the files now, after
  // CPython's start and before the command line runs.
  const before024 = !fsInitDone;
  if (before024) fsInit(py.FS);
  // Nor an `env` option: set the variables now, through os.environ (which
  // also puts them into C's environment). Those CPython reads only at its
  // start (PYTHONHASHSEED, ...) come too late to take effect there.
  if (before024) {
    const json = JSON.stringify(JSON.stringify(env));
    py.runPython(`import json as _j, os as _o; _o.environ.update(_j.loads(${json})); del _j, _o`);
  }
  // Default Node streams: raw fs.writeSync on fds 1/2 (no line batching).
  py.setStdout();
  py.setStderr();

  const side = py.runPython("{}");
  function handleExit(code) {
    if (code === undefined) code = 0;
    // As the CLI: some extensions crash in finalisation; clear modules first.
    try {
      py.runPython("import sys, gc; sys.modules.clear(); gc.collect()");
    } catch (e) {
      // best effort
    }
    try {
      if (py._module._Py_FinalizeEx() < 0) code = 120;
    } catch (e) {
      console.error("Error during interpreter finalization:");
      console.error(e);
      code = 120;
    }
    process.exit(code);
  }
  side.set("handleExit", handleExit);

  // Keep Pyodide's webloop alive until main has run and its tasks are done,
  // exactly like the CLI.
  py.runPython(
    `
import asyncio
loop = asyncio.get_event_loop()
loop._in_progress += 1
loop._no_in_progress_handler = handleExit
loop._system_exit_handler = handleExit
loop._keyboard_interrupt_handler = lambda: handleExit(130)
`,
    { globals: side },
  );

  let errcode;
  try {
    // 0.25 and 0.26 know JSPI but have no promisingRunMain: their main
    // runs synchronously, as on a runtime without JSPI.
    if (py._module.jspiSupported && py._module.promisingRunMain) {
      errcode = await py._module.promisingRunMain();
    } else {
      errcode = py._module._run_main();
    }
  } catch (e) {
    if (e?.constructor?.name === "ExitStatus") process.exit(e.status);
    py._api.fatal_error(e);
  }
  if (errcode) process.exit(errcode);
  py.runPython("loop._decrement_in_progress()", { globals: side });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
