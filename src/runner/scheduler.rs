//! The scheduler: test files of every suite (or, with `--split-files`,
//! parts of the longest: see [`split_long`]) go to `-j N` workers (rayon
//! threads, each running its own Wasmtime stores), longest first; results
//! reach the [`Reporter`] on the calling thread as they arrive, a split
//! file's as one file's.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{Context, Result};

use super::backend::Backend;
use super::events::Msg;
use super::outcome::{Outcome, TestRecord};
use super::report::Reporter;
use super::suite::Suite;
use super::worker::{self, WorkerConfig};
use crate::host::engine::HOST_THREAD_STACK_BYTES;

/// One job: a test file of a suite, or a part of one.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// Index into the suites.
    pub suite: usize,
    /// The file, relative to the suite's root.
    pub file: String,
    /// Expected seconds (previous runs, else from the file's size).
    pub estimate: f64,
    /// Part K of N of the file's tests (see [`split_long`]); `None`: all.
    pub part: Option<(u32, u32)>,
    /// With a part: the first test of each part after the first, cut by
    /// the tests' known times; empty: parts of about as many tests.
    pub cuts: Vec<String>,
}

/// Known times of the tests of files a run may split (those that took
/// half a second at least): package -> file -> (test id, seconds), in
/// the order they ran.
pub type TestTimes = BTreeMap<String, BTreeMap<String, Vec<(String, f64)>>>;

/// A job's part number (0: the whole file) and its tests in their order.
type PartOrder = (u32, Vec<String>);

/// Where [`TestTimes`] are kept in the cache.
const TEST_TIMES_FILE: &str = "test-times.json";

/// A file is split only when it is expected to take this long at least:
/// each part pays a child's start and the file's module-level setup.
const SPLIT_MIN_SECS: f64 = 0.5;

/// Known wall times of test files: package -> file -> seconds.
pub type Durations = BTreeMap<String, BTreeMap<String, f64>>;

/// The jobs of a run: every test file of every suite, sorted by (package,
/// file); with `--partition K/N`, those whose index modulo N is K-1; then
/// longest first.
pub fn plan(suites: &[Suite], partition: Option<(u32, u32)>, known: &Durations) -> Vec<Job> {
    let mut all: Vec<(String, String, usize, u64)> = Vec::new();
    for (i, s) in suites.iter().enumerate() {
        for f in &s.test_files {
            all.push((s.package.clone(), f.rel.clone(), i, f.size));
        }
    }
    all.sort();
    all.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1);
    if let Some((k, n)) = partition {
        all = all
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i as u64 % n as u64 == (k - 1) as u64)
            .map(|(_, x)| x)
            .collect();
    }
    // Seconds per byte of test file, from the files with known times.
    let (mut secs, mut bytes) = (0.0, 0.0);
    for (pkg, file, _, size) in &all {
        if let Some(t) = known.get(pkg).and_then(|m| m.get(file)) {
            secs += t;
            bytes += *size as f64;
        }
    }
    let rate = if secs > 0.0 && bytes > 0.0 {
        secs / bytes
    } else {
        1.0 / 5000.0
    };
    let mut jobs: Vec<Job> = all
        .into_iter()
        .map(|(pkg, file, suite, size)| {
            let estimate = known
                .get(&pkg)
                .and_then(|m| m.get(&file))
                .copied()
                .unwrap_or(1.0 + size as f64 * rate);
            Job {
                suite,
                file,
                estimate,
                part: None,
                cuts: Vec::new(),
            }
        })
        .collect();
    sort_longest_first(&mut jobs);
    jobs
}

fn sort_longest_first(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| {
        b.estimate
            .total_cmp(&a.estimate)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.part.cmp(&b.part))
    });
}

/// Split the pytest files that would hold up a run on `threads` workers
/// into parts, each a contiguous run of the file's tests (a class's tests,
/// or a function's parametrizations, stay together), as pytest-xdist
/// spreads a file's tests: a file expected to take more than the run's
/// share of one worker (the total over `threads`), and half a second at
/// least, becomes as many parts as it has shares (at most `threads`).
/// With the file's tests' `times` (see [`TestTimes`]) the parts are cut
/// by time ([`Job::cuts`]), fewer if the file's scopes do not divide so
/// far; without, the plugin cuts parts of about as many tests. Each part
/// runs in a guest of its own, so the file's module- and session-scoped
/// fixtures run once per part.
pub fn split_long(jobs: Vec<Job>, suites: &[Suite], threads: usize, times: &TestTimes) -> Vec<Job> {
    let total: f64 = jobs.iter().map(|j| j.estimate).sum();
    if threads < 2 || total <= 0.0 {
        return jobs;
    }
    let share = total / threads as f64;
    let mut out = Vec::with_capacity(jobs.len());
    for job in jobs {
        let splittable = job.part.is_none()
            && suites[job.suite].driver == super::suite::Driver::Pytest
            && job.estimate >= SPLIT_MIN_SECS
            && job.estimate > share;
        if !splittable {
            out.push(job);
            continue;
        }
        let n = ((job.estimate / share).ceil() as usize).clamp(2, threads);
        let tests = times
            .get(&suites[job.suite].package)
            .and_then(|files| files.get(&job.file))
            .filter(|t| !t.is_empty());
        let parts: Vec<(f64, Vec<String>)> = match tests {
            // Cut by the tests' times: each part's estimate is its share.
            Some(tests) => {
                let cut = cut_by_time(tests, n);
                let total: f64 = cut
                    .iter()
                    .map(|(secs, _)| secs)
                    .sum::<f64>()
                    .max(f64::MIN_POSITIVE);
                let cuts: Vec<String> =
                    cut.iter().skip(1).map(|(_, first)| first.clone()).collect();
                cut.iter()
                    .map(|(secs, _)| (job.estimate * secs / total, cuts.clone()))
                    .collect()
            }
            None => vec![(job.estimate / n as f64, Vec::new()); n],
        };
        if parts.len() < 2 {
            out.push(job);
            continue;
        }
        let n = parts.len() as u32;
        for (k, (estimate, cuts)) in (1..=n).zip(parts) {
            out.push(Job {
                estimate,
                part: Some((k, n)),
                cuts,
                ..job.clone()
            });
        }
    }
    sort_longest_first(&mut out);
    out
}

/// What keeps tests together in a part: their class (`FILE::Class`),
/// else their function (`FILE::test`, every parametrization).
fn scope(id: &str) -> &str {
    let base = match id.find('[') {
        Some(i) => &id[..i],
        None => id,
    };
    match base.rsplit_once("::") {
        Some((head, _)) if head.contains("::") => head,
        _ => base,
    }
}

/// Cut a file's tests (id, seconds, in their order) into at most `n`
/// contiguous parts of about equal time, never inside a [`scope`]: each
/// part's (seconds, first test). A scope belongs to the part in which its
/// first test starts, by the time before it.
fn cut_by_time(tests: &[(String, f64)], n: usize) -> Vec<(f64, String)> {
    let total: f64 = tests.iter().map(|(_, t)| t.max(0.0)).sum();
    let mut parts: Vec<(f64, String)> = Vec::new();
    let (mut before, mut last_scope, mut part) = (0.0, None, 0usize);
    for (id, secs) in tests {
        let here = scope(id);
        if last_scope != Some(here) {
            last_scope = Some(here);
            let wanted = if total > 0.0 {
                ((before / total * n as f64) as usize).min(n - 1)
            } else {
                0
            };
            if parts.is_empty() || wanted > part {
                part = wanted;
                parts.push((0.0, id.clone()));
            }
        }
        if let Some(last) = parts.last_mut() {
            last.0 += secs.max(0.0);
        }
        before += secs.max(0.0);
    }
    parts
}

/// Test times remembered in the cache (see [`TestTimes`]).
pub fn load_test_times(cache: &Path) -> TestTimes {
    std::fs::read_to_string(cache.join(TEST_TIMES_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Remember the tests' times of this run's long files, merged into what
/// the cache has now (other runs may have saved since).
pub fn save_test_times(cache: &Path, summary: &RunSummary) -> Result<()> {
    let mut latest = load_test_times(cache);
    let mut changed = false;
    for (pkg, files) in &summary.tests {
        for (file, tests) in files {
            let secs = summary.durations.get(pkg).and_then(|d| d.get(file));
            if secs.is_some_and(|s| *s >= SPLIT_MIN_SECS) {
                latest
                    .entry(pkg.clone())
                    .or_default()
                    .insert(file.clone(), tests.clone());
                changed = true;
            }
        }
    }
    if !changed {
        return Ok(());
    }
    std::fs::create_dir_all(cache)?;
    let tmp = cache.join(format!(".test-times-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string(&latest)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, cache.join(TEST_TIMES_FILE))?;
    Ok(())
}

/// Durations remembered in the cache (`durations.json`), then filled in
/// from a previous `--json` report (sums of its tests' durations).
pub fn load_durations(cache: &Path, previous_json: Option<&Path>) -> Durations {
    let mut known: Durations = std::fs::read_to_string(cache.join("durations.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    if let Some(text) = previous_json.and_then(|p| std::fs::read_to_string(p).ok()) {
        let mut sums: Durations = BTreeMap::new();
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let (Some(pkg), Some(id), Some(d)) = (
                v.get("package").and_then(|x| x.as_str()),
                v.get("id").and_then(|x| x.as_str()),
                v.get("duration").and_then(|x| x.as_f64()),
            ) else {
                continue;
            };
            let file = id.split("::").next().unwrap_or(id);
            *sums
                .entry(pkg.to_string())
                .or_default()
                .entry(file.to_string())
                .or_default() += d;
        }
        for (pkg, files) in sums {
            let entry = known.entry(pkg).or_default();
            for (file, secs) in files {
                entry.entry(file).or_insert(secs);
            }
        }
    }
    known
}

/// Remember this run's wall times in the cache.
pub fn save_durations(cache: &Path, known: &Durations) -> Result<()> {
    std::fs::create_dir_all(cache)?;
    let path = cache.join("durations.json");
    let tmp = cache.join(format!(".durations-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(known)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// How a run went.
#[derive(Debug, Default)]
pub struct RunSummary {
    /// Wall times of the files that finished.
    pub durations: Durations,
    /// Records received.
    pub records: usize,
    /// Rewritten test modules pytest wrote, by package.
    pub rewritten: BTreeMap<String, Vec<super::rewritten::Rewritten>>,
    /// The tests' times of the files that finished, in their order.
    pub tests: TestTimes,
}

/// Where the results of a run go, on the scheduler's calling thread: the
/// [`Reporter`] of a test run, or `compare`'s collector.
pub trait RecordSink {
    /// One test finished.
    fn record(&mut self, record: &TestRecord) -> Result<()>;
    /// One test file finished.
    fn file_done(&mut self, package: &str, file: &str);
}

impl RecordSink for Reporter {
    fn record(&mut self, record: &TestRecord) -> Result<()> {
        Reporter::record(self, record)
    }
    fn file_done(&mut self, package: &str, file: &str) {
        Reporter::file_done(self, package, file)
    }
}

/// Run `jobs` on `threads` workers; every result goes to `reporter` on this
/// thread as it arrives.
pub fn run(
    backend: &Backend,
    suites: &[Suite],
    jobs: Vec<Job>,
    threads: usize,
    cfg: &WorkerConfig,
    reporter: &mut dyn RecordSink,
) -> Result<RunSummary> {
    let threads = threads.max(1).min(jobs.len().max(1));
    // A file run in parts is done when its last part is; a record that
    // every part sends (a collection error of the file) counts once.
    // (package, file) -> (parts left, their seconds).
    let mut parts: BTreeMap<(String, String), (u32, f64)> = BTreeMap::new();
    for job in &jobs {
        if let Some((_, n)) = job.part {
            let key = (suites[job.suite].package.clone(), job.file.clone());
            parts.insert(key, (n, 0.0));
        }
    }
    let mut seen_in_parts: HashSet<(String, String)> = HashSet::new();
    // The tests' times until their file is done, and the order of each of
    // its jobs' tests (by part).
    let mut secs: HashMap<(String, String), f64> = HashMap::new();
    let mut orders: HashMap<(String, String), Vec<PartOrder>> = HashMap::new();
    // PYODIDE_TEST_TIMING: when each job ran, from the run's start.
    let timing = std::env::var_os("PYODIDE_TEST_TIMING").is_some();
    let run_started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(HOST_THREAD_STACK_BYTES)
        .thread_name(|i| format!("worker-{i}"))
        .build()
        .context("starting the worker threads")?;
    let queue = Arc::new(Mutex::new(VecDeque::from(jobs)));
    let (tx, rx) = mpsc::channel::<Msg>();
    let mut summary = RunSummary::default();
    let mut failure: Option<anyhow::Error> = None;
    pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let queue = queue.clone();
            scope.spawn(move |_| {
                loop {
                    if cfg.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let job = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
                    let Some(job) = job else { break };
                    let suite = &suites[job.suite];
                    let job_started = Instant::now();
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        worker::run_file(backend, suite, &job.file, job.part, &job.cuts, cfg, &tx)
                    }));
                    if timing {
                        let part = job.part.map(|(k, n)| format!(" (part {k}/{n})"));
                        eprintln!(
                            "pyodide-test: {} {}{}: {:.3} s to {:.3} s",
                            std::thread::current().name().unwrap_or("worker"),
                            job.file,
                            part.unwrap_or_default(),
                            (job_started - run_started).as_secs_f64(),
                            run_started.elapsed().as_secs_f64()
                        );
                    }
                    let problem = match result {
                        Ok(Ok(())) => None,
                        Ok(Err(e)) => Some(format!("{e:#}")),
                        Err(_) => Some("internal error: the worker panicked".to_string()),
                    };
                    if let Some(message) = problem {
                        let _ = tx.send(Msg::Record(TestRecord {
                            package: suite.package.clone(),
                            id: job.file.clone(),
                            outcome: Outcome::Error,
                            duration: 0.0,
                            message,
                        }));
                        let _ = tx.send(Msg::FileDone {
                            package: suite.package.clone(),
                            file: job.file.clone(),
                            seconds: 0.0,
                            part: job.part,
                            order: Vec::new(),
                        });
                    }
                }
            });
        }
        drop(tx);
        for msg in rx {
            match msg {
                Msg::Record(record) => {
                    let file = record.id.split("::").next().unwrap_or(&record.id);
                    let key = (record.package.clone(), file.to_string());
                    if parts.contains_key(&key)
                        && !seen_in_parts.insert((record.package.clone(), record.id.clone()))
                    {
                        continue;
                    }
                    if record.id.contains("::") {
                        secs.insert((record.package.clone(), record.id.clone()), record.duration);
                    }
                    summary.records += 1;
                    if failure.is_none()
                        && let Err(e) = reporter.record(&record)
                    {
                        failure = Some(e);
                        cfg.stop.store(true, Ordering::SeqCst);
                    }
                }
                Msg::Rewritten { package, module } => {
                    summary.rewritten.entry(package).or_default().push(module);
                }
                Msg::FileDone {
                    package,
                    file,
                    mut seconds,
                    part,
                    order,
                } => {
                    let key = (package.clone(), file.clone());
                    let k = part.map_or(0, |(k, _)| k);
                    orders.entry(key.clone()).or_default().push((k, order));
                    if let Some((left, sum)) = parts.get_mut(&key) {
                        *left -= 1;
                        *sum += seconds;
                        if *left > 0 {
                            continue;
                        }
                        seconds = *sum;
                    }
                    // The file's tests in their order (its parts' in turn),
                    // with their times.
                    let mut runs = orders.remove(&key).unwrap_or_default();
                    runs.sort_by_key(|(k, _)| *k);
                    let tests: Vec<(String, f64)> = runs
                        .into_iter()
                        .flat_map(|(_, order)| order)
                        .filter_map(|id| {
                            let t = secs.remove(&(package.clone(), id.clone()))?;
                            Some((id, t))
                        })
                        .collect();
                    if !tests.is_empty() {
                        summary
                            .tests
                            .entry(package.clone())
                            .or_default()
                            .insert(file.clone(), tests);
                    }
                    reporter.file_done(&package, &file);
                    if seconds > 0.0 {
                        summary
                            .durations
                            .entry(package)
                            .or_default()
                            .insert(file, seconds);
                    }
                }
            }
        }
    });
    match failure {
        Some(e) => Err(e.context("reporting")),
        None => Ok(summary),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::test_sources::{TestFile, TestSource};

    fn suite(pkg: &str, files: &[(&str, u64)]) -> Suite {
        Suite {
            package: pkg.into(),
            version: None,
            files: crate::host::spec::file_set([]),
            root: "/r".into(),
            test_files: files
                .iter()
                .map(|(f, s)| TestFile {
                    rel: f.to_string(),
                    size: *s,
                })
                .collect(),
            source: TestSource::Dir("x".into()),
            wheel_dirs: Vec::new(),
            skipped_links: Vec::new(),
            driver: crate::runner::suite::Driver::Pytest,
            cwd: None,
            pytest_args: Vec::new(),
            notes: Vec::new(),
            modules: Vec::new(),
            installed: Vec::new(),
        }
    }

    #[test]
    fn partitions_are_disjoint_and_complete() {
        let suites = vec![
            suite("a", &[("t/test_1.py", 10), ("t/test_2.py", 20)]),
            suite(
                "b",
                &[("t/test_3.py", 30), ("t/test_4.py", 5), ("t/test_5.py", 1)],
            ),
        ];
        let known = Durations::new();
        let mut seen = Vec::new();
        for k in 1..=3 {
            for j in plan(&suites, Some((k, 3)), &known) {
                seen.push((j.suite, j.file));
            }
        }
        seen.sort();
        let all: Vec<_> = plan(&suites, None, &known)
            .into_iter()
            .map(|j| (j.suite, j.file))
            .collect();
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(seen, sorted);
        assert_eq!(all.len(), 5);
    }

    fn known(pkg: &str, times: &[(&str, f64)]) -> Durations {
        let mut known = Durations::new();
        let entry = known.entry(pkg.into()).or_default();
        for (f, t) in times {
            entry.insert(f.to_string(), *t);
        }
        known
    }

    #[test]
    fn a_file_that_would_hold_up_the_run_is_split() {
        let suites = vec![suite(
            "a",
            &[("t/big.py", 10), ("t/mid.py", 10), ("t/small.py", 10)],
        )];
        let times = known(
            "a",
            &[("t/big.py", 6.0), ("t/mid.py", 1.5), ("t/small.py", 0.5)],
        );
        let parts = |threads| {
            split_long(
                plan(&suites, None, &times),
                &suites,
                threads,
                &TestTimes::new(),
            )
            .into_iter()
            .map(|j| (j.file, j.part))
            .collect::<Vec<_>>()
        };
        // Two workers: a share is 4 s; big.py (6 s) becomes two parts of
        // 3 s, run first.
        assert_eq!(
            parts(2),
            vec![
                ("t/big.py".into(), Some((1, 2))),
                ("t/big.py".into(), Some((2, 2))),
                ("t/mid.py".into(), None),
                ("t/small.py".into(), None),
            ]
        );
        // Four workers (a share of 2 s): three parts, never more parts
        // than workers; mid.py is within its share.
        let four = parts(4);
        assert_eq!(four.len(), 5, "{four:?}");
        assert!(
            four[..3]
                .iter()
                .all(|(f, p)| f == "t/big.py" && p.unwrap().1 == 3)
        );
        // Sixteen (a share of 0.5 s): big.py in twelve parts, mid.py in
        // three.
        let sixteen = parts(16);
        let count = |name: &str| sixteen.iter().filter(|(f, _)| f == name).count();
        assert_eq!(
            (count("t/big.py"), count("t/mid.py"), count("t/small.py")),
            (12, 3, 1)
        );
        // One worker: nothing to spread over.
        assert!(parts(1).iter().all(|(_, p)| p.is_none()));
    }

    #[test]
    fn parts_are_cut_by_known_times_never_inside_a_class_or_function() {
        assert_eq!(scope("t/a.py::TestX::test_1"), "t/a.py::TestX");
        assert_eq!(scope("t/a.py::test_p[1-a::b]"), "t/a.py::test_p");
        assert_eq!(scope("t/a.py::test_f"), "t/a.py::test_f");
        let tests: Vec<(String, f64)> = [
            ("t/a.py::test_p[0]", 1.0),
            ("t/a.py::test_p[1]", 1.0),
            ("t/a.py::TestBig::test_slow", 18.0),
            ("t/a.py::TestBig::test_fast", 0.1),
            ("t/a.py::test_q", 2.0),
            ("t/a.py::test_r", 2.0),
        ]
        .iter()
        .map(|(id, t)| (id.to_string(), *t))
        .collect();
        // The class holds most of the time: it is a part of its own (with
        // what comes before it), the rest another.
        assert_eq!(
            cut_by_time(&tests, 2),
            vec![
                (20.1, "t/a.py::test_p[0]".to_string()),
                (4.0, "t/a.py::test_q".to_string())
            ]
        );
        // Even times: halves.
        let even: Vec<(String, f64)> = (0..6).map(|i| (format!("t/b.py::test_{i}"), 1.0)).collect();
        let cut = cut_by_time(&even, 2);
        assert_eq!(
            cut.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
            ["t/b.py::test_0", "t/b.py::test_3"]
        );
        // The split follows: part estimates in proportion, the cut ids given.
        let suites = vec![suite("a", &[("t/a.py", 10), ("t/small.py", 10)])];
        let durations = known("a", &[("t/a.py", 24.1), ("t/small.py", 1.0)]);
        let mut times = TestTimes::new();
        times
            .entry("a".into())
            .or_default()
            .insert("t/a.py".into(), tests.clone());
        let jobs = split_long(plan(&suites, None, &durations), &suites, 2, &times);
        let parts: Vec<_> = jobs.iter().filter(|j| j.file == "t/a.py").collect();
        assert_eq!(parts.len(), 2, "{jobs:?}");
        assert_eq!(parts[0].part, Some((1, 2)));
        assert!((parts[0].estimate - 20.1).abs() < 1e-9, "{jobs:?}");
        assert!(
            parts.iter().all(|j| j.cuts == ["t/a.py::test_q"]),
            "{jobs:?}"
        );
    }

    #[test]
    fn short_files_and_other_drivers_are_never_split() {
        // Under half a second, however uneven the run.
        let suites = vec![suite("a", &[("t/big.py", 10), ("t/small.py", 10)])];
        let times = known("a", &[("t/big.py", 0.4), ("t/small.py", 0.01)]);
        let jobs = split_long(plan(&suites, None, &times), &suites, 2, &TestTimes::new());
        assert!(jobs.iter().all(|j| j.part.is_none()), "{jobs:?}");
        // CPython's suite (its driver is not pytest).
        let mut cpython = suite("cpython", &[("test_big", 10), ("test_small", 10)]);
        cpython.driver = crate::runner::suite::Driver::Unittest {
            testdir: "/lib/python3.14".into(),
            resources: Vec::new(),
        };
        let suites = vec![cpython];
        let times = known("cpython", &[("test_big", 60.0), ("test_small", 1.0)]);
        let jobs = split_long(plan(&suites, None, &times), &suites, 2, &TestTimes::new());
        assert!(jobs.iter().all(|j| j.part.is_none()), "{jobs:?}");
    }

    #[test]
    fn longest_first_with_known_times() {
        let suites = vec![suite("a", &[("t/test_1.py", 10), ("t/test_2.py", 20000)])];
        let plan1 = plan(&suites, None, &Durations::new());
        assert_eq!(plan1[0].file, "t/test_2.py");
        let mut known = Durations::new();
        let times = known.entry("a".into()).or_default();
        times.insert("t/test_1.py".into(), 50.0);
        times.insert("t/test_2.py".into(), 2.0);
        let plan2 = plan(&suites, None, &known);
        assert_eq!(plan2[0].file, "t/test_1.py");
        // Unknown files are guessed from the known seconds per byte.
        let suites = vec![suite("a", &[("t/test_1.py", 10), ("t/test_3.py", 100)])];
        let plan3 = plan(&suites, None, &known);
        assert_eq!(plan3[0].file, "t/test_3.py");
        assert!(plan3[0].estimate > 50.0, "{plan3:?}");
    }
}
