//! The explicit, short tables that tie pytest configuration to
//! distributions: `-p NAME` plugin names, configuration keys and command
//! line options that imply a plugin, pytest's own plugins and keys, and
//! the tools that are not test dependencies in the guest.

/// `-p NAME` (a module or an entry-point name) -> the distribution that
/// provides it.
pub const PLUGIN_NAMES: &[(&str, &str)] = &[
    ("pytest_asyncio", "pytest-asyncio"),
    ("asyncio", "pytest-asyncio"),
    ("pytest_benchmark", "pytest-benchmark"),
    ("pytest_benchmark.plugin", "pytest-benchmark"),
    ("benchmark", "pytest-benchmark"),
    ("pytest_mock", "pytest-mock"),
    ("pytest_timeout", "pytest-timeout"),
    ("timeout", "pytest-timeout"),
    ("pytest_randomly", "pytest-randomly"),
    ("randomly", "pytest-randomly"),
    ("pytest_rerunfailures", "pytest-rerunfailures"),
    ("rerunfailures", "pytest-rerunfailures"),
    ("hypothesispytest", "hypothesis"),
    ("_hypothesis_pytestplugin", "hypothesis"),
    ("anyio", "anyio"),
    ("anyio.pytest_plugin", "anyio"),
    ("pytest_trio", "pytest-trio"),
    ("trio", "pytest-trio"),
    ("pytest_env", "pytest-env"),
    ("pytest_httpserver", "pytest-httpserver"),
    ("pytest_doctestplus", "pytest-doctestplus"),
    ("xdist", "pytest-xdist"),
    ("xdist.plugin", "pytest-xdist"),
    ("xdist.looponfail", "pytest-xdist"),
    ("pytest_cov", "pytest-cov"),
    ("pytest_forked", "pytest-forked"),
];

/// pytest's own plugins: `-p NAME` / `-p no:NAME` with these needs no
/// distribution.
pub const BUILTIN_PLUGINS: &[&str] = &[
    "assertion",
    "cacheprovider",
    "capture",
    "debugging",
    "doctest",
    "faulthandler",
    "fixtures",
    "freeze_support",
    "helpconfig",
    "junitxml",
    "legacypath",
    "logging",
    "main",
    "mark",
    "monkeypatch",
    "nose",
    "pastebin",
    "pytester",
    "pytester_assertions",
    "python",
    "python_path",
    "recwarn",
    "reports",
    "runner",
    "setuponly",
    "setupplan",
    "skipping",
    "stepwise",
    "subtests",
    "terminal",
    "threadexception",
    "tmpdir",
    "unittest",
    "unraisableexception",
    "warnings",
];

/// Configuration keys that only a plugin defines -> that plugin.
/// (`xfail_strict`, `markers`, ... are pytest's own: see [`CORE_KEYS`].)
pub const KEY_PLUGINS: &[(&str, &str)] = &[
    ("asyncio_mode", "pytest-asyncio"),
    ("asyncio_default_fixture_loop_scope", "pytest-asyncio"),
    ("asyncio_default_test_loop_scope", "pytest-asyncio"),
    ("timeout", "pytest-timeout"),
    ("timeout_method", "pytest-timeout"),
    ("timeout_func_only", "pytest-timeout"),
    ("mock_use_standalone_module", "pytest-mock"),
    ("mock_traceback_monkeypatch", "pytest-mock"),
    ("env", "pytest-env"),
    ("trio_mode", "pytest-trio"),
    ("doctest_plus", "pytest-doctestplus"),
    ("reruns", "pytest-rerunfailures"),
    ("reruns_delay", "pytest-rerunfailures"),
];

/// Command-line options (in `addopts`) that only a plugin defines, by
/// prefix -> that plugin.
pub const OPTION_PLUGINS: &[(&str, &str)] = &[
    ("--benchmark-", "pytest-benchmark"),
    ("--asyncio-mode", "pytest-asyncio"),
    ("--timeout", "pytest-timeout"),
    ("--hypothesis-", "hypothesis"),
    ("--reruns", "pytest-rerunfailures"),
    ("--randomly-", "pytest-randomly"),
    ("--doctest-plus", "pytest-doctestplus"),
];

/// pytest's own configuration keys (pytest 8 and 9).
pub const CORE_KEYS: &[&str] = &[
    "addopts",
    "cache_dir",
    "collect_imported_tests",
    "consider_namespace_packages",
    "console_output_style",
    "doctest_encoding",
    "doctest_optionflags",
    "empty_parameter_set_mark",
    "enable_assertion_pass_hook",
    "faulthandler_exit_on_timeout",
    "faulthandler_timeout",
    "filterwarnings",
    "junit_duration_report",
    "junit_family",
    "junit_log_passing_tests",
    "junit_logging",
    "junit_suite_name",
    "log_auto_indent",
    "log_cli",
    "log_cli_date_format",
    "log_cli_format",
    "log_cli_level",
    "log_date_format",
    "log_file",
    "log_file_date_format",
    "log_file_format",
    "log_file_level",
    "log_file_mode",
    "log_format",
    "log_level",
    "markers",
    "minversion",
    "norecursedirs",
    "python_classes",
    "python_files",
    "python_functions",
    "pythonpath",
    "required_plugins",
    "strict",
    "strict_config",
    "strict_markers",
    "strict_parametrization_ids",
    "strict_xfail",
    "testpaths",
    "tmp_path_retention_count",
    "tmp_path_retention_policy",
    "truncation_limit_chars",
    "truncation_limit_lines",
    "usefixtures",
    "verbosity_assertions",
    "verbosity_subtests",
    "verbosity_test_cases",
    "xfail_strict",
];

/// Tools that are not test dependencies in the guest:
/// (distribution, module tests would import, why).
/// They are dropped unless a test file imports the module.
pub const GUEST_UNUSABLE: &[(&str, &str, &str)] = &[
    (
        "pytest-xdist",
        "xdist",
        "runs tests in worker processes (no subprocesses in the guest)",
    ),
    (
        "pytest-forked",
        "pytest_forked",
        "forks (no fork in the guest)",
    ),
    (
        "pytest-cov",
        "pytest_cov",
        "coverage reporting only (its options are dropped)",
    ),
    ("coverage", "coverage", "coverage reporting only"),
    ("codecov", "codecov", "coverage upload"),
    ("coveralls", "coveralls", "coverage upload"),
    ("tox", "tox", "environment manager, not a test dependency"),
    ("nox", "nox", "environment manager, not a test dependency"),
    ("covdefaults", "covdefaults", "coverage plugin"),
    (
        "pytest-timeout",
        "pytest_timeout",
        "needs signal.setitimer or threads, which the guest lacks (the runner's --timeout stops a test instead)",
    ),
    ("pre-commit", "pre_commit", "git hook manager"),
    ("prek", "prek", "git hook manager (a native binary)"),
    ("maturin", "maturin", "build tool (a native binary)"),
    ("mypy", "mypy", "type checker"),
    ("pyright", "pyright", "type checker"),
    ("ruff", "ruff", "linter (a native binary)"),
    ("flake8", "flake8", "linter"),
    ("pylint", "pylint", "linter"),
    ("black", "black", "formatter"),
    ("isort", "isort", "formatter"),
    ("twine", "twine", "upload tool"),
];

/// The distribution providing `-p NAME`, if known.
pub fn plugin_distribution(name: &str) -> Option<&'static str> {
    PLUGIN_NAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| *d)
}

/// Whether `-p NAME` names one of pytest's own plugins.
pub fn is_builtin_plugin(name: &str) -> bool {
    BUILTIN_PLUGINS.contains(&name) || name.starts_with("_pytest.")
}

/// The plugin a configuration key implies, if any.
pub fn key_plugin(key: &str) -> Option<&'static str> {
    KEY_PLUGINS.iter().find(|(k, _)| *k == key).map(|(_, d)| *d)
}

/// The plugin an `addopts` option implies, if any.
pub fn option_plugin(option: &str) -> Option<&'static str> {
    OPTION_PLUGINS
        .iter()
        .find(|(p, _)| option.starts_with(p))
        .map(|(_, d)| *d)
}

/// Whether `key` is one of pytest's own configuration keys.
pub fn is_core_key(key: &str) -> bool {
    CORE_KEYS.contains(&key)
}

/// `(module, why)` when `dist` (normalised) cannot be used in the guest.
pub fn guest_unusable(dist: &str) -> Option<(&'static str, &'static str)> {
    GUEST_UNUSABLE
        .iter()
        .find(|(d, _, _)| *d == dist)
        .map(|(_, m, why)| (*m, *why))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_answer() {
        assert_eq!(
            plugin_distribution("pytest_benchmark"),
            Some("pytest-benchmark")
        );
        assert_eq!(plugin_distribution("asyncio"), Some("pytest-asyncio"));
        assert_eq!(plugin_distribution("nonesuch"), None);
        assert!(is_builtin_plugin("pytester"));
        assert_eq!(key_plugin("asyncio_mode"), Some("pytest-asyncio"));
        assert_eq!(key_plugin("xfail_strict"), None);
        assert!(is_core_key("xfail_strict"));
        assert_eq!(
            option_plugin("--benchmark-disable"),
            Some("pytest-benchmark")
        );
        assert!(guest_unusable("pytest-xdist").is_some());
        assert!(guest_unusable("pytest").is_none());
        // Tables are normalised and have no duplicates.
        for (d, _, _) in GUEST_UNUSABLE {
            assert_eq!(super::super::requirement::normalize_name(d), *d);
        }
        let mut names: Vec<_> = PLUGIN_NAMES.iter().map(|(n, _)| n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PLUGIN_NAMES.len());
    }
}
