//! Splitting the test files that would hold up a run into parts
//! (`--split-files`): which files, and where they are cut (by their tests'
//! times, which the scheduler keeps from the last run that split them).

use super::scheduler::{Job, SPLIT_MIN_SECS, TestTimes, sort_longest_first};
use super::suite::{Driver, Part, Suite};

/// Split the pytest files that would hold up a run on `threads` workers
/// into parts, each a contiguous run of the file's tests (a class's tests,
/// or a function's parametrizations, stay together), as pytest-xdist
/// spreads a file's tests: a file expected to take more than the run's
/// share of one worker (the total over `threads`), and half a second at
/// least, becomes as many parts as it has shares (at most `threads`).
/// With the file's tests' `times` (see [`TestTimes`]) the parts are cut
/// by time ([`Part::cuts`](super::suite::Part::cuts)), fewer if the file's scopes do not divide so
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
            && suites[job.suite].driver == Driver::Pytest
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
        for (index, (estimate, cuts)) in (1..=n).zip(parts) {
            out.push(Job {
                estimate,
                part: Some(Part { index, of: n, cuts }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::scheduler::{Durations, TestTimes, plan, tests::suite};

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
            .map(|j| (j.file, j.part.as_ref().map(Part::number)))
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
        assert_eq!(parts[0].part.as_ref().map(Part::number), Some((1, 2)));
        assert!((parts[0].estimate - 20.1).abs() < 1e-9, "{jobs:?}");
        assert!(
            parts.iter().all(|j| j
                .part
                .as_ref()
                .is_some_and(|p| p.cuts == ["t/a.py::test_q"])),
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
}
