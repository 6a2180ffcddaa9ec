//! The package suites the repo's own tests pin: the package under test and
//! pytest (exact versions, so a new release on PyPI changes nothing behind
//! CI's back); their test dependencies are what the runner finds in each
//! sdist, pinned by `tests/constraints.txt` ([`CONSTRAINTS`]). Shared by `tests/suites.rs` (outcomes against the
//! committed snapshots) and the conformance target (Wasmtime against Node).

/// pytest and its dependencies, for every suite.
pub const PYTEST: &[&str] = &[
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pytest==9.2.0",
];

/// The constraints file (relative to the repository) for the suites' test
/// dependencies.
pub const CONSTRAINTS: &str = "tests/constraints.txt";

/// A package suite compared under both runtimes.
pub struct Suite {
    pub package: &'static str,
    pub with: &'static [&'static str],
    pub pytest_args: &'static [&'static str],
    /// Takes minutes (not run by default).
    pub slow: bool,
}

/// Every pinned suite.
pub const SUITES: &[Suite] = &[
    Suite {
        package: "msgpack",
        with: &["msgpack==1.2.4"],
        pytest_args: &[],
        slow: false,
    },
    Suite {
        package: "bitarray",
        with: &["bitarray==3.12.3"],
        pytest_args: &[],
        slow: false,
    },
    Suite {
        package: "cytoolz",
        with: &["cytoolz==1.2.0"],
        pytest_args: &[],
        slow: false,
    },
    Suite {
        package: "simplejson",
        with: &["simplejson==4.3.0"],
        pytest_args: &[],
        slow: true,
    },
    Suite {
        package: "pydantic-core",
        with: &["pydantic-core==2.50.5"],
        pytest_args: &[],
        slow: true,
    },
];

/// The suite of `package`.
pub fn suite(package: &str) -> &'static Suite {
    SUITES
        .iter()
        .find(|s| s.package == package)
        .expect("a pinned suite")
}
