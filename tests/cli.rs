//! The command line as a user meets it: exit statuses, stdio, `-c`/`-m`/`-`
//! /file, and bad input giving one clear line and status 2.

mod common;

use std::fs;
use std::process::Command;

use common::{dist_args, exe, python};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Bad input: one line on stderr, starting with our prefix, and status 2.
fn assert_clean_error(out: &std::process::Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "status for {needle:?}; stderr: {err}"
    );
    assert_eq!(err.lines().count(), 1, "expected one line, got: {err}");
    assert!(err.starts_with("pyodide-test: error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

#[test]
fn runs_a_one_liner() {
    let out = python(
        &["-c", "import sys; print(sys.version_info[:2], 6*7)"],
        b"",
        None,
    );
    assert_eq!(text(&out.stdout), "(3, 14) 42\n");
    assert_eq!(out.status.code(), Some(0));
}

/// `time.sleep` sleeps its time without holding a core (Emscripten's
/// sleep reads the clock in a loop; the host naps the loop): the guest's
/// own CPU clock (the host process's) barely moves while it sleeps.
#[test]
fn sleep_takes_its_time_not_a_core() {
    let code = "import time\n\
        c, t = time.process_time(), time.monotonic()\n\
        time.sleep(1)\n\
        print(round(time.monotonic() - t, 3), round(time.process_time() - c, 3))\n\
        t = time.monotonic()\n\
        for _ in range(100): time.sleep(0.001)\n\
        print(round(time.monotonic() - t, 3))\n";
    let out = python(&["-c", code], b"", None);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let numbers: Vec<f64> = stdout
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let [slept, cpu, short] = numbers[..] else {
        panic!("{stdout}")
    };
    assert!(slept >= 1.0, "{stdout}");
    assert!(cpu < 0.5, "a one-second sleep used {cpu} s of CPU");
    // Short sleeps are not stretched by the naps (at most about an
    // eighth each, or the shortest nap, and the host's own latency).
    assert!(
        (0.1..0.5).contains(&short),
        "100 sleeps of 1 ms took {short} s"
    );
}

#[test]
fn exit_status_is_pythons() {
    assert_eq!(
        python(&["-c", "import sys; sys.exit(3)"], b"", None)
            .status
            .code(),
        Some(3)
    );
    let out = python(&["-c", "raise ValueError('boom')"], b"", None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Traceback (most recent call last)") && err.contains("ValueError: boom"),
        "{err}"
    );
    let out = python(&["-c", "import sys; sys.exit('bye')"], b"", None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "bye\n");
}

#[test]
fn stdin_and_modules() {
    let out = python(&["-"], b"import sys\nprint(sys.argv, 1+1)\n", None);
    assert_eq!(text(&out.stdout), "['-'] 2\n");
    let out = python(&["-m", "json.tool"], br#"{"b": [1, 2]}"#, None);
    assert_eq!(
        text(&out.stdout),
        "{\n    \"b\": [\n        1,\n        2\n    ]\n}\n"
    );
}

#[test]
fn script_file_and_argv() {
    let dir = std::env::temp_dir().join(format!("pt-cli-script-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("hello.py"),
        "import sys, os\nprint(sys.argv, os.getcwd())\n",
    )
    .unwrap();
    let out = python(&["hello.py", "a b", "-c"], b"", Some(&dir));
    assert_eq!(
        text(&out.stdout),
        "['hello.py', 'a b', '-c'] /home/pyodide\n"
    );
    let missing = python(&["nope.py"], b"", Some(&dir));
    assert_clean_error(&missing, "nope.py");
    fs::remove_dir_all(&dir).ok();
}

#[test]
fn javascript_ffi_is_an_import_error() {
    let out = python(
        &[
            "-c",
            "\ntry:\n import js\nexcept ImportError as e:\n print(type(e).__name__, e)\n",
        ],
        b"",
        None,
    );
    assert_eq!(
        text(&out.stdout),
        "ModuleNotFoundError No module named 'js'\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn missing_dist_is_a_clean_error() {
    let out = Command::new(exe())
        .args(["--dist", "/nonexistent/pyodide", "python", "-c", "pass"])
        .output()
        .unwrap();
    assert_clean_error(&out, "does not exist");
}

#[test]
fn corrupt_dist_is_a_clean_error() {
    let dir = std::env::temp_dir().join(format!("pt-cli-corrupt-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    for f in ["pyodide.asm.wasm", "pyodide.asm.mjs", "python_stdlib.zip"] {
        fs::write(dir.join(f), b"garbage").unwrap();
    }
    let run = || {
        Command::new(exe())
            .arg("--dist")
            .arg(&dir)
            .args(["python", "-c", "pass"])
            .output()
            .unwrap()
    };
    assert_clean_error(&run(), "pyodide-lock.json is missing");
    fs::write(dir.join("pyodide-lock.json"), b"{not json").unwrap();
    assert_clean_error(&run(), "pyodide-lock.json is corrupt");
    fs::write(
        dir.join("pyodide-lock.json"),
        br#"{"info": {"python": "3.14.2"}, "packages": {}}"#,
    )
    .unwrap();
    assert_clean_error(&run(), "is not a wasm module");
    // A valid wasm module that is not Pyodide's main module.
    fs::write(
        dir.join("pyodide.asm.wasm"),
        wat::parse_str("(module (func (export \"f\")))").unwrap(),
    )
    .unwrap();
    fs::write(
        dir.join("python_stdlib.zip"),
        b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
    )
    .unwrap();
    fs::write(dir.join("pyodide.asm.mjs"), b"var ASM_CONSTS={};").unwrap();
    assert_clean_error(&run(), "not a Pyodide main module");
    fs::remove_dir_all(&dir).ok();
}

/// A wheel given twice (or given and also another's dependency) is placed
/// and compiled to bytecode once: its first compile (a wheel new to the
/// cache) failed when it came twice.
#[test]
fn a_wheel_given_twice_is_installed_once() {
    let dir = common::local_suite::scratch("cli-twice");
    fs::create_dir_all(&dir).unwrap();
    // New contents each time, so that no earlier run compiled them.
    let tag = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let source = format!("VALUE = {tag}\n");
    let wheel = common::local_suite::build_named_wheel(
        &dir,
        "twice",
        &[("twice/__init__.py", source.as_bytes())],
    );
    let wheel = wheel.to_string_lossy().into_owned();
    let out = python(
        &[
            "--with",
            &wheel,
            "--with",
            &wheel,
            "-c",
            "import twice; print(twice.VALUE)",
        ],
        b"",
        None,
    );
    assert_eq!(
        (text(&out.stdout), out.status.code()),
        (format!("{tag}\n"), Some(0)),
        "{}",
        text(&out.stderr)
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The bytecode of a wheel directory listed twice is compiled once, and
/// given once.
#[test]
fn bytecode_for_a_wheel_directory_listed_twice() {
    use pyodide_test::runner::backend::LazyModule;
    use pyodide_test::runner::{bytecode, dist::Dist};
    let args = dist_args();
    let dist = match args.iter().position(|a| a == "--dist") {
        Some(i) => std::path::PathBuf::from(&args[i + 1]),
        None => common::default_cache().join("pyodide/314.0.7"),
    };
    let dist = Dist::open(&dist).unwrap();
    let dir = common::local_suite::scratch("cli-bytecode-twice");
    let cache = dir.join("cache");
    // Linked, not compiled again.
    common::link_tree(
        &common::default_cache().join("modules"),
        &cache.join("modules"),
    );
    let wheel = dir.join("unpacked-twice");
    fs::create_dir_all(wheel.join("twice")).unwrap();
    fs::write(wheel.join("twice/__init__.py"), "VALUE = 1\n").unwrap();
    let module = LazyModule::for_scripts(&dist, &cache);
    let pycs = bytecode::for_wheels(&module, &dist, &cache, &[wheel.clone(), wheel.clone()])
        .expect("compiled");
    let names: Vec<&str> = pycs.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(
        names,
        ["twice/__pycache__/__init__.cpython-314.pyc"],
        "{names:?}"
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_unknown_tier_is_a_clean_error() {
    let out = Command::new(exe())
        .args(dist_args())
        .env("PYODIDE_TEST_TIER", "fastest")
        .args(["python", "-c", "pass"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_clean_error(
        &out,
        "PYODIDE_TEST_TIER=\"fastest\": expected \"quick\" or \"optimized\"",
    );
}

#[test]
fn unknown_release_is_a_clean_error() {
    let cache = std::env::temp_dir().join(format!("pt-cli-cache-{}", std::process::id()));
    let out = Command::new(exe())
        .env("PYODIDE_TEST_CACHE", &cache)
        .args(["--pyodide", "0.0.0-does-not-exist", "python", "-c", "pass"])
        .output()
        .unwrap();
    assert_clean_error(&out, "0.0.0-does-not-exist");
    fs::remove_dir_all(&cache).ok();
}

#[test]
fn bad_mount_is_a_clean_error() {
    let mut cmd = Command::new(exe());
    cmd.args(dist_args())
        .args(["python", "--mount", "/nonexistent-dir:/data", "-c", "pass"]);
    assert_clean_error(&cmd.output().unwrap(), "--mount");
}

#[test]
fn env_and_a_copied_script() {
    let out = python(
        &[
            "--env",
            "GREETING=hi there",
            "-c",
            "import os; print(os.environ['GREETING'])",
        ],
        b"",
        None,
    );
    assert_eq!(text(&out.stdout), "hi there\n", "{}", text(&out.stderr));
    let dir = std::env::temp_dir().join(format!("pt-cli-copy-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let host = dir.join("script.py");
    fs::write(&host, "import sys; print('guest copy', sys.argv[1:])\n").unwrap();
    let copy = format!("{}:/tmp/only-in-guest.py", host.display());
    let out = python(
        &["--copy", &copy, "/tmp/only-in-guest.py", "a"],
        b"",
        Some(&dir),
    );
    assert_eq!(
        text(&out.stdout),
        "guest copy ['a']\n",
        "{}",
        text(&out.stderr)
    );
    let out = python(&["--env", "NOEQUALS", "-c", "pass"], b"", None);
    assert_clean_error(&out, "expected NAME=VALUE");
    let _ = fs::remove_dir_all(&dir);
}

/// The stdlib hook runs as the guest's `sitecustomize` and leaves none
/// behind; a guest's own `sitecustomize`, in site-packages (the hook then
/// runs from a `.pth`) or on a later `sys.path` entry, still runs, as it
/// does under Node.
#[test]
fn the_guests_own_sitecustomize_still_runs() {
    let probe = "import sys\nprint('sitecustomize' in sys.modules)\ntry:\n    import sitecustomize\nexcept ImportError as e:\n    print('none', e.name)\n";
    let out = python(&["-c", probe], b"", None);
    assert_eq!(
        text(&out.stdout),
        "False\nnone sitecustomize\n",
        "{}",
        text(&out.stderr)
    );

    let out = python(
        &["-c", "import site; print(site.getsitepackages()[0])"],
        b"",
        None,
    );
    let site = text(&out.stdout).trim().to_string();
    assert!(site.ends_with("site-packages"), "{site:?}");
    let dir = std::env::temp_dir().join(format!("pt-cli-sitecustomize-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let own = dir.join("sitecustomize.py");
    fs::write(&own, "import sys\nsys.MARK = 'own'\n").unwrap();
    let pth = dir.join("later.pth");
    fs::write(&pth, "/later\n").unwrap();
    let show = "import sys, json; m = sys.modules['sitecustomize']; print(sys.MARK, m.__file__, json.__name__)";

    let in_site = format!("{}:{site}/sitecustomize.py", own.display());
    let out = python(&["--copy", &in_site, "-c", show], b"", None);
    assert_eq!(
        text(&out.stdout),
        format!("own {site}/sitecustomize.py json\n"),
        "{}",
        text(&out.stderr)
    );

    let later = format!("{}:/later/sitecustomize.py", own.display());
    let pth = format!("{}:{site}/later.pth", pth.display());
    let out = python(&["--copy", &later, "--copy", &pth, "-c", show], b"", None);
    assert_eq!(
        text(&out.stdout),
        "own /later/sitecustomize.py json\n",
        "{}",
        text(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let _ = fs::remove_dir_all(&dir);
}

/// CPython imports `encodings` while it initialises, before `site`: the
/// runner gives it a frozen shim that puts the stdlib's precompiled table
/// in place first (zipimport's directory of the zip comes from the table:
/// `-v` shows no "zipimport: found N names"), and then imports the real
/// package from the zip, so that what the guest sees afterwards is what
/// it sees without the shim: the zip's module, spec, loader and file, and
/// no frozen `encodings`.
#[test]
fn encodings_comes_from_the_zip_with_the_table_in_place() {
    let probe = "import encodings, _imp, sys\n\
        print(type(encodings.__loader__).__name__, encodings.__spec__.origin)\n\
        print(encodings.__file__, encodings.__path__)\n\
        print(_imp.is_frozen('encodings'), sys.modules['encodings.aliases'].__file__)\n\
        print(encodings.search_function('utf-8').name)\n";
    let out = python(&["-v", "-c", probe], b"", None);
    let err = text(&out.stderr);
    assert_eq!(
        text(&out.stdout),
        "zipimporter /lib/python314.zip/encodings/__init__.py\n\
         /lib/python314.zip/encodings/__init__.py ['/lib/python314.zip/encodings']\n\
         False /lib/python314.zip/encodings/aliases.py\n\
         utf-8\n",
        "{err}"
    );
    assert_eq!(out.status.code(), Some(0), "{err}");
    // The shim ran (its import is the frozen one), and zipimport did not
    // read the zip's directory itself.
    assert!(
        err.contains("import 'encodings' # <class '_frozen_importlib.FrozenImporter'>"),
        "{err}"
    );
    assert!(!err.contains("zipimport: found"), "{err}");
}
