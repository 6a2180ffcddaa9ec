//! What the test files import that no discovered dependency seems to
//! provide (e.g. jiter's tests import `dirty_equals`, declared nowhere
//! in its sdist). Only a hint for the notes: imports are read line by
//! line, unindented ones only (`import a.b, c`, `from a import b`: the
//! ones a test module cannot be imported without; guarded or local
//! imports are indented), relative imports skipped,
//! and a module counts as provided when it is in the standard library,
//! starts with `_`, is a module or package of the sdist (next to or
//! above the test file, at the root, or one level below it: `src/`,
//! `python/`), is the project's own, or matches a known distribution by
//! name (PEP 503 normalised, or [`MODULE_DISTS`]).

use std::path::{Path, PathBuf};

use super::requirement::normalize_name;

/// Top-level standard library modules (CPython 3.11-3.14, including
/// some removed ones: importing them is not a missing dependency).
#[rustfmt::skip]
pub const STDLIB: &[&str] = &[
    "__future__", "abc", "aifc", "annotationlib", "antigravity", "argparse", "array", "ast",
    "asynchat", "asyncio", "asyncore", "atexit", "audioop", "base64", "bdb", "binascii", "bisect",
    "builtins", "bz2", "cProfile", "calendar", "cgi", "cgitb", "chunk", "cmath", "cmd", "code",
    "codecs", "codeop", "collections", "colorsys", "compileall", "compression", "concurrent",
    "configparser", "contextlib", "contextvars", "copy", "copyreg", "crypt", "csv", "ctypes",
    "curses", "dataclasses", "datetime", "dbm", "decimal", "difflib", "dis", "distutils",
    "doctest", "email", "encodings", "ensurepip", "enum", "errno", "faulthandler", "fcntl",
    "filecmp", "fileinput", "fnmatch", "fractions", "ftplib", "functools", "gc", "genericpath",
    "getopt", "getpass", "gettext", "glob", "graphlib", "grp", "gzip", "hashlib", "heapq", "hmac",
    "html", "http", "idlelib", "imaplib", "imghdr", "imp", "importlib", "inspect", "io",
    "ipaddress", "itertools", "json", "keyword", "lib2to3", "linecache", "locale", "logging",
    "lzma", "mailbox", "mailcap", "marshal", "math", "mimetypes", "mmap", "modulefinder", "msilib",
    "msvcrt", "multiprocessing", "netrc", "nis", "nntplib", "nt", "ntpath", "nturl2path",
    "numbers", "opcode", "operator", "optparse", "os", "ossaudiodev", "pathlib", "pdb", "pickle",
    "pickletools", "pipes", "pkgutil", "platform", "plistlib", "poplib", "posix", "posixpath",
    "pprint", "profile", "pstats", "pty", "pwd", "py_compile", "pyclbr", "pydoc", "pydoc_data",
    "pyexpat", "queue", "quopri", "random", "re", "readline", "reprlib", "resource", "rlcompleter",
    "runpy", "sched", "secrets", "select", "selectors", "shelve", "shlex", "shutil", "signal",
    "site", "smtpd", "smtplib", "sndhdr", "socket", "socketserver", "spwd", "sqlite3",
    "sre_compile", "sre_constants", "sre_parse", "ssl", "stat", "statistics", "string",
    "stringprep", "struct", "subprocess", "sunau", "symtable", "sys", "sysconfig", "syslog",
    "tabnanny", "tarfile", "telnetlib", "tempfile", "termios", "textwrap", "this", "threading",
    "time", "timeit", "tkinter", "token", "tokenize", "tomllib", "trace", "traceback",
    "tracemalloc", "tty", "turtle", "turtledemo", "types", "typing", "unicodedata", "unittest",
    "urllib", "uu", "uuid", "venv", "warnings", "wave", "weakref", "webbrowser", "winreg",
    "winsound", "wsgiref", "xdrlib", "xml", "xmlrpc", "zipapp", "zipfile", "zipimport", "zlib",
    "zoneinfo",
];

/// Modules whose distribution's name differs from the module's.
pub const MODULE_DISTS: &[(&str, &str)] = &[
    ("yaml", "pyyaml"),
    ("dateutil", "python-dateutil"),
    ("attr", "attrs"),
    ("PIL", "pillow"),
    ("bs4", "beautifulsoup4"),
    ("pkg_resources", "setuptools"),
    ("zmq", "pyzmq"),
    ("jwt", "pyjwt"),
    ("serial", "pyserial"),
    ("OpenSSL", "pyopenssl"),
    ("sklearn", "scikit-learn"),
    ("google", "protobuf"),
];

/// Modules the runner's pytest brings.
const RUNNER_MODULES: &[&str] = &["pytest", "pluggy", "iniconfig", "packaging", "py"];

/// One module the tests import that nothing provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprovided {
    /// The top-level module.
    pub module: String,
    /// The first test file importing it (relative to the sdist root).
    pub first_file: PathBuf,
    /// How many test files import it.
    pub files: usize,
    /// The distribution that probably provides it.
    pub guess: String,
}

/// The top-level modules `text` imports at module level (unindented,
/// absolute imports only).
pub fn imported_modules(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |m: &str| {
        let m = m.trim();
        let m = m.split(" as ").next().unwrap_or(m).trim();
        let head = m.split('.').next().unwrap_or("").trim();
        if !head.is_empty()
            && head.chars().all(|c| c.is_alphanumeric() || c == '_')
            && !out.iter().any(|o| o == head)
        {
            out.push(head.to_string());
        }
    };
    for l in text.lines() {
        let l = l.split('#').next().unwrap_or(l);
        if let Some(rest) = l.strip_prefix("import ") {
            for m in rest.trim_end_matches(['(', ')', ' ', '\\']).split(',') {
                push(m);
            }
        } else if let Some(rest) = l.strip_prefix("from ") {
            let module = rest.split_whitespace().next().unwrap_or("");
            if !module.starts_with('.') && rest.contains(" import") {
                push(module);
            }
        }
    }
    out
}

/// Whether Python source `text` imports `module` (`import m`, `import
/// m.sub`, `import a, m`, `from m import x`, `from m.sub import x`).
pub fn imports_module(text: &str, module: &str) -> bool {
    let is_mod = |s: &str| {
        let s = s.trim();
        let head = s.split([' ', '.', '\t']).next().unwrap_or("");
        head == module
    };
    text.lines().any(|l| {
        let l = l.trim_start();
        if let Some(rest) = l.strip_prefix("import ") {
            rest.split(',').any(is_mod)
        } else if let Some(rest) = l.strip_prefix("from ") {
            is_mod(rest)
        } else {
            false
        }
    })
}

/// The distribution probably providing `module`.
pub fn module_distribution(module: &str) -> String {
    MODULE_DISTS
        .iter()
        .find(|(m, _)| *m == module)
        .map_or_else(|| normalize_name(module), |(_, d)| d.to_string())
}

/// Whether `module` is a module or package of the sdist as seen from
/// `file`: next to it or above it, at the root, or one level below it.
fn is_local(root: &Path, file: &Path, module: &str) -> bool {
    let exists = |dir: &Path| {
        let d = root.join(dir);
        d.join(format!("{module}.py")).is_file() || d.join(module).is_dir()
    };
    if file.ancestors().skip(1).any(exists) {
        return true;
    }
    let Ok(rd) = std::fs::read_dir(root) else {
        return false;
    };
    rd.flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .any(|e| exists(Path::new(&e.file_name())))
}

/// The modules `test_files` (and the `conftest.py` files above them)
/// import that are neither local, standard, the project's, nor provided
/// by a distribution in `provided` (normalised names).
pub fn unprovided_imports(
    root: &Path,
    test_files: &[PathBuf],
    provided: &[String],
    project_modules: &[String],
) -> Vec<Unprovided> {
    let mut files: Vec<PathBuf> = test_files.to_vec();
    for f in test_files {
        for dir in f.ancestors().skip(1) {
            let c = dir.join("conftest.py");
            if !files.contains(&c) && root.join(&c).is_file() {
                files.push(c);
            }
        }
    }
    let mut out: Vec<Unprovided> = Vec::new();
    for f in &files {
        let Ok(bytes) = std::fs::read(root.join(f)) else {
            continue;
        };
        for m in imported_modules(&String::from_utf8_lossy(&bytes)) {
            if let Some(u) = out.iter_mut().find(|u| u.module == m) {
                u.files += 1;
                continue;
            }
            let dist = module_distribution(&m);
            let known = m.starts_with('_')
                || STDLIB.contains(&m.as_str())
                || RUNNER_MODULES.contains(&m.as_str())
                || project_modules.contains(&m)
                || provided.contains(&dist);
            if known || is_local(root, f, &m) {
                continue;
            }
            out.push(Unprovided {
                module: m,
                first_file: f.clone(),
                files: 1,
                guess: dist,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_imports() {
        let text = "import os, sys as s\nfrom dirty_equals import IsFloatNan\n\
                    from . import helper\nfrom .x import y\n    import yaml.reader\n\
                    # import commented\nfrom __future__ import annotations\nimport a.b.c as d\n";
        assert_eq!(
            imported_modules(text),
            ["os", "sys", "dirty_equals", "__future__", "a"]
        );
        assert_eq!(module_distribution("yaml"), "pyyaml");
        assert_eq!(module_distribution("dirty_equals"), "dirty-equals");
    }

    #[test]
    fn finds_imports_module() {
        assert!(imports_module("import os\nimport coverage\n", "coverage"));
        assert!(imports_module("  from coverage.data import X", "coverage"));
        assert!(imports_module("import os, coverage as c", "coverage"));
        assert!(!imports_module("import coverage_tools", "coverage"));
        assert!(!imports_module("# uses coverage", "coverage"));
    }

    #[test]
    fn finds_unprovided_imports() {
        let d = tempfile::tempdir().unwrap();
        let w = |p: &str, t: &str| {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, t).unwrap();
        };
        w(
            "tests/test_a.py",
            "import json\nimport pytest\nimport helper\nimport mypkg\nimport yaml\n\
             import dirty_equals\nimport hypothesis\nimport _testcapi\nimport srcpkg\n",
        );
        w("tests/test_b.py", "import dirty_equals\n");
        w("tests/conftest.py", "import faker\n");
        w("tests/helper.py", "");
        w("src/srcpkg/__init__.py", "");
        let files = vec![
            PathBuf::from("tests/test_a.py"),
            PathBuf::from("tests/test_b.py"),
        ];
        let u = unprovided_imports(
            d.path(),
            &files,
            &["hypothesis".into(), "pyyaml".into()],
            &["mypkg".into()],
        );
        let got: Vec<(String, usize)> = u.iter().map(|u| (u.guess.clone(), u.files)).collect();
        assert_eq!(
            got,
            [("dirty-equals".to_string(), 2), ("faker".to_string(), 1)]
        );
    }
}
