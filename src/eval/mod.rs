//! Metrics, the cross-validation driver and the reports.

pub mod baselines;
pub mod crossval;
pub mod dataset;
pub mod experiment;
pub mod final_model;
pub mod manifest;
pub mod method;
pub mod metrics;
pub mod paired;
pub mod report;
pub mod results;
pub mod resume;
pub mod seeds;
pub mod shard;
pub mod svg;
