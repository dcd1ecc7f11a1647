//! Metrics, the cross-validation driver and the reports.

pub mod crossval;
pub mod manifest;
pub mod metrics;
pub mod report;
pub mod results;
pub mod svg;
