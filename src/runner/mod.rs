//! Dists, fetching, `python`, and the test runner: suites, workers, the
//! scheduler and reports. The runner describes guests
//! ([`crate::host::spec::GuestSpec`]) and asks a [`backend::Backend`] to
//! start them; it never assembles a guest out of host internals.

pub mod archive;
pub mod backend;
pub mod bisect;
pub mod build_run;
pub mod builds;
pub mod bytecode;
pub mod cache;
pub mod collect_rate;
pub mod compare;
pub mod cpython;
pub mod cpython_plan;
pub mod dist;
pub mod download;
pub mod events;
pub mod fetch;
pub mod inspect;
pub mod lib_test;
pub mod lock;
pub mod matrix;
pub mod matrix_report;
pub mod module;
pub mod node;
pub mod options;
pub mod outcome;
pub mod python;
pub mod report;
pub mod rewritten;
pub mod scheduler;
pub mod sdist;
pub mod split;
pub mod suite;
pub mod test_cmd;
pub mod test_sources;
pub mod testdeps;
pub mod tier;
pub mod wheels;
pub mod worker;
pub mod zygote;

pub use backend::Runtime;
pub use dist::DistSource;
