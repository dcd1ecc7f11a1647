//! Parameter layout: every tensor of a model lives at a named range of one
//! flat arena, so Adam runs over the whole arena in one call and gradients
//! share the same layout.

use crate::error::{Error, Result};
use std::ops::Range;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamEntry {
    /// PyTorch-style name, e.g. `encoder.0.weight`.
    pub name: String,
    pub shape: Vec<usize>,
    pub range: Range<usize>,
}

/// Named views into a flat parameter arena, in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamLayout {
    entries: Vec<ParamEntry>,
    len: usize,
}

impl ParamLayout {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a tensor and returns its range in the arena.
    ///
    /// # Panics
    /// If the name is already taken: layouts are built by model code, so a
    /// clash is a programming error.
    pub fn add(&mut self, name: &str, shape: &[usize]) -> Range<usize> {
        assert!(
            self.entries.iter().all(|e| e.name != name),
            "duplicate parameter name {name}"
        );
        let n: usize = shape.iter().product();
        let range = self.len..self.len + n;
        self.entries.push(ParamEntry {
            name: name.to_string(),
            shape: shape.to_vec(),
            range: range.clone(),
        });
        self.len += n;
        range
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    pub fn get(&self, name: &str) -> Result<&ParamEntry> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::shape(format!("no parameter named {name}")))
    }
}
