//! Metrics, the cross-validation driver and the reports.

pub mod crossval;
pub mod metrics;
pub mod report;
pub mod svg;
