//! `pyodide-test bisect`: the first build, in the order given, at which
//! the selected tests' outcomes differ from those on the first build, by
//! binary search: the two ends first, then the build nearest the middle
//! of what is left, so that `n` builds take at most `ceil(log2(n - 1)) + 2`
//! runs when every build boots. A build that cannot run (does not boot,
//! cannot be fetched, or its suite cannot be prepared) is skipped as
//! `git bisect skip` does: the next candidate is the one nearest the
//! middle that has not been tried, and if only skipped builds are left
//! between the two sides, the answer names them.
//!
//! Every build run is logged on stdout with its verdict (reference, same,
//! changed, or why it was skipped); the last line names the two builds on
//! either side of the change with their Python and Emscripten versions.
//! Exit status: 0 a change was found, 1 no change between the ends, 2 no
//! build to compare (or a usage or setup error).

use std::collections::BTreeMap;

use anyhow::{Result, bail};

use super::backend::Runtime;
use super::build_run::{self, BuildInfo, BuildResult, BuildStatus};
use super::builds::Build;
use super::dist::DistSource;
use super::outcome::Outcome;
use super::test_cmd::{self, TestOptions};

/// Options of `bisect`.
#[derive(Debug, Clone, Default)]
pub struct BisectOptions {
    /// The builds, in order (oldest first).
    pub builds: Vec<Build>,
    /// The tests to run on each.
    pub test: TestOptions,
}

/// What a build's run says, against the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// The tests ran: each one's outcome.
    Ran(BTreeMap<String, Outcome>),
    /// The build could not run them.
    Skipped,
}

/// Where the search ended, as indices into the builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// `last_same` has the reference's outcomes, `first_changed` the next
    /// build that ran does not; `skipped` lists the builds between them
    /// that could not run.
    Change {
        /// The last build found with the reference's outcomes.
        last_same: usize,
        /// The first build found with other outcomes.
        first_changed: usize,
        /// Builds between the two that were skipped.
        skipped: Vec<usize>,
    },
    /// The last build that ran has the reference's outcomes.
    NoChange {
        /// The reference build.
        first: usize,
        /// The last build that ran.
        last: usize,
    },
    /// Fewer than two builds could run.
    TooFew,
}

/// The most runs a search over `n` builds takes when every build runs.
pub fn max_runs(n: usize) -> usize {
    match n {
        0..=2 => n,
        _ => ((n - 1) as f64).log2().ceil() as usize + 2,
    }
}

/// The binary search over `n` builds; `probe(i)` runs build `i` (each at
/// most once). Two runs agree when their outcomes are equal.
pub fn search(n: usize, mut probe: impl FnMut(usize) -> Result<Probe>) -> Result<Found> {
    let mut skipped = vec![false; n];
    // The reference: the first build that runs.
    let mut lo = None;
    let mut reference = BTreeMap::new();
    for (i, skip) in skipped.iter_mut().enumerate() {
        match probe(i)? {
            Probe::Ran(o) => {
                lo = Some(i);
                reference = o;
                break;
            }
            Probe::Skipped => *skip = true,
        }
    }
    let Some(mut lo) = lo else {
        return Ok(Found::TooFew);
    };
    // The other end: the last build that runs.
    let mut hi = None;
    for i in (lo + 1..n).rev() {
        match probe(i)? {
            Probe::Ran(o) if o == reference => {
                return Ok(Found::NoChange { first: lo, last: i });
            }
            Probe::Ran(_) => {
                hi = Some(i);
                break;
            }
            Probe::Skipped => skipped[i] = true,
        }
    }
    let Some(mut hi) = hi else {
        return Ok(Found::TooFew);
    };
    loop {
        let mid = (lo + hi) / 2;
        let next = (lo + 1..hi)
            .filter(|&i| !skipped[i])
            .min_by_key(|&i| (i.abs_diff(mid), i));
        let Some(i) = next else {
            return Ok(Found::Change {
                last_same: lo,
                first_changed: hi,
                skipped: (lo + 1..hi).collect(),
            });
        };
        match probe(i)? {
            Probe::Ran(o) if o == reference => lo = i,
            Probe::Ran(_) => hi = i,
            Probe::Skipped => skipped[i] = true,
        }
    }
}

/// How two runs differ, shortly: up to three tests with their outcomes.
fn difference(reference: &BTreeMap<String, Outcome>, other: &BTreeMap<String, Outcome>) -> String {
    let name = |o: Option<&Outcome>| o.map_or("absent", |o| o.as_str());
    let keys: std::collections::BTreeSet<&String> = reference.keys().chain(other.keys()).collect();
    let differing: Vec<String> = keys
        .into_iter()
        .filter(|k| reference.get(*k) != other.get(*k))
        .map(|k| format!("{k} {} -> {}", name(reference.get(k)), name(other.get(k))))
        .collect();
    let shown = differing
        .iter()
        .take(3)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    match differing.len() {
        0 => String::new(),
        1..=3 => shown,
        n => format!("{shown} and {} more", n - 3),
    }
}

fn outcomes(result: &BuildResult) -> Option<BTreeMap<String, Outcome>> {
    result
        .outcomes()
        .map(|m| m.into_iter().map(|(k, o)| (k.to_string(), o)).collect())
}

/// Run the bisection; returns the exit status (see the module's
/// documentation).
pub fn run(base: &DistSource, runtime: Runtime, opts: &BisectOptions) -> Result<i32> {
    test_cmd::check(&opts.test)?;
    let n = opts.builds.len();
    if n < 2 {
        bail!("bisect needs at least two builds");
    }
    println!(
        "bisect: {n} builds from {} to {}: at most {} runs if every build boots",
        opts.builds[0].label(),
        opts.builds[n - 1].label(),
        max_runs(n)
    );
    let mut infos: Vec<Option<BuildInfo>> = vec![None; n];
    let mut reasons: Vec<Option<String>> = vec![None; n];
    let mut reference: Option<BTreeMap<String, Outcome>> = None;
    let mut runs = 0;
    let mut skips = 0;
    let found = search(n, |i| {
        runs += 1;
        let build = &opts.builds[i];
        eprintln!("pyodide-test: bisect: running {}", build.label());
        let result = build_run::run_build(build, base, runtime, &opts.test)?;
        let what = result.info.describe();
        infos[i] = Some(result.info.clone());
        let probe = match outcomes(&result) {
            None => {
                let line = result.skip_line().unwrap_or_default();
                println!("bisect: [{runs}] {what}: {line} (skipped)");
                reasons[i] = Some(line);
                skips += 1;
                Probe::Skipped
            }
            Some(o) => {
                match &reference {
                    None => {
                        let BuildStatus::Ran { counts, .. } = &result.status else {
                            unreachable!("a build with outcomes ran")
                        };
                        let [p, f, s, c] = crate::runner::report::markdown::columns(counts);
                        let total = counts.total();
                        let tests = if total == 1 { "test" } else { "tests" };
                        println!(
                            "bisect: [{runs}] {what}: reference ({total} {tests}: {p} passed, {f} failed, {s} skipped, {c} crashed)"
                        );
                        if o.is_empty() {
                            println!(
                                "bisect: warning: no test was selected on the reference build"
                            );
                        }
                        reference = Some(o.clone());
                    }
                    Some(r) if *r == o => println!("bisect: [{runs}] {what}: same"),
                    Some(r) => println!("bisect: [{runs}] {what}: changed: {}", difference(r, &o)),
                }
                Probe::Ran(o)
            }
        };
        Ok(probe)
    })?;
    let tried = if skips == 0 {
        format!("{runs} builds run")
    } else {
        format!("{runs} builds tried, {skips} skipped")
    };
    let describe = |i: usize| {
        infos[i]
            .as_ref()
            .map_or_else(|| opts.builds[i].label(), BuildInfo::describe)
    };
    Ok(match found {
        Found::Change {
            last_same,
            first_changed,
            skipped,
        } => {
            for i in &skipped {
                println!(
                    "bisect: {} lies between and was skipped: {}",
                    opts.builds[*i].label(),
                    reasons[*i].as_deref().unwrap_or("")
                );
            }
            let between = if skipped.is_empty() {
                String::new()
            } else {
                " (or a skipped build between them)".to_string()
            };
            println!(
                "bisect: {tried}; the outcomes change between {} and {}{between}",
                describe(last_same),
                describe(first_changed)
            );
            0
        }
        Found::NoChange { first, last } => {
            println!(
                "bisect: {tried}; no change: {} has the outcomes of {}",
                describe(last),
                describe(first)
            );
            1
        }
        Found::TooFew => {
            println!(
                "bisect: {tried}; fewer than two builds could run the tests: nothing to compare"
            );
            2
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A search over builds whose outcome is "flipped" from `flip` on;
    /// `skip` cannot run. Returns the result and the builds run.
    fn fake(n: usize, flip: usize, skip: &[usize]) -> (Found, Vec<usize>) {
        let mut ran = Vec::new();
        let found = search(n, |i| {
            ran.push(i);
            if skip.contains(&i) {
                return Ok(Probe::Skipped);
            }
            let o = if i >= flip {
                Outcome::Failed
            } else {
                Outcome::Passed
            };
            Ok(Probe::Ran([("t".to_string(), o)].into_iter().collect()))
        })
        .unwrap();
        (found, ran)
    }

    #[test]
    fn finds_every_flip_within_the_bound() {
        for n in 2..40 {
            for flip in 1..n {
                let (found, ran) = fake(n, flip, &[]);
                assert_eq!(
                    found,
                    Found::Change {
                        last_same: flip - 1,
                        first_changed: flip,
                        skipped: vec![]
                    },
                    "n={n} flip={flip}"
                );
                assert!(ran.len() <= max_runs(n), "n={n} flip={flip}: {ran:?}");
                let mut unique = ran.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), ran.len(), "a build ran twice: {ran:?}");
            }
        }
        assert_eq!(max_runs(8), 5);
        assert_eq!(max_runs(42), 8);
    }

    #[test]
    fn skipped_builds() {
        // The middle does not boot: its neighbour is tried instead.
        let (found, ran) = fake(8, 3, &[3]);
        assert_eq!(
            found,
            Found::Change {
                last_same: 2,
                first_changed: 4,
                skipped: vec![3]
            }
        );
        assert_eq!(ran[..2], [0, 7]);
        // The first build does not boot: the next is the reference.
        let (found, _) = fake(8, 5, &[0]);
        assert_eq!(
            found,
            Found::Change {
                last_same: 4,
                first_changed: 5,
                skipped: vec![]
            }
        );
        // No change at all.
        assert_eq!(fake(5, 99, &[]).0, Found::NoChange { first: 0, last: 4 });
        // The last one skipped: the one before is the other end.
        assert_eq!(fake(5, 99, &[4]).0, Found::NoChange { first: 0, last: 3 });
        // Nothing runs.
        assert_eq!(fake(3, 1, &[0, 1, 2]).0, Found::TooFew);
    }
}
