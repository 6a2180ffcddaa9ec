//! Dists, fetching, and (later) test plans, workers and reports.

pub mod dist;
pub mod fetch;
pub mod node;
pub mod outcome;
pub mod python;
pub mod report;
pub mod wheels;

pub use python::DistSource;
