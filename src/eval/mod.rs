//! Metrics, the cross-validation driver and the reports.

pub mod crossval;
pub mod dataset;
pub mod experiment;
pub mod final_model;
pub mod manifest;
pub mod metrics;
pub mod report;
pub mod results;
pub mod resume;
pub mod svg;
