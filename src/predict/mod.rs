//! Prediction with a model file, at the scale people use it: many inputs
//! gathered from files, directories and lists, run in parallel with the
//! results kept in input order, optionally one label per window of a long
//! recording, written as a table, JSON lines or CSV as they are ready.

pub mod format;
pub mod inputs;
pub mod run;
pub mod samples;
pub mod windows;
