//! Dists, fetching, `python`, and the test runner: suites, workers, the
//! scheduler and reports.

pub mod cache;
pub mod compare;
pub mod dist;
pub mod fetch;
pub mod node;
pub mod outcome;
pub mod python;
pub mod report;
pub mod scheduler;
pub mod suite;
pub mod test_cmd;
pub mod wheels;
pub mod worker;

pub use python::DistSource;
