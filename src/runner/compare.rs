//! `pyodide-test compare`: the same plan under Wasmtime and under Node (the
//! reference), and the tests whose outcome differs; or, with `--scripts
//! DIR`, the scripts whose stdout or exit status differs. With several
//! builds (`--pyodide LIST|RANGE`, `--dist` repeated) it compares on each
//! in turn and ends with a line per build ([`run_builds`]).
//!
//! Known differences come from a file (`--known FILE`, e.g.
//! `conformance/known-differences.txt`): `KEY: reason` lines, `#` comments.
//! A KEY `package::id-prefix` covers the tests of `package` whose
//! (normalised) id starts with `id-prefix` (`package::` covers them all); a
//! KEY without `::` names a script. Known differences are printed but do
//! not make the exit status 1. Tests are matched by their ids after the
//! snapshots' normalisation ([`normalize_id`]: addresses, uuids, set order).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::backend::Runtime;
use super::builds::Build;
use super::dist::DistSource;
use super::options::{Size, warn_unhonoured};
use super::outcome::{Outcome, TestRecord};
use super::report::normalize::normalize_id;
use super::scheduler::RecordSink;
use super::test_cmd::{self, INTERRUPTED_STATUS, TestOptions};

/// The runtimes compared, in report order.
const RUNTIMES: [Runtime; 2] = [Runtime::Wasmtime, Runtime::Node];

/// Known differences: `KEY: reason` lines, each for every build or, with
/// a `[FROM..TO]` prefix, for the releases from FROM to TO only.
#[derive(Debug, Default, Clone)]
pub struct Known(Vec<Entry>);

/// One known difference.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    /// The releases it is for (`[FROM..TO]`, either end open, or
    /// `[VERSION]`), both ends included; `None`: every build.
    releases: Option<(Option<String>, Option<String>)>,
    key: String,
    reason: String,
}

impl Known {
    /// Read `KEY: reason` lines (`#` comments, blank lines ignored).
    pub fn load(path: &Path) -> Result<Known> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Known::parse(&text))
    }

    /// Parse the text of a known-differences file.
    pub fn parse(text: &str) -> Known {
        Known(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .filter_map(|l| {
                    // A leading `[FROM..TO]` or `[VERSION]`: the releases.
                    let (releases, l) = match l.strip_prefix('[').and_then(|r| r.split_once(']')) {
                        Some((spec, rest)) => {
                            let end =
                                |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
                            let range = match spec.split_once("..") {
                                Some((from, to)) => (end(from), end(to)),
                                None => (end(spec), end(spec)),
                            };
                            (Some(range), rest.trim_start())
                        }
                        None => (None, l),
                    };
                    // The key ends at the first ": " (ids hold "::").
                    let at = l.find(": ").or_else(|| l.strip_suffix(':').map(str::len))?;
                    let (k, r) = l.split_at(at);
                    Some(Entry {
                        releases,
                        key: k.trim().to_string(),
                        reason: r[1..].trim().to_string(),
                    })
                })
                .collect(),
        )
    }

    /// The known differences of the release `version` (`None`: a build
    /// whose version is not known): those for every build, and those whose
    /// `[FROM..TO]` holds it. Only these are consulted by the lookups
    /// below; entries for some releases apply once chosen here.
    pub fn for_release(&self, version: Option<&str>) -> Known {
        use super::builds::compare_versions;
        use std::cmp::Ordering;
        let holds = |(from, to): &(Option<String>, Option<String>)| {
            version.is_some_and(|v| {
                from.as_deref()
                    .is_none_or(|f| compare_versions(v, f) != Ordering::Less)
                    && to
                        .as_deref()
                        .is_none_or(|t| compare_versions(v, t) != Ordering::Greater)
            })
        };
        Known(
            self.0
                .iter()
                .filter(|e| e.releases.as_ref().is_none_or(holds))
                .map(|e| Entry {
                    releases: None,
                    ..e.clone()
                })
                .collect(),
        )
    }

    /// The entries for every build (see [`Known::for_release`]): (key, reason).
    fn general(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0
            .iter()
            .filter(|e| e.releases.is_none())
            .map(|e| (&e.key, &e.reason))
    }

    /// The reason a test of `package` with (normalised) `id` may differ.
    pub fn test(&self, package: &str, id: &str) -> Option<&str> {
        self.general().find_map(|(k, r)| {
            let (p, prefix) = k.split_once("::")?;
            (p == package && id.starts_with(prefix)).then_some(r.as_str())
        })
    }

    /// The reason script `name` may differ as a whole (a key `NAME`).
    pub fn script(&self, name: &str) -> Option<&str> {
        self.general()
            .find_map(|(k, r)| (k == name).then_some(r.as_str()))
    }

    /// The lines of script `name` that may differ: for each key
    /// `NAME@TEXT`, the lines containing TEXT (on either side), with the
    /// reason. The rest of the output is still compared.
    pub fn script_lines(&self, name: &str) -> Vec<(&str, &str)> {
        self.general()
            .filter_map(|(k, r)| {
                let (n, text) = k.split_once('@')?;
                (n == name && !text.is_empty()).then_some((text, r.as_str()))
            })
            .collect()
    }

    /// `text` without the lines that `script_lines(name)` excuses.
    pub fn without_excused(&self, name: &str, text: &str) -> String {
        let excused = self.script_lines(name);
        text.lines()
            .filter(|l| !excused.iter().any(|(t, _)| l.contains(t)))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

/// Collects the records of one runtime's run.
struct Collector {
    name: &'static str,
    records: Vec<TestRecord>,
    files: usize,
    planned: usize,
    tty: bool,
}

impl RecordSink for Collector {
    fn record(&mut self, record: &TestRecord) -> Result<()> {
        self.records.push(record.clone());
        Ok(())
    }
    fn file_done(&mut self, _package: &str, _file: &str) {
        self.files += 1;
        if self.tty {
            eprint!(
                "\r\x1b[2Kpyodide-test: {}: {}/{} files, {} results",
                self.name,
                self.files,
                self.planned,
                self.records.len()
            );
        }
    }
}

/// A difference between the runtimes.
#[derive(Debug)]
struct Difference {
    key: String,
    wasmtime: Option<TestRecord>,
    node: Option<TestRecord>,
    known: Option<String>,
}

/// How one comparison ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    /// Its exit status: 0 when both runtimes agree (apart from known
    /// differences), 1 when they differ, 2 when some script could not run,
    /// 130 if interrupted.
    pub status: i32,
    /// Its last line (`compare: 54 tests: 54 agree, ...`), already printed.
    pub summary: String,
}

impl Compared {
    fn new(status: i32, summary: String) -> Compared {
        Compared { status, summary }
    }
}

/// `compare` over several builds (`--pyodide LIST|RANGE`, or `--dist`
/// repeated): `one` compares the runtimes on each build in turn, under a
/// `compare: [i/n] BUILD` line; then a line per build with its summary.
/// A build that cannot be compared (not fetched, no Node for it, ...) is a
/// line that says why. Returns the worst status: 2 if some build could not
/// be compared, else 1 if some differ, else 0 (130 if interrupted).
pub fn run_builds(
    base: &DistSource,
    builds: &[Build],
    mut one: impl FnMut(&DistSource) -> Result<Compared>,
) -> Result<i32> {
    let n = builds.len();
    let mut rows = Vec::with_capacity(n);
    for (i, build) in builds.iter().enumerate() {
        let label = build.label();
        println!("compare: [{}/{n}] {label}", i + 1);
        eprintln!("pyodide-test: compare [{}/{n}] {label}", i + 1);
        let (status, summary) = match one(&build.source(base)) {
            Ok(c) if c.status == INTERRUPTED_STATUS => return Ok(INTERRUPTED_STATUS),
            Ok(c) => {
                let summary = c.summary.strip_prefix("compare: ").unwrap_or(&c.summary);
                (c.status, summary.to_string())
            }
            Err(e) => {
                let why = e.chain().map(|e| e.to_string()).collect::<Vec<_>>();
                let why = format!("could not compare: {}", why.join(": "));
                println!("compare: {why}");
                (2, why)
            }
        };
        rows.push((label, status, summary));
    }
    let count = |s: i32| rows.iter().filter(|r| r.1 == s).count();
    println!(
        "compare: {n} builds: {} agree, {} differ, {} could not be compared",
        count(0),
        count(1),
        n - count(0) - count(1)
    );
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    for (label, _, summary) in &rows {
        println!("  {label:width$}  {summary}");
    }
    Ok(rows.iter().map(|r| r.1).max().unwrap_or(0))
}

/// `pyodide-test compare PACKAGE...`: status 0 when both runtimes agree
/// (apart from known differences), 1 when they differ, 130 if interrupted.
pub fn run_packages(source: &DistSource, opts: &TestOptions, known: &Known) -> Result<Compared> {
    let plan = test_cmd::prepare(source, opts)?;
    // SAFETY: isatty only inspects the descriptor number.
    let tty = unsafe { libc::isatty(2) == 1 };
    let mut runs = Vec::new();
    for runtime in RUNTIMES {
        let name = runtime.name();
        let mut sink = Collector {
            name,
            records: Vec::new(),
            files: 0,
            planned: plan.jobs.len(),
            tty,
        };
        let run = test_cmd::run_plan(&plan, runtime, &mut sink)?;
        if tty {
            eprint!("\r\x1b[2K");
        }
        if run.interrupted {
            eprintln!("pyodide-test: interrupted");
            return Ok(Compared::new(INTERRUPTED_STATUS, "interrupted".into()));
        }
        eprintln!(
            "pyodide-test: {name}: {} files, {} results in {:.1} s",
            plan.jobs.len(),
            sink.records.len(),
            run.elapsed.as_secs_f64()
        );
        runs.push(sink.records);
    }
    let node = runs.pop().unwrap_or_default();
    let wasmtime = runs.pop().unwrap_or_default();
    let (diffs, agreed) = differences(wasmtime, node, known);
    let agree: usize = agreed.values().sum();
    // What the tests that agree did, e.g. "(50 passed, 4 skipped)".
    let agreed = agreed
        .iter()
        .map(|(o, n)| format!("{n} {}", o.as_str()))
        .collect::<Vec<_>>();
    let agreed = if agreed.is_empty() {
        String::new()
    } else {
        format!(" ({})", agreed.join(", "))
    };
    let mut out = std::io::stdout().lock();
    print_differences(&mut out, &diffs)?;
    let count = |f: &dyn Fn(&Difference) -> bool| diffs.iter().filter(|d| f(d)).count();
    let differ = count(&|d| d.wasmtime.is_some() && d.node.is_some());
    let only_w = count(&|d| d.node.is_none());
    let only_n = count(&|d| d.wasmtime.is_none());
    let known_n = count(&|d| d.known.is_some());
    let summary = format!(
        "compare: {} tests: {agree} agree{agreed}, {differ} differ, {only_w} only under wasmtime, {only_n} only under node ({known_n} known differences)",
        agree + diffs.len()
    );
    writeln!(out, "{summary}")?;
    Ok(Compared::new(
        i32::from(diffs.iter().any(|d| d.known.is_none())),
        summary,
    ))
}

/// Match the records of both runs by (package, normalised id); returns the
/// differences and how many tests agree, by their (common) outcome.
fn differences(
    wasmtime: Vec<TestRecord>,
    node: Vec<TestRecord>,
    known: &Known,
) -> (Vec<Difference>, BTreeMap<Outcome, usize>) {
    type Sides = (Vec<TestRecord>, Vec<TestRecord>);
    let mut by_key: BTreeMap<(String, String), Sides> = BTreeMap::new();
    for r in wasmtime {
        let k = (r.package.clone(), normalize_id(&r.id));
        by_key.entry(k).or_default().0.push(r);
    }
    for r in node {
        let k = (r.package.clone(), normalize_id(&r.id));
        by_key.entry(k).or_default().1.push(r);
    }
    let mut diffs = Vec::new();
    let mut agree = BTreeMap::new();
    for ((package, id), (mut w, mut n)) in by_key {
        // Ids equal after normalisation: pair them up by outcome.
        w.sort_by_key(|r| r.outcome);
        n.sort_by_key(|r| r.outcome);
        let mut w = w.into_iter();
        let mut n = n.into_iter();
        loop {
            let (a, b) = (w.next(), n.next());
            if a.is_none() && b.is_none() {
                break;
            }
            if let (Some(a), Some(b)) = (&a, &b)
                && a.outcome == b.outcome
            {
                *agree.entry(a.outcome).or_insert(0) += 1;
                continue;
            }
            diffs.push(Difference {
                key: format!("{package}::{id}"),
                known: known.test(&package, &id).map(str::to_string),
                wasmtime: a,
                node: b,
            });
        }
    }
    (diffs, agree)
}

fn outcome_name(r: &Option<TestRecord>) -> &'static str {
    r.as_ref().map_or("-", |r| r.outcome.as_str())
}

/// The first lines of a message, indented.
fn excerpt(message: &str) -> String {
    let lines: Vec<&str> = message.trim_end().lines().collect();
    let shown: Vec<String> = lines
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(|l| format!("      {}", l.chars().take(200).collect::<String>()))
        .collect();
    shown.join("\n")
}

fn print_differences(out: &mut dyn Write, diffs: &[Difference]) -> Result<()> {
    for d in diffs {
        let what = match (&d.wasmtime, &d.node) {
            (Some(_), Some(_)) => "DIFFER",
            (Some(_), None) => "ONLY wasmtime",
            _ => "ONLY node",
        };
        writeln!(
            out,
            "{what}{} {}  wasmtime: {}  node: {}",
            if d.known.is_some() { " (known)" } else { "" },
            d.key,
            outcome_name(&d.wasmtime),
            outcome_name(&d.node)
        )?;
        for (side, r) in [("wasmtime", &d.wasmtime), ("node", &d.node)] {
            if let Some(r) = r
                && !r.message.trim().is_empty()
                && r.outcome != Outcome::Passed
            {
                writeln!(out, "    {side}:\n{}", excerpt(&r.message))?;
            }
        }
        if let Some(reason) = &d.known {
            writeln!(out, "    known: {reason}")?;
        }
    }
    Ok(())
}

/// Options of `compare --scripts DIR`.
#[derive(Debug, Clone)]
pub struct ScriptOptions {
    /// The directory of `*.py` scripts (with NAME.args/.stdin/.cmd).
    pub dir: PathBuf,
    /// Only these scripts (default: all).
    pub names: Vec<String>,
    /// Parallel scripts.
    pub jobs: usize,
    /// Time per script and runtime.
    pub timeout: Duration,
    /// `--max-memory` for the scripts' guests (Wasmtime only: Node cannot
    /// apply it, and says so once).
    pub max_memory: Option<Size>,
    /// `--max-fs` likewise.
    pub max_fs: Option<Size>,
}

/// What one script did under one runtime.
#[derive(Debug, Clone, PartialEq)]
struct ScriptRun {
    status: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// `pyodide-test compare --scripts DIR`: every script under both runtimes;
/// prints those whose stdout or exit status differs.
pub fn run_scripts(source: &DistSource, opts: &ScriptOptions, known: &Known) -> Result<Compared> {
    let mut names: Vec<String> = std::fs::read_dir(&opts.dir)
        .with_context(|| format!("reading {}", opts.dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .filter(|n| opts.names.is_empty() || opts.names.contains(n))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no scripts to run in {}", opts.dir.display());
    }
    for n in &opts.names {
        if !names.contains(n) {
            bail!("no script {n}.py in {}", opts.dir.display());
        }
    }
    super::node::check_node()?;
    if opts.max_memory.is_some() {
        warn_unhonoured(
            "--max-memory",
            "node",
            "Pyodide's memory under Node grows to its 4 GiB maximum; it applies to the wasmtime runs",
        );
    }
    if opts.max_fs.is_some() {
        warn_unhonoured(
            "--max-fs",
            "node",
            "Node's MEMFS has no size limit; it applies to the wasmtime runs",
        );
    }
    let exe = std::env::current_exe().context("finding the pyodide-test executable")?;
    let mut base: Vec<String> = vec!["--pyodide".into(), source.version.clone()];
    if let Some(dir) = &source.dir {
        base.push("--dist".into());
        base.push(dir.to_string_lossy().into_owned());
    }
    let started = Instant::now();
    // (name, runtime index) pairs, run by `jobs` threads.
    let work: Vec<(usize, usize)> = (0..names.len()).flat_map(|i| [(i, 0), (i, 1)]).collect();
    let next = AtomicUsize::new(0);
    let results: Mutex<BTreeMap<(usize, usize), Result<ScriptRun, String>>> =
        Mutex::new(BTreeMap::new());
    std::thread::scope(|scope| {
        for _ in 0..opts.jobs.max(1).min(work.len()) {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&(i, r)) = work.get(k) else { break };
                    let result = run_script(&exe, &base, RUNTIMES[r], &opts.dir, &names[i], opts)
                        .map_err(|e| format!("{e:#}"));
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert((i, r), result);
                }
            });
        }
    });
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut out = std::io::stdout().lock();
    let (mut differ, mut known_n, mut failed) = (0, 0, 0);
    for (i, name) in names.iter().enumerate() {
        let (Some(w), Some(n)) = (results.get(&(i, 0)), results.get(&(i, 1))) else {
            continue;
        };
        let (w, n) = match (w, n) {
            (Ok(w), Ok(n)) => (w, n),
            (w, n) => {
                failed += 1;
                for (side, r) in [("wasmtime", w), ("node", n)] {
                    if let Err(e) = r {
                        writeln!(out, "ERROR {name} ({side}): {e}")?;
                    }
                }
                continue;
            }
        };
        let mut problems = Vec::new();
        if w.status != n.status {
            problems.push(format!(
                "exit status: wasmtime {}, node {}",
                status_text(w.status),
                status_text(n.status)
            ));
        }
        let (w_out, n_out) = (
            known.without_excused(name, &String::from_utf8_lossy(&w.stdout)),
            known.without_excused(name, &String::from_utf8_lossy(&n.stdout)),
        );
        if w_out != n_out {
            let (line, a, b, na, nb) = first_difference(&w_out, &n_out);
            problems.push(format!(
                "stdout differs at line {line}: wasmtime {a:?}, node {b:?} ({na} and {nb} lines)"
            ));
        }
        if problems.is_empty() {
            continue;
        }
        differ += 1;
        let reason = known.script(name);
        if reason.is_some() {
            known_n += 1;
        }
        writeln!(
            out,
            "DIFFER{} {name}",
            if reason.is_some() { " (known)" } else { "" }
        )?;
        for p in problems {
            writeln!(out, "    {p}")?;
        }
        if let Some(reason) = reason {
            writeln!(out, "    known: {reason}")?;
        }
    }
    let summary = format!(
        "compare: {} scripts: {} agree, {differ} differ ({known_n} known differences), {failed} could not run; {:.1} s",
        names.len(),
        names.len() - differ - failed,
        started.elapsed().as_secs_f64()
    );
    writeln!(out, "{summary}")?;
    let status = if failed > 0 {
        2
    } else {
        i32::from(differ > known_n)
    };
    Ok(Compared::new(status, summary))
}

fn status_text(s: Option<i32>) -> String {
    s.map_or_else(|| "none (timeout or signal)".into(), |s| s.to_string())
}

/// Where two texts first differ: the 1-based line, each side's line there
/// (`<end>` past the end), and their line counts.
pub fn first_difference<'a>(a: &'a str, b: &'a str) -> (usize, &'a str, &'a str, usize, usize) {
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let i = (0..a.len().max(b.len()))
        .find(|&i| a.get(i) != b.get(i))
        .unwrap_or(0);
    (
        i + 1,
        a.get(i).copied().unwrap_or("<end>"),
        b.get(i).copied().unwrap_or("<end>"),
        a.len(),
        b.len(),
    )
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Run script `name` under `runtime` with conformance's convention: the
/// script at /home/pyodide/NAME.py, arguments from NAME.cmd or NAME.py +
/// NAME.args, stdin from NAME.stdin.
fn run_script(
    exe: &Path,
    base: &[String],
    runtime: Runtime,
    dir: &Path,
    name: &str,
    opts: &ScriptOptions,
) -> Result<ScriptRun> {
    let work = std::env::temp_dir().join(format!(
        "pyodide-test-compare-{}-{}-{name}",
        std::process::id(),
        runtime.name()
    ));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let script = dir.join(format!("{name}.py"));
    std::fs::copy(&script, work.join(format!("{name}.py")))
        .with_context(|| format!("copying {}", script.display()))?;
    let cmd_file = dir.join(format!("{name}.cmd"));
    let mut py_args = if cmd_file.is_file() {
        lines(&cmd_file)
    } else {
        vec![format!("{name}.py")]
    };
    py_args.extend(lines(&dir.join(format!("{name}.args"))));
    let stdin = std::fs::read(dir.join(format!("{name}.stdin"))).unwrap_or_default();
    let mut cmd = Command::new(exe);
    cmd.args(base)
        .arg("--runtime")
        .arg(runtime.name())
        .arg("python");
    if let (Some(size), Runtime::Wasmtime) = (opts.max_memory, runtime) {
        cmd.arg(format!("--max-memory={}", size.bytes()));
    }
    if let (Some(size), Runtime::Wasmtime) = (opts.max_fs, runtime) {
        cmd.arg(format!("--max-fs={}", size.bytes()));
    }
    if cmd_file.is_file() {
        cmd.arg(format!("--copy={name}.py:/home/pyodide/{name}.py"));
    }
    let mut child = cmd
        .args(&py_args)
        .current_dir(&work)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("starting pyodide-test python")?;
    let mut input = child.stdin.take().expect("piped");
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut v);
        v
    });
    let deadline = Instant::now() + opts.timeout;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break s.code();
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _ = feeder.join();
    let stdout = out_reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&work);
    Ok(ScriptRun {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(pkg: &str, id: &str, outcome: Outcome) -> TestRecord {
        TestRecord {
            package: pkg.into(),
            id: id.into(),
            outcome,
            duration: 0.0,
            message: String::new(),
        }
    }

    #[test]
    fn known_keys() {
        let k = Known::parse(
            "# c\ntime_funcs: a reason\nmsgpack::test/test_a.py::test_b: why: x\npydantic-core::: all\n",
        );
        assert_eq!(k.script("time_funcs"), Some("a reason"));
        assert_eq!(
            k.test("msgpack", "test/test_a.py::test_b[1]"),
            Some("why: x")
        );
        assert_eq!(k.test("msgpack", "test/test_a.py::test_c"), None);
        assert_eq!(k.test("pydantic-core", "anything"), Some("all"));
    }

    #[test]
    fn known_for_some_releases() {
        let k = Known::parse(
            "a: all\n[0.23.4..0.27.8] b: old\n[..0.25.1] c@x: older\n[0.28.0..] d: new\n[0.27.8] e: one\n",
        );
        let keys = |v: Option<&str>| {
            let k = k.for_release(v);
            ["a", "b", "c", "d", "e"]
                .into_iter()
                .filter(|n| k.script(n).is_some() || !k.script_lines(n).is_empty())
                .collect::<Vec<_>>()
        };
        // Not chosen for a release: only the general ones.
        assert_eq!(k.script("b"), None);
        assert_eq!(k.script("a"), Some("all"));
        assert_eq!(keys(Some("0.23.4")), ["a", "b", "c"]);
        assert_eq!(keys(Some("0.27.8")), ["a", "b", "e"]);
        assert_eq!(keys(Some("0.28.0")), ["a", "d"]);
        assert_eq!(keys(Some("314.0.0-alpha.1")), ["a", "d"]);
        assert_eq!(keys(None), ["a"]);
    }

    #[test]
    fn known_lines_excuse_only_those_lines() {
        let k = Known::parse("time_funcs@sleep(-1): why\n");
        assert_eq!(k.script("time_funcs"), None);
        assert_eq!(k.script_lines("time_funcs"), [("sleep(-1)", "why")]);
        let ours = "a\nsleep(-1) ValueError x\nb\n";
        let node = "a\nsleep(-1) returned without error\nb\n";
        assert_eq!(
            k.without_excused("time_funcs", ours),
            k.without_excused("time_funcs", node)
        );
        // Any other line still counts.
        assert_ne!(
            k.without_excused("time_funcs", "a\nsleep(-1) x\nc\n"),
            k.without_excused("time_funcs", node)
        );
        assert_eq!(k.without_excused("other", ours), ours);
    }

    #[test]
    fn differences_pair_by_normalised_id() {
        let w = vec![
            rec("p", "t.py::a[<X at 0x1234abcd>]", Outcome::Passed),
            rec("p", "t.py::b", Outcome::Failed),
            rec("p", "t.py::c", Outcome::Passed),
        ];
        let n = vec![
            rec("p", "t.py::a[<X at 0xdeadbeef>]", Outcome::Passed),
            rec("p", "t.py::b", Outcome::Passed),
            rec("p", "t.py::d", Outcome::Passed),
        ];
        let (d, agree) = differences(w, n, &Known::default());
        assert_eq!(agree, BTreeMap::from([(Outcome::Passed, 1)]));
        let keys: Vec<_> = d
            .iter()
            .map(|d| {
                (
                    d.key.as_str(),
                    outcome_name(&d.wasmtime),
                    outcome_name(&d.node),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("p::t.py::b", "failed", "passed"),
                ("p::t.py::c", "passed", "-"),
                ("p::t.py::d", "-", "passed")
            ]
        );
    }
}
