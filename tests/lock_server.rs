//! Pyodide's packages from a package base URL, as `loadPackage` gets them
//! under Node: a fixture dist (the real dist's files with a lock that adds
//! `fixturepkg`, its dependencies and its `-tests` archive, none of them in
//! the dist directory) and a package server on 127.0.0.1 that counts the
//! requests it answers. Each test has its own `PYODIDE_TEST_CACHE` (the
//! compiled modules linked in from the default cache).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use pyodide_test::runner::dist::Dist;
use pyodide_test::runner::lock::{self, InstallDir, InstallSource};
use sha2::{Digest, Sha256};

use common::{default_cache, dist_args, exe, link_or_copy, link_tree};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The real dist the other tests use (fetched once).
fn real_dist() -> PathBuf {
    let args = dist_args();
    match args.iter().position(|a| a == "--dist") {
        Some(i) => PathBuf::from(&args[i + 1]),
        None => default_cache().join("pyodide/314.0.7"),
    }
}

/// A zip of `(name, text)` members.
fn zip_of(members: &[(&str, &str)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, body) in members {
        zip.start_file(*name, opts).unwrap();
        zip.write_all(body.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

/// A pure-Python wheel of `name` 1.0 with `files`.
fn wheel_of(name: &str, files: &[(&str, &str)]) -> Vec<u8> {
    let info = format!("{name}-1.0.dist-info");
    let metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n");
    let wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let mut members = files.to_vec();
    let (m, w, r) = (
        format!("{info}/METADATA"),
        format!("{info}/WHEEL"),
        format!("{info}/RECORD"),
    );
    members.extend([
        (m.as_str(), metadata.as_str()),
        (w.as_str(), wheel),
        (r.as_str(), ""),
    ]);
    zip_of(&members)
}

const TEST_IT: &str = "import fixturedep\nimport fixturepkg\n\n\ndef test_value():\n    assert fixturepkg.VALUE == 42\n\n\ndef test_dependency():\n    assert fixturedep.BASE == 41\n";

/// A package the fixture lock adds (version 1.0).
struct FixturePackage {
    name: &'static str,
    file: &'static str,
    bytes: Vec<u8>,
    depends: Vec<&'static str>,
    install_dir: &'static str,
    package_type: &'static str,
}

/// `fixturepkg` (pure Python), its dependency `fixturedep`, its shared
/// library `libfixture` and its `fixturepkg-tests` archive.
fn fixture_packages() -> Vec<FixturePackage> {
    let site = |name, file, bytes, depends| FixturePackage {
        name,
        file,
        bytes,
        depends,
        install_dir: "site",
        package_type: "package",
    };
    vec![
        site(
            "fixturedep",
            "fixturedep-1.0-py3-none-any.whl",
            wheel_of("fixturedep", &[("fixturedep/__init__.py", "BASE = 41\n")]),
            vec![],
        ),
        FixturePackage {
            name: "libfixture",
            file: "libfixture-1.0.zip",
            // An empty wasm module, where Pyodide puts shared libraries.
            bytes: zip_of(&[("libfixture.so", "\0asm\u{1}\0\0\0")]),
            depends: vec![],
            install_dir: "dynlib",
            package_type: "shared_library",
        },
        site(
            "fixturepkg",
            "fixturepkg-1.0-py3-none-any.whl",
            wheel_of(
                "fixturepkg",
                &[(
                    "fixturepkg/__init__.py",
                    "from fixturedep import BASE\n\nVALUE = BASE + 1\n",
                )],
            ),
            vec!["fixturedep", "libfixture"],
        ),
        site(
            "fixturepkg-tests",
            "fixturepkg-tests.zip",
            zip_of(&[
                ("fixturepkg/tests/__init__.py", ""),
                ("fixturepkg/tests/test_it.py", TEST_IT),
            ]),
            vec!["fixturepkg"],
        ),
    ]
}

/// A fixture: its dist directory, its own cache, the files to serve (by
/// file name) and the dist's version as its package URLs use it.
struct Fixture {
    dir: PathBuf,
    dist: PathBuf,
    cache: PathBuf,
    files: BTreeMap<String, Vec<u8>>,
    version: String,
}

impl Fixture {
    fn new(name: &str) -> Fixture {
        let real = real_dist();
        let dir =
            std::env::temp_dir().join(format!("pt-lock-server-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let dist = dir.join("dist");
        fs::create_dir_all(&dist).unwrap();
        for entry in fs::read_dir(&real).unwrap().flatten() {
            let file = entry.file_name();
            if entry.file_type().unwrap().is_file() && file != "pyodide-lock.json" {
                link_or_copy(&entry.path(), &dist.join(&file));
            }
        }
        let mut lock: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(real.join("pyodide-lock.json")).unwrap())
                .unwrap();
        let packages = lock["packages"].as_object_mut().unwrap();
        // pytest goes to pip as before: this server has no Pyodide pytest.
        packages.remove("pytest");
        let mut files = BTreeMap::new();
        for FixturePackage {
            name,
            file,
            bytes,
            depends,
            install_dir,
            package_type,
        } in fixture_packages()
        {
            packages.insert(
                name.to_string(),
                serde_json::json!({
                    "name": name,
                    "version": "1.0",
                    "file_name": file,
                    "install_dir": install_dir,
                    "sha256": sha256(&bytes),
                    "package_type": package_type,
                    "imports": if name.ends_with("-tests") || install_dir == "dynlib" { vec![] } else { vec![name] },
                    "depends": depends,
                    "unvendored_tests": name == "fixturepkg",
                    "shared_library": install_dir == "dynlib",
                }),
            );
            files.insert(file.to_string(), bytes);
        }
        fs::write(
            dist.join("pyodide-lock.json"),
            serde_json::to_string_pretty(&lock).unwrap(),
        )
        .unwrap();
        let cache = dir.join("cache");
        link_tree(&default_cache().join("modules"), &cache.join("modules"));
        let version = lock::url_version(&Dist::open(&dist).unwrap()).expect("the dist's version");
        Fixture {
            dir,
            dist,
            cache,
            files,
            version,
        }
    }

    /// The files served under `/pyodide/v<version>/full/`.
    fn served(&self) -> BTreeMap<String, Vec<u8>> {
        self.files
            .iter()
            .map(|(k, v)| (format!("pyodide/v{}/full/{k}", self.version), v.clone()))
            .collect()
    }

    /// `pyodide-test --dist FIXTURE --package-base-url BASE ARGS` with the
    /// fixture's cache and no proxy.
    fn run(&self, base: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(exe());
        cmd.arg("--dist")
            .arg(&self.dist)
            .arg("--package-base-url")
            .arg(base)
            .args(args)
            .env("PYODIDE_TEST_CACHE", &self.cache)
            .current_dir(&self.dir)
            .stdin(Stdio::null());
        for var in ["ALL_PROXY", "HTTPS_PROXY", "HTTP_PROXY"] {
            cmd.env_remove(var).env_remove(var.to_lowercase());
        }
        cmd.output().expect("running pyodide-test")
    }

    /// Every file under the cache's `packages/`.
    fn cached_packages(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in fs::read_dir(dir).into_iter().flatten().flatten() {
                if e.file_type().unwrap().is_dir() {
                    walk(&e.path(), out);
                } else {
                    out.push(e.path());
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.cache.join("packages"), &mut out);
        out.sort();
        out
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A package server on 127.0.0.1: GET of a served path gives its bytes,
/// anything else 404; every request's path is logged.
struct Server {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(files: BTreeMap<String, Vec<u8>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = log.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut chunk = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(path.clone());
                let reply = match files.get(path.trim_start_matches('/')) {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&reply);
            }
        });
        Server { port, log }
    }

    /// The base URL, with Pyodide's layout and the `{version}` placeholder.
    fn base(&self) -> String {
        format!("http://127.0.0.1:{}/pyodide/v{{version}}/full/", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// The default package base URL of the real dist, read from its own
/// `pyodide.mjs`: an https URL with the dist's version in it.
#[test]
fn the_real_dists_default_base_url() {
    let dist = Dist::open(&real_dist()).unwrap();
    let template = lock::dist_url_template(&dist).expect("a URL template in pyodide.mjs");
    assert!(
        template.template.starts_with("https://"),
        "{}",
        template.template
    );
    assert!(
        template.template.contains("{version}"),
        "{}",
        template.template
    );
    let version = dist.pyodide_version().expect("the dist's version");
    assert_eq!(template.version.as_deref(), Some(version.as_str()));
    let url = lock::package_base_url(&dist).unwrap().unwrap();
    assert!(url.starts_with("https://") && url.ends_with('/'), "{url}");
    assert!(url.contains(&version) && !url.contains('{'), "{url}");
}

/// `--with fixturepkg` installs it, its dependency and its shared library
/// (in /usr/lib) from the server, checked by hash; a second run makes no
/// request. `lock_tests` fetches the `-tests` archive the same way.
#[test]
fn lock_packages_come_from_the_base_url_once() {
    let fx = Fixture::new("install");
    let server = Server::start(fx.served());
    let code = "import os, fixturepkg; print(fixturepkg.VALUE, os.path.isfile('/usr/lib/libfixture.so'), os.path.isfile('/usr/lib/libfixture-1.0.zip'))";
    let out = fx.run(
        &server.base(),
        &["python", "--with", "fixturepkg", "-c", code],
    );
    assert_eq!(
        (text(&out.stdout).as_str(), out.status.code()),
        ("42 True False\n", Some(0)),
        "stderr: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stderr), "", "no warning");
    let prefix = format!("/pyodide/v{}/full/", fx.version);
    let mut asked = server.requests();
    asked.sort();
    assert_eq!(
        asked,
        [
            "fixturedep-1.0-py3-none-any.whl",
            "fixturepkg-1.0-py3-none-any.whl",
            "libfixture-1.0.zip"
        ]
        .map(|f| format!("{prefix}{f}"))
    );
    // Cached under their sha256.
    for file in [
        "fixturedep-1.0-py3-none-any.whl",
        "fixturepkg-1.0-py3-none-any.whl",
    ] {
        let cached = fx
            .cache
            .join("packages")
            .join(sha256(&fx.files[file]))
            .join(file);
        assert_eq!(fs::read(&cached).unwrap(), fx.files[file]);
    }
    // A second run: the same, and no request.
    let again = fx.run(
        &server.base(),
        &["python", "--with", "fixturepkg", "-c", code],
    );
    assert_eq!(
        text(&again.stdout),
        "42 True False\n",
        "{}",
        text(&again.stderr)
    );
    assert_eq!(server.requests().len(), 3, "the second run made requests");

    // The -tests archive, fetched by lock_tests in this process.
    let dist = Dist::open(&fx.dist)
        .unwrap()
        .with_package_base_url(Some(server.base()));
    let tests = lock::lock_tests(&dist, &fx.cache, "FixturePkg", "1.0")
        .unwrap()
        .expect("the fixturepkg-tests entry");
    assert_eq!(
        (tests.name.as_str(), tests.version.as_str()),
        ("fixturepkg-tests", "1.0")
    );
    assert_eq!(tests.source, InstallSource::BaseUrl);
    assert_eq!(tests.install_dir, InstallDir::Site);
    assert_eq!(
        fs::read(&tests.path).unwrap(),
        fx.files["fixturepkg-tests.zip"]
    );
    assert_eq!(
        server.requests().last().map(String::as_str),
        Some(format!("{prefix}fixturepkg-tests.zip").as_str())
    );
    let count = server.requests().len();
    let again = lock::lock_tests(&dist, &fx.cache, "fixturepkg", "1.0")
        .unwrap()
        .unwrap();
    assert_eq!(again.path, tests.path);
    assert_eq!(server.requests().len(), count, "the cache was not used");
    assert!(
        lock::lock_tests(&dist, &fx.cache, "fixturedep", "1.0")
            .unwrap()
            .is_none()
    );
    // Another version of fixturepkg under test (a --with wheel): the
    // lock's tests are 1.0's; none, and nothing asked of the server.
    fs::remove_dir_all(fx.cache.join("packages")).unwrap();
    assert!(
        lock::lock_tests(&dist, &fx.cache, "fixturepkg", "1.1")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        server.requests().len(),
        count,
        "another version's tests were fetched"
    );
}

/// A served file that does not match the lock's sha256 is refused: one
/// line naming the file and both hashes, status 2, nothing of it cached.
/// A file the server does not have is an error too, not a fallback.
#[test]
fn a_tampered_or_missing_file_is_refused() {
    let fx = Fixture::new("tamper");
    let wheel = "fixturepkg-1.0-py3-none-any.whl";
    let mut served = fx.served();
    let key = format!("pyodide/v{}/full/{wheel}", fx.version);
    let tampered = wheel_of("fixturepkg", &[("fixturepkg/__init__.py", "VALUE = 666\n")]);
    served.insert(key.clone(), tampered.clone());
    let server = Server::start(served);
    let out = fx.run(
        &server.base(),
        &["python", "--with", "fixturepkg", "-c", "pass"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pyodide-test: error: "), "{err}");
    for needle in [wheel, &sha256(&fx.files[wheel]), &sha256(&tampered)] {
        assert!(err.contains(needle), "{needle} not in: {err}");
    }
    let cached = fx.cached_packages();
    assert!(
        !cached
            .iter()
            .any(|p| p.to_string_lossy().contains("fixturepkg")),
        "{cached:?}"
    );

    // Missing on the server: an error naming the status, no fallback.
    let mut served = fx.served();
    served.remove(&key);
    let server = Server::start(served);
    let out = fx.run(
        &server.base(),
        &["python", "--with", "fixturepkg", "-c", "pass"],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("404") && err.contains(wheel), "{err}");
}

/// A base URL that cannot be reached: a lock package falls back to PyPI's
/// wheel with one warning naming both versions and --package-base-url; one
/// that PyPI does not have is an error that says so.
#[test]
fn an_unreachable_base_url_falls_back_to_pypi() {
    let fx = Fixture::new("unreachable");
    // A port nobody listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = format!("http://127.0.0.1:{port}/");
    let lock: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(fx.dist.join("pyodide-lock.json")).unwrap())
            .unwrap();
    let six = lock["packages"]["six"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let out = fx.run(
        &base,
        &[
            "python",
            "--with",
            "six",
            "-c",
            "import six; print(six.__version__)",
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let pypi = text(&out.stdout).trim().to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("pyodide-test: warning: "), "{err}");
    for needle in [
        format!("six {six}"),
        format!("six {pypi}"),
        "--package-base-url".to_string(),
        base.clone(),
    ] {
        assert!(err.contains(&needle), "{needle} not in: {err}");
    }
    let out = fx.run(&base, &["python", "--with", "fixturepkg", "-c", "pass"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("fixturepkg 1.0") && err.contains("--package-base-url"),
        "{err}"
    );
}

/// The whole run by name: the package and its tests from the server, the
/// two tests run.
#[test]
fn a_package_and_its_lock_tests_run_by_name() {
    let fx = Fixture::new("suite");
    // pytest from pip as before: the resolutions the default cache has.
    link_tree(&default_cache().join("wheels"), &fx.cache.join("wheels"));
    link_tree(&default_cache().join("pyc"), &fx.cache.join("pyc"));
    let server = Server::start(fx.served());
    let json = fx.dir.join("out.jsonl");
    let out = fx.run(
        &server.base(),
        &[
            "fixturepkg",
            "--update",
            "--json",
            json.to_str().unwrap(),
            "--snapshot-dir",
            fx.dir.join("snapshots").to_str().unwrap(),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let records: Vec<serde_json::Value> = fs::read_to_string(&json)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let outcomes: BTreeMap<String, String> = records
        .iter()
        .filter(|r| r.get("id").is_some())
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        BTreeMap::from([
            (
                "fixturepkg/tests/test_it.py::test_dependency".to_string(),
                "passed".to_string()
            ),
            (
                "fixturepkg/tests/test_it.py::test_value".to_string(),
                "passed".to_string()
            ),
        ]),
        "{err}"
    );
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.ends_with("/fixturepkg-tests.zip")),
        "{:?}",
        server.requests()
    );
}
