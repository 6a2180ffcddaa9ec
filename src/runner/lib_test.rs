//! Fetch CPython's own test suite (`Lib/test`) from Debian's packages.
//!
//! Debian ships `Lib/test` as `libpython3.X-testsuite`, except
//! `test/__init__.py`, `test/support/` and `test/libregrtest/`, which are in
//! `libpython3.X-stdlib`. [`fetch_lib_test`] downloads both `.deb`s with
//! `apt-get download`, merges their `usr/lib/python3.X/test/` into one tree
//! and caches it as `CACHE/cpython-tests/<version>/test/`.
//!
//! The system's apt configuration is never changed: apt runs with a private
//! sources list, lists directory, package cache and an empty dpkg status, all
//! under `CACHE/cpython-tests/apt/`. The sources list is derived from the
//! system's own sources (same URIs, components and keys): first the suites
//! the machine is configured with, then `sid` (the only suite that carries
//! the newest Python). Which one has the package is found by asking apt, not
//! from a table of versions.
//!
//! Self-contained: only `anyhow` and `std`; it shells out to `apt-config`,
//! `apt-get`, `apt-cache` and `dpkg-deb`.

use anyhow::{Context, Result, anyhow, bail};
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A `Lib/test` tree ready to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibTest {
    /// The `test` package directory (`.../cpython-tests/3.14.10/test`).
    pub dir: PathBuf,
    /// CPython's version of this `Lib/test`, e.g. `3.14.10`.
    pub version: String,
    /// The Debian package version it came from, e.g. `3.14.10-1`.
    pub deb_version: String,
    /// The suite it came from (`bookworm`, `sid`, ...).
    pub suite: String,
}

/// Name of the file, beside `test/`, that records where a tree came from.
/// Its presence marks a complete cache entry.
const SOURCE_FILE: &str = "SOURCE";

/// Returns `Lib/test` of Python `major.minor`, fetching it on first use.
///
/// A cached tree is returned without any network access (the newest cached
/// `major.minor.*` wins).
pub fn fetch_lib_test(cache_dir: &Path, major: u32, minor: u32) -> Result<LibTest> {
    let root = cache_dir.join("cpython-tests");
    if let Some(hit) = cached_lib_test(&root, major, minor)? {
        return Ok(hit);
    }
    check_tools()?;
    let testsuite = format!("libpython{major}.{minor}-testsuite");
    let stdlib = format!("libpython{major}.{minor}-stdlib");

    let system = system_sources().context("reading the system's apt sources")?;
    let configured = configured_stanzas(&system);
    let sid = sid_stanzas(&system);
    if configured.is_empty() && sid.is_empty() {
        bail!("no Debian `deb` source in the system's apt configuration to fetch {testsuite} from");
    }
    let configured_suites = suites_of(&configured);

    let mut problems = Vec::new();
    for (name, stanzas) in [("configured", &configured), ("sid", &sid)] {
        if stanzas.is_empty() {
            continue;
        }
        let apt = PrivateApt::new(&root.join("apt").join(name))?;
        apt.write_sources(stanzas)?;
        if let Err(e) = apt.update() {
            problems.push(format!("{name} suites: {e:#}"));
            continue;
        }
        let Some(deb_version) = apt.candidate(&testsuite)? else {
            continue;
        };
        let suite = apt
            .suite_of(&testsuite, &deb_version)
            .unwrap_or_else(|| name.to_string());
        return install(
            &root,
            &apt,
            &testsuite,
            &stdlib,
            &deb_version,
            &suite,
            major,
            minor,
        );
    }
    let mut msg = format!(
        "Debian has no {testsuite} in the configured suites ({}) or sid",
        if configured_suites.is_empty() {
            "none".to_string()
        } else {
            configured_suites.join(", ")
        }
    );
    if !problems.is_empty() {
        msg.push_str(&format!(
            " (apt-get update failed for: {})",
            problems.join("; ")
        ));
    }
    Err(anyhow!(msg))
}

/// The newest complete cached tree for `major.minor`, if any.
pub fn cached_lib_test(root: &Path, major: u32, minor: u32) -> Result<Option<LibTest>> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", root.display())),
    };
    let prefix = format!("{major}.{minor}.");
    let mut best: Option<(Vec<u64>, LibTest)> = None;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(&prefix) {
            continue;
        }
        let dir = entry.path();
        let Ok(source) = fs::read_to_string(dir.join(SOURCE_FILE)) else {
            continue;
        };
        let field = |k: &str| {
            source
                .lines()
                .find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix('=')))
                .unwrap_or("")
                .to_string()
        };
        let found = LibTest {
            dir: dir.join("test"),
            version: name.clone(),
            deb_version: field("deb_version"),
            suite: field("suite"),
        };
        if check_tree(&found.dir).is_err() {
            continue;
        }
        let key = version_key(&name);
        if best.as_ref().is_none_or(|(k, _)| key > *k) {
            best = Some((key, found));
        }
    }
    Ok(best.map(|(_, t)| t))
}

fn version_key(v: &str) -> Vec<u64> {
    v.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap_or(0))
        .collect()
}

/// CPython's version from a Debian version: `1:3.14.10-1` → `3.14.10`,
/// `3.11.2-6+deb12u6` → `3.11.2`, `3.14.0~rc1-1` → `3.14.0rc1`.
pub fn upstream_version(deb_version: &str) -> String {
    let v = deb_version.split_once(':').map_or(deb_version, |(_, r)| r);
    let v = v.rsplit_once('-').map_or(v, |(u, _)| u);
    v.replace('~', "")
}

/// `test/` must be a package with CPython's support code.
pub fn check_tree(test_dir: &Path) -> Result<()> {
    for (what, is_dir) in [
        ("__init__.py", false),
        ("support", true),
        ("libregrtest", true),
    ] {
        let p = test_dir.join(what);
        let ok = if is_dir {
            p.join("__init__.py").is_file()
        } else {
            p.is_file()
        };
        if !ok {
            bail!(
                "{} lacks {what}{}",
                test_dir.display(),
                if is_dir { "/" } else { "" }
            );
        }
    }
    Ok(())
}

fn check_tools() -> Result<()> {
    for tool in ["apt-get", "apt-cache", "dpkg-deb"] {
        match Command::new(tool).arg("--version").output() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => bail!(
                "{tool} is not installed: CPython's Lib/test is fetched from Debian's packages, which needs apt-get, apt-cache and dpkg-deb"
            ),
            Err(e) => return Err(e).with_context(|| format!("running {tool}")),
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn install(
    root: &Path,
    apt: &PrivateApt,
    testsuite: &str,
    stdlib: &str,
    deb_version: &str,
    suite: &str,
    major: u32,
    minor: u32,
) -> Result<LibTest> {
    let version = upstream_version(deb_version);
    let final_dir = root.join(&version);
    let staging = root.join(format!(".tmp-{version}-{}-{}", std::process::id(), nanos()));
    let result = (|| -> Result<()> {
        let debs = staging.join("debs");
        fs::create_dir_all(&debs)?;
        apt.download(
            &debs,
            &[
                format!("{testsuite}={deb_version}"),
                format!("{stdlib}={deb_version}"),
            ],
        )?;
        let unpacked = staging.join("unpacked");
        fs::create_dir_all(&unpacked)?;
        let mut names = Vec::new();
        for deb in fs::read_dir(&debs)? {
            let deb = deb?.path();
            if deb.extension().is_some_and(|e| e == "deb") {
                run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
                names.push(deb.file_name().unwrap().to_string_lossy().into_owned());
            }
        }
        names.sort();
        let tree = unpacked.join(format!("usr/lib/python{major}.{minor}/test"));
        check_tree(&tree).with_context(|| {
            format!(
                "the packages {} do not hold a usable Lib/test",
                names.join(", ")
            )
        })?;
        fs::rename(&tree, staging.join("test"))?;
        fs::remove_dir_all(&unpacked)?;
        fs::remove_dir_all(&debs)?;
        fs::write(
            staging.join(SOURCE_FILE),
            format!(
                "version={version}\ndeb_version={deb_version}\nsuite={suite}\npackages={}\n",
                names.join(" ")
            ),
        )?;
        Ok(())
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&staging);
        return Err(e);
    }
    match fs::rename(&staging, &final_dir) {
        Ok(()) => {}
        // Another process won the race (or a stale incomplete entry is in
        // the way): keep a complete one, replace an incomplete one.
        Err(_) if final_dir.join(SOURCE_FILE).is_file() => {
            let _ = fs::remove_dir_all(&staging);
        }
        Err(_) => {
            fs::remove_dir_all(&final_dir).ok();
            fs::rename(&staging, &final_dir).with_context(|| {
                format!("moving {} to {}", staging.display(), final_dir.display())
            })?;
        }
    }
    let dir = final_dir.join("test");
    check_tree(&dir)?;
    Ok(LibTest {
        dir,
        version,
        deb_version: deb_version.to_string(),
        suite: suite.to_string(),
    })
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// apt with a private state

struct PrivateApt {
    dir: PathBuf,
}

impl PrivateApt {
    fn new(dir: &Path) -> Result<Self> {
        for sub in [
            "lists/partial",
            "archives/partial",
            "cache",
            "parts",
            "prefparts",
        ] {
            fs::create_dir_all(dir.join(sub))
                .with_context(|| format!("creating {}", dir.join(sub).display()))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn sources_file(&self) -> PathBuf {
        // The `.sources` extension makes apt read it as deb822.
        self.dir.join("private.sources")
    }

    fn write_sources(&self, stanzas: &[Stanza]) -> Result<()> {
        let text = stanzas
            .iter()
            .map(Stanza::render)
            .collect::<Vec<_>>()
            .join("\n");
        let tmp = self
            .dir
            .join(format!("private.sources.tmp{}", std::process::id()));
        fs::write(&tmp, text)?;
        fs::rename(&tmp, self.sources_file())?;
        Ok(())
    }

    fn command(&self, program: &str) -> Command {
        let d = |sub: &str| self.dir.join(sub).to_string_lossy().into_owned();
        let mut c = Command::new(program);
        c.env("LC_ALL", "C").env_remove("APT_CONFIG");
        let mut opts = vec![
            format!("Dir::Etc::sourcelist={}", self.sources_file().display()),
            format!("Dir::Etc::sourceparts={}", d("parts")),
            format!("Dir::State::Lists={}", d("lists")),
            format!("Dir::Cache={}", d("cache")),
            format!("Dir::Cache::Archives={}", d("archives")),
            "Dir::State::status=/dev/null".to_string(),
            "Dir::Etc::preferences=/dev/null".to_string(),
            format!("Dir::Etc::preferencesparts={}", d("prefparts")),
            "Acquire::Languages=none".to_string(),
            "APT::Get::List-Cleanup=true".to_string(),
        ];
        if is_root() {
            // apt would hand downloads to the `_apt` user, who cannot write
            // into our private directories.
            opts.push("APT::Sandbox::User=root".to_string());
        }
        for o in opts {
            c.arg("-o").arg(o);
        }
        c
    }

    fn update(&self) -> Result<()> {
        let out = output(self.command("apt-get").args(["-q", "update"]))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        // apt-get update exits 0 on some fetch failures but says so with W:/E:.
        let bad: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                l.starts_with("E:") || (l.starts_with("W:") && l.contains("Failed to fetch"))
            })
            .collect();
        if !out.status.success() || !bad.is_empty() {
            bail!(
                "apt-get update: {}",
                first_lines(if bad.is_empty() {
                    stderr.lines().collect()
                } else {
                    bad
                })
            );
        }
        Ok(())
    }

    /// The candidate version of `package`, `None` when apt knows none.
    fn candidate(&self, package: &str) -> Result<Option<String>> {
        let out = output(self.command("apt-cache").args(["policy", package]))?;
        if !out.status.success() {
            bail!(
                "apt-cache policy {package}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(parse_policy_candidate(&String::from_utf8_lossy(
            &out.stdout,
        )))
    }

    /// The suite (archive) that offers `package` at `version`, from `apt-cache policy`.
    fn suite_of(&self, package: &str, version: &str) -> Option<String> {
        let out = output(self.command("apt-cache").args(["policy", package])).ok()?;
        parse_policy_suite(&String::from_utf8_lossy(&out.stdout), version)
    }

    fn download(&self, into: &Path, specs: &[String]) -> Result<()> {
        let mut c = self.command("apt-get");
        c.current_dir(into).args(["-q", "download"]).args(specs);
        run(&mut c)
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

fn output(c: &mut Command) -> Result<Output> {
    let program = c.get_program().to_string_lossy().into_owned();
    c.output().map_err(|e| {
        if e.kind() == ErrorKind::NotFound {
            anyhow!("{program} is not installed (needed to fetch CPython's Lib/test from Debian's packages)")
        } else {
            anyhow!("running {program}: {e}")
        }
    })
}

fn run(c: &mut Command) -> Result<()> {
    let shown = format!(
        "{} {}",
        c.get_program().to_string_lossy(),
        c.get_args()
            .map(|a| a.to_string_lossy())
            .filter(|a| !a.contains("::") && a != "-o")
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = output(c)?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!("{shown} failed: {}", first_lines(stderr.lines().collect()));
    }
    Ok(())
}

fn first_lines(lines: Vec<&str>) -> String {
    let lines: Vec<&str> = lines
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(3)
        .collect();
    lines.join(" | ")
}

/// `Candidate: X` from `apt-cache policy` output (`(none)` → `None`).
pub fn parse_policy_candidate(policy: &str) -> Option<String> {
    policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "(none)")
        .map(str::to_string)
}

/// The suite of the first origin listed under `version` in the version table:
/// `500 URI sid/main amd64 Packages` → `sid`.
pub fn parse_policy_suite(policy: &str, version: &str) -> Option<String> {
    let mut in_version = false;
    for line in policy.lines() {
        let t = line.trim_start();
        let t = t.strip_prefix("*** ").unwrap_or(t);
        if t.split_whitespace().next() == Some(version) {
            in_version = true;
            continue;
        }
        if in_version {
            let fields: Vec<&str> = t.split_whitespace().collect();
            // "<prio> <uri> <suite>/<component> <arch> Packages"
            if fields.len() >= 3 && fields[0].parse::<i64>().is_ok() {
                if let Some((suite, _)) = fields[2].split_once('/') {
                    return Some(suite.to_string());
                }
                continue;
            }
            break;
        }
    }
    None
}

// ---------------------------------------------------------------------------
// The system's sources

/// One source, as a deb822 stanza: fields in order, values as written
/// (multi-line values keep their continuation lines, e.g. an inline key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stanza {
    pub fields: Vec<(String, String)>,
}

impl Stanza {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn words(&self, key: &str) -> Vec<String> {
        self.get(key)
            .map(|v| v.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default()
    }

    pub fn types(&self) -> Vec<String> {
        self.words("Types")
    }
    pub fn uris(&self) -> Vec<String> {
        self.words("URIs")
    }
    pub fn suites(&self) -> Vec<String> {
        self.words("Suites")
    }
    pub fn components(&self) -> Vec<String> {
        self.words("Components")
    }
    pub fn enabled(&self) -> bool {
        !matches!(
            self.get("Enabled")
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref(),
            Some("no" | "false")
        )
    }

    fn set(&mut self, key: &str, value: &str) {
        match self
            .fields
            .iter_mut()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            Some(slot) => slot.1 = value.to_string(),
            None => self.fields.push((key.to_string(), value.to_string())),
        }
    }

    /// The same source limited to binary packages and the given suites.
    fn with_suites(&self, suites: &[String]) -> Stanza {
        let mut s = self.clone();
        s.fields.retain(|(k, _)| !k.eq_ignore_ascii_case("Enabled"));
        s.set("Types", "deb");
        s.set("Suites", &suites.join(" "));
        s
    }

    /// deb822 text, ending with a newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.fields {
            let mut lines = v.split('\n');
            out.push_str(&format!("{k}: {}\n", lines.next().unwrap_or("").trim()));
            for l in lines {
                let l = l.trim_end();
                // An empty line inside a value is written as " ." in deb822.
                out.push_str(&if l.trim().is_empty() {
                    " .".to_string()
                } else {
                    format!(" {}", l.trim_start())
                });
                out.push('\n');
            }
        }
        out
    }
}

/// Parses deb822 `.sources` text into stanzas (comments dropped).
pub fn parse_deb822(text: &str) -> Vec<Stanza> {
    let mut stanzas = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if !cur.is_empty() {
                stanzas.push(Stanza {
                    fields: std::mem::take(&mut cur),
                });
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = cur.last_mut() {
                let l = line.trim();
                last.1.push('\n');
                last.1.push_str(if l == "." { "" } else { l });
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            cur.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    if !cur.is_empty() {
        stanzas.push(Stanza { fields: cur });
    }
    stanzas
}

/// Parses one-line `sources.list` text (`deb [opts] URI SUITE COMPONENT...`)
/// into stanzas.
pub fn parse_one_line(text: &str) -> Vec<Stanza> {
    let mut stanzas = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (kind, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if kind != "deb" && kind != "deb-src" {
            continue;
        }
        let mut rest = rest.trim_start();
        let mut fields = vec![("Types".to_string(), kind.to_string())];
        let mut options = Vec::new();
        if let Some(r) = rest.strip_prefix('[') {
            let Some((opts, after)) = r.split_once(']') else {
                continue;
            };
            for opt in opts.split_whitespace() {
                if let Some((k, v)) = opt.split_once('=') {
                    let key = match k.to_ascii_lowercase().trim_end_matches(['+', '-']) {
                        "arch" => "Architectures".to_string(),
                        "signed-by" => "Signed-By".to_string(),
                        "trusted" => "Trusted".to_string(),
                        "lang" => "Languages".to_string(),
                        "target" => "Targets".to_string(),
                        "check-valid-until" => "Check-Valid-Until".to_string(),
                        other => other.to_string(),
                    };
                    options.push((key, v.replace(',', " ")));
                }
            }
            rest = after.trim_start();
        }
        let mut words = rest.split_whitespace();
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else {
            continue;
        };
        fields.push(("URIs".to_string(), uri.to_string()));
        fields.push(("Suites".to_string(), suite.to_string()));
        let comps: Vec<&str> = words.collect();
        if !comps.is_empty() {
            fields.push(("Components".to_string(), comps.join(" ")));
        }
        fields.extend(options);
        stanzas.push(Stanza { fields });
    }
    stanzas
}

/// The system's sources: the files apt itself reads (`Dir::Etc::sourcelist`
/// and `Dir::Etc::sourceparts`, asked from `apt-config`).
pub fn system_sources() -> Result<Vec<Stanza>> {
    let (list, parts) = apt_source_paths();
    let mut stanzas = Vec::new();
    if let Ok(text) = fs::read_to_string(&list) {
        stanzas.extend(if list.extension().is_some_and(|e| e == "sources") {
            parse_deb822(&text)
        } else {
            parse_one_line(&text)
        });
    }
    if let Ok(entries) = fs::read_dir(&parts) {
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let Some(ext) = f.extension().and_then(|e| e.to_str()) else {
                continue;
            };
            let Ok(text) = fs::read_to_string(&f) else {
                continue;
            };
            match ext {
                "sources" => stanzas.extend(parse_deb822(&text)),
                "list" => stanzas.extend(parse_one_line(&text)),
                _ => {}
            }
        }
    }
    Ok(stanzas)
}

fn apt_source_paths() -> (PathBuf, PathBuf) {
    let mut list = PathBuf::from("/etc/apt/sources.list");
    let mut parts = PathBuf::from("/etc/apt/sources.list.d");
    if let Ok(out) = Command::new("apt-config")
        .args([
            "shell",
            "L",
            "Dir::Etc::sourcelist/f",
            "P",
            "Dir::Etc::sourceparts/d",
        ])
        .output()
    {
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let unquote = |v: &str| v.trim().trim_matches('\'').to_string();
            if let Some(v) = line.strip_prefix("L=") {
                list = PathBuf::from(unquote(v));
            } else if let Some(v) = line.strip_prefix("P=") {
                parts = PathBuf::from(unquote(v));
            }
        }
    }
    (list, parts)
}

fn is_binary_source(s: &Stanza) -> bool {
    s.enabled()
        && s.types().iter().any(|t| t == "deb")
        && !s.uris().is_empty()
        && !s.suites().is_empty()
}

/// The machine's own binary sources, as configured.
pub fn configured_stanzas(system: &[Stanza]) -> Vec<Stanza> {
    system
        .iter()
        .filter(|s| is_binary_source(s))
        .map(|s| s.with_suites(&s.suites()))
        .collect()
}

/// `sid` from the same archives: every binary source that serves a plain
/// distribution suite (`bookworm`, not `bookworm-security` or `./`), once per
/// set of URIs, with `Suites: sid`.
pub fn sid_stanzas(system: &[Stanza]) -> Vec<Stanza> {
    let mut seen: Vec<Vec<String>> = Vec::new();
    let mut out = Vec::new();
    for s in system.iter().filter(|s| is_binary_source(s)) {
        let plain = s.suites().iter().any(|x| !x.contains(['-', '/']));
        if !plain || s.components().is_empty() || seen.contains(&s.uris()) {
            continue;
        }
        seen.push(s.uris());
        out.push(s.with_suites(&["sid".to_string()]));
    }
    out
}

fn suites_of(stanzas: &[Stanza]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for s in stanzas.iter().flat_map(Stanza::suites) {
        if !v.contains(&s) {
            v.push(s);
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/apt")
                .join(name),
        )
        .unwrap()
    }

    #[test]
    fn deb822_bookworm() {
        let s = parse_deb822(&fixture("debian.sources"));
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].types(), ["deb"]);
        assert_eq!(s[0].uris(), ["http://archive.example/debian"]);
        assert_eq!(s[0].suites(), ["bookworm", "bookworm-updates"]);
        assert_eq!(s[0].components(), ["main"]);
        assert_eq!(
            s[0].get("signed-by"),
            Some("/usr/share/keyrings/debian-archive-keyring.gpg")
        );
        assert_eq!(s[1].suites(), ["bookworm-security"]);

        let c = configured_stanzas(&s);
        assert_eq!(c.len(), 2);
        let sid = sid_stanzas(&s);
        assert_eq!(sid.len(), 1, "the security archive has no sid");
        assert_eq!(
            sid[0].render(),
            "Types: deb\nURIs: http://archive.example/debian\nSuites: sid\nComponents: main\n\
             Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        );
        assert_eq!(
            suites_of(&c),
            ["bookworm", "bookworm-updates", "bookworm-security"]
        );
    }

    #[test]
    fn deb822_inline_key_disabled_and_src() {
        let s = parse_deb822(&fixture("mixed.sources"));
        assert_eq!(s.len(), 4);
        // deb-src only, and Enabled: no, are not used.
        let c = configured_stanzas(&s);
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].types(),
            ["deb"],
            "deb-src dropped from a `deb deb-src` stanza"
        );
        let key = c[0].get("Signed-By").unwrap();
        assert!(
            key.starts_with("\n-----BEGIN PGP PUBLIC KEY BLOCK-----"),
            "{key:?}"
        );
        assert!(key.contains("\n\n"), "empty line kept");
        // The key survives rendering, with " ." for its empty line.
        let text = c[0].render();
        assert!(text.contains("\n .\n"), "{text}");
        assert_eq!(parse_deb822(&text)[0], c[0]);
        // A trixie-only mirror of another archive gives its own sid stanza.
        let sid = sid_stanzas(&s);
        assert_eq!(sid.len(), 2);
        assert_eq!(sid[1].uris(), ["https://mirror.example/debian"]);
        assert_eq!(sid[1].components(), ["main", "contrib"]);
    }

    #[test]
    fn one_line_format() {
        let s = parse_one_line(&fixture("sources.list"));
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].uris(), ["http://archive.example/debian"]);
        assert_eq!(s[0].suites(), ["bookworm"]);
        assert_eq!(s[0].components(), ["main", "contrib"]);
        assert_eq!(s[1].get("Architectures"), Some("amd64 i386"));
        assert_eq!(s[1].get("Signed-By"), Some("/etc/apt/keyrings/x.gpg"));
        assert_eq!(s[2].types(), ["deb-src"]);
        let c = configured_stanzas(&s);
        assert_eq!(c.len(), 3);
        let sid = sid_stanzas(&s);
        assert_eq!(sid.len(), 1);
        assert_eq!(sid[0].suites(), ["sid"]);
        assert_eq!(sid[0].get("Architectures"), None);
    }

    #[test]
    fn versions() {
        assert_eq!(upstream_version("3.14.10-1"), "3.14.10");
        assert_eq!(upstream_version("3.11.2-6+deb12u6"), "3.11.2");
        assert_eq!(upstream_version("1:3.14.0~rc1-1"), "3.14.0rc1");
        assert!(version_key("3.14.10") > version_key("3.14.9"));
    }

    #[test]
    fn policy() {
        let p = fixture("policy.txt");
        assert_eq!(parse_policy_candidate(&p).as_deref(), Some("3.14.10-1"));
        assert_eq!(parse_policy_suite(&p, "3.14.10-1").as_deref(), Some("sid"));
        assert_eq!(
            parse_policy_candidate("libx:\n  Installed: (none)\n  Candidate: (none)\n"),
            None
        );
        assert_eq!(parse_policy_candidate(""), None);
    }

    #[test]
    fn cache_hit_needs_complete_tree() {
        let tmp =
            std::env::temp_dir().join(format!("libtest-cache-{}-{}", std::process::id(), nanos()));
        let root = tmp.join("cpython-tests");
        for (v, complete) in [
            ("3.14.9", true),
            ("3.14.10", true),
            ("3.14.11", false),
            ("3.11.2", true),
        ] {
            let t = root.join(v).join("test");
            fs::create_dir_all(t.join("support")).unwrap();
            fs::create_dir_all(t.join("libregrtest")).unwrap();
            fs::write(t.join("__init__.py"), "").unwrap();
            fs::write(t.join("support/__init__.py"), "").unwrap();
            fs::write(t.join("libregrtest/__init__.py"), "").unwrap();
            if complete {
                fs::write(
                    root.join(v).join(SOURCE_FILE),
                    format!("version={v}\ndeb_version={v}-1\nsuite=sid\n"),
                )
                .unwrap();
            }
        }
        let hit = cached_lib_test(&root, 3, 14).unwrap().unwrap();
        assert_eq!(hit.version, "3.14.10");
        assert_eq!(hit.deb_version, "3.14.10-1");
        assert_eq!(hit.dir, root.join("3.14.10/test"));
        assert_eq!(
            cached_lib_test(&root, 3, 11).unwrap().unwrap().version,
            "3.11.2"
        );
        assert_eq!(cached_lib_test(&root, 3, 9).unwrap(), None);
        // And fetch_lib_test answers from the cache without apt.
        assert_eq!(fetch_lib_test(&tmp, 3, 14).unwrap(), hit);
        fs::remove_dir_all(&tmp).unwrap();
    }
}
