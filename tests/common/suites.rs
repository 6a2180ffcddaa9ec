//! The package suites the repo's own tests pin: their wheels (exact
//! versions, so a new release on PyPI changes nothing behind CI's back) and
//! pytest arguments. Shared by `tests/suites.rs` (outcomes against the
//! committed snapshots) and the conformance target (Wasmtime against Node).

/// pytest and its dependencies, for every suite.
pub const PYTEST: &[&str] = &[
    "pluggy==1.7.0",
    "iniconfig==2.3.1",
    "packaging==26.4",
    "pygments==2.21.0",
    "pytest==9.2.0",
];

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
        with: &["cytoolz==1.2.0", "toolz==1.2.0"],
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
        with: &[
            "pydantic-core==2.50.5",
            "typing-extensions==4.16.0",
            "hypothesis==6.170.17",
            "sortedcontainers==2.4.0",
            "dirty-equals==0.11",
            "inline-snapshot==0.36.1",
            "asttokens==3.0.2",
            "executing==2.3.0",
            "rich==15.0.0",
            "markdown-it-py==4.3.0",
            "mdurl==0.1.2",
            "pytest-benchmark==5.3.1",
            "py-cpuinfo2==10.1.1",
            "typing-inspection==0.4.5",
            "pytest-mock==3.17.0",
            "tzdata==2026.6",
            "pytest-run-parallel==0.10.0",
        ],
        pytest_args: &["-W", "ignore::pytest.PytestConfigWarning"],
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
