//! The scheduler: test files of every suite (or, with `--split-files`,
//! parts of the longest: see [`super::split::split_long`]) go to `-j N` workers (rayon
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
use super::suite::{Part, Suite};
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
    /// Whether `estimate` comes from an earlier run's time of the file.
    pub measured: bool,
    /// The part of the file's tests (see [`super::split::split_long`]);
    /// `None`: all.
    pub part: Option<Part>,
}

/// Known times of the tests of files a run may split (those that took
/// half a second at least): package -> file -> (test id, seconds), in
/// the order they ran.
pub type TestTimes = BTreeMap<String, BTreeMap<String, Vec<(String, f64)>>>;

/// Where [`TestTimes`] are kept in the cache.
const TEST_TIMES_FILE: &str = "test-times.json";

/// A file is split only when it is expected to take this long at least:
/// each part pays a child's start and the file's module-level setup.
pub(super) const SPLIT_MIN_SECS: f64 = 0.5;

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
            let time = known.get(&pkg).and_then(|m| m.get(&file)).copied();
            Job {
                suite,
                file,
                estimate: time.unwrap_or(1.0 + size as f64 * rate),
                measured: time.is_some(),
                part: None,
            }
        })
        .collect();
    sort_longest_first(&mut jobs);
    jobs
}

/// Longest first (then by file and part), for the workers' queue.
pub(super) fn sort_longest_first(jobs: &mut [Job]) {
    jobs.sort_by(|a, b| {
        b.estimate
            .total_cmp(&a.estimate)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| {
                let number = |j: &Job| j.part.as_ref().map(Part::number);
                number(a).cmp(&number(b))
            })
    });
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

/// Remember a run's file times in the cache, merged into what it has now
/// (other runs may have saved since).
pub fn save_durations(cache: &Path, durations: &Durations) -> Result<()> {
    let mut latest = load_durations(cache, None);
    for (pkg, files) in durations {
        latest.entry(pkg.clone()).or_default().extend(files.clone());
    }
    std::fs::create_dir_all(cache)?;
    let path = cache.join("durations.json");
    let tmp = cache.join(format!(".durations-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string_pretty(&latest)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// Test times remembered in the cache (see [`TestTimes`]).
pub fn load_test_times(cache: &Path) -> TestTimes {
    std::fs::read_to_string(cache.join(TEST_TIMES_FILE))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default()
}

/// Remember a run's test times (see [`FileAccount`]), merged into what the
/// cache has now (other runs may have saved since).
pub fn save_test_times(cache: &Path, times: &TestTimes) -> Result<()> {
    if times.is_empty() {
        return Ok(());
    }
    let mut latest = load_test_times(cache);
    for (pkg, files) in times {
        latest.entry(pkg.clone()).or_default().extend(files.clone());
    }
    std::fs::create_dir_all(cache)?;
    let tmp = cache.join(format!(".test-times-{}.json", std::process::id()));
    std::fs::write(&tmp, serde_json::to_string(&latest)?)
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, cache.join(TEST_TIMES_FILE))?;
    Ok(())
}

/// (package, file), or (package, test id).
type Key = (String, String);

/// The reporting thread's account of a run's files: a file run in parts
/// is done when its last part is, a record that every part sends (a
/// collection error of the file) counts once, so does one that several
/// files' jobs send (a directory skipped or failed to collect, above each),
/// and (when kept) the tests' times of each file of half a second or more,
/// in their order.
pub struct FileAccount {
    /// (package, file) -> (parts left, their seconds), for split files.
    parts: HashMap<Key, (u32, f64)>,
    /// (package, directory) of every directory above a job's file.
    job_dirs: HashSet<Key>,
    /// The records so far of split files, and those of no job's file.
    seen: HashSet<Key>,
    /// Whether to keep the tests' times.
    keep_times: bool,
    /// The tests' times until their file is done.
    secs: HashMap<Key, f64>,
    /// Each job's part number (0: the whole file) and its tests in their
    /// order, until its file is done.
    orders: HashMap<Key, Vec<(u32, Vec<String>)>>,
    /// The tests' times of the files done.
    pub times: TestTimes,
}

impl FileAccount {
    /// The account of `jobs` (of `suites`); `keep_times` for a run that
    /// may split files the next time.
    pub fn new(jobs: &[Job], suites: &[Suite], keep_times: bool) -> Self {
        let parts = jobs
            .iter()
            .filter_map(|job| {
                let part = job.part.as_ref()?;
                Some((
                    (suites[job.suite].package.clone(), job.file.clone()),
                    (part.of, 0.0),
                ))
            })
            .collect();
        let mut job_dirs = HashSet::new();
        for job in jobs {
            let mut file = job.file.as_str();
            while let Some((dir, _)) = file.rsplit_once('/') {
                job_dirs.insert((suites[job.suite].package.clone(), dir.to_string()));
                file = dir;
            }
        }
        Self {
            parts,
            job_dirs,
            seen: HashSet::new(),
            keep_times,
            secs: HashMap::new(),
            orders: HashMap::new(),
            times: TestTimes::new(),
        }
    }

    /// Whether `record` is to be reported: not when another part of its
    /// file, or another file's job, sent it already.
    pub fn record(&mut self, record: &TestRecord) -> bool {
        let file = record.id.split("::").next().unwrap_or(&record.id);
        let key = (record.package.clone(), file.to_string());
        // A record of a collector above the files (a directory), which
        // the job of each file below it sends.
        let above = file == record.id && self.job_dirs.contains(&key);
        if (above || self.parts.contains_key(&key))
            && !self
                .seen
                .insert((record.package.clone(), record.id.clone()))
        {
            return false;
        }
        if self.keep_times && record.id.contains("::") {
            let test = (record.package.clone(), record.id.clone());
            self.secs.insert(test, record.duration);
        }
        true
    }

    /// A job of `file` ran for `seconds` (its `part`, its tests in their
    /// `order`): the whole file's seconds once its last part is done.
    pub fn job_done(
        &mut self,
        package: &str,
        file: &str,
        seconds: f64,
        part: Option<(u32, u32)>,
        order: Vec<String>,
    ) -> Option<f64> {
        let key = (package.to_string(), file.to_string());
        if self.keep_times {
            let k = part.map_or(0, |(k, _)| k);
            self.orders.entry(key.clone()).or_default().push((k, order));
        }
        let mut seconds = seconds;
        if let Some((left, sum)) = self.parts.get_mut(&key) {
            *left -= 1;
            *sum += seconds;
            if *left > 0 {
                return None;
            }
            seconds = *sum;
        }
        if self.keep_times {
            self.keep(key, seconds);
        }
        Some(seconds)
    }

    /// The tests of a file that is done, in their order (its parts' in
    /// turn), with their times; kept for a file of half a second or more.
    fn keep(&mut self, key: Key, seconds: f64) {
        let mut runs = self.orders.remove(&key).unwrap_or_default();
        runs.sort_by_key(|(k, _)| *k);
        let (package, file) = key;
        let tests: Vec<(String, f64)> = runs
            .into_iter()
            .flat_map(|(_, order)| order)
            .filter_map(|id| {
                let t = self.secs.remove(&(package.clone(), id.clone()))?;
                Some((id, t))
            })
            .collect();
        if seconds >= SPLIT_MIN_SECS && !tests.is_empty() {
            self.times.entry(package).or_default().insert(file, tests);
        }
    }
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
    /// The tests' times of the files that finished, in their order, when
    /// kept (see [`FileAccount`]).
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
    keep_test_times: bool,
    reporter: &mut dyn RecordSink,
) -> Result<RunSummary> {
    let threads = threads.max(1).min(jobs.len().max(1));
    let mut files = FileAccount::new(&jobs, suites, keep_test_times);
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
                        worker::run_file(backend, suite, &job.file, job.part.as_ref(), cfg, &tx)
                    }));
                    if timing {
                        let part = job
                            .part
                            .as_ref()
                            .map(|p| format!(" (part {}/{})", p.index, p.of));
                        crate::stderr_line::write(&format!(
                            "pyodide-test: {} {}{}: {:.3} s to {:.3} s",
                            std::thread::current().name().unwrap_or("worker"),
                            job.file,
                            part.unwrap_or_default(),
                            (job_started - run_started).as_secs_f64(),
                            run_started.elapsed().as_secs_f64()
                        ));
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
                            part: job.part.as_ref().map(Part::number),
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
                    if !files.record(&record) {
                        continue;
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
                    seconds,
                    part,
                    order,
                } => {
                    let Some(seconds) = files.job_done(&package, &file, seconds, part, order)
                    else {
                        continue;
                    };
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
    summary.tests = files.times;
    match failure {
        Some(e) => Err(e.context("reporting")),
        None => Ok(summary),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::runner::test_sources::{TestFile, TestSource};

    pub(in crate::runner) fn suite(pkg: &str, files: &[(&str, u64)]) -> Suite {
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

    #[test]
    fn a_record_above_the_files_counts_once() {
        let suites = vec![suite(
            "a",
            &[
                ("t/test_1.py", 10),
                ("t/sub/test_2.py", 20),
                ("t/sub/test_3.py", 30),
            ],
        )];
        let jobs = plan(&suites, None, &Durations::new());
        let mut account = FileAccount::new(&jobs, &suites, false);
        let record = |id: &str| TestRecord {
            package: "a".into(),
            id: id.into(),
            outcome: Outcome::Skipped,
            duration: 0.0,
            message: String::new(),
        };
        // The directory's skip, from the job of each file below it.
        assert!(account.record(&record("t/sub")));
        assert!(!account.record(&record("t/sub")));
        // A file's own record, and its tests', are each file's.
        assert!(account.record(&record("t/sub/test_2.py")));
        assert!(account.record(&record("t/sub/test_3.py")));
        assert!(account.record(&record("t/test_1.py::test_a")));
        // Not a directory of the plan's files (a unittest id): as before.
        assert!(account.record(&record("test.test_x.T.test_y")));
        assert!(account.record(&record("test.test_x.T.test_y")));
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
