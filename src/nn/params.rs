//! Parameter layout: every tensor of a model lives at a named range of one
//! flat arena, so Adam runs over the whole arena in one call and gradients
//! share the same layout.

use crate::error::{Error, Result};
use std::ops::Range;

/// One named tensor of a [`ParamLayout`]: its shape and where its values lie
/// in the flat arena (row-major, so `range.len()` is the product of `shape`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamEntry {
    /// PyTorch-style name, e.g. `encoder.0.weight`.
    pub name: String,
    /// Dimensions, outermost first (`[outputs, inputs]` for a dense weight).
    pub shape: Vec<usize>,
    /// The tensor's values in the arena: `arena[range]`.
    pub range: Range<usize>,
}

/// Named views into a flat parameter arena, in insertion order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamLayout {
    entries: Vec<ParamEntry>,
    len: usize,
}

impl ParamLayout {
    /// An empty layout.
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

    /// Values in the whole arena: the sum of every tensor's element count.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the layout holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every tensor, in the order they were added (which is arena order).
    pub fn entries(&self) -> &[ParamEntry] {
        &self.entries
    }

    /// The tensor called `name`; a shape error if there is none.
    pub fn get(&self, name: &str) -> Result<&ParamEntry> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| Error::shape(format!("no parameter named {name}")))
    }
}

/// A model's parameters and their gradients, two buffers sharing one
/// [`ParamLayout`]. Layers read `params` and accumulate into `grads`
/// (`+=`), so call [`ParamArena::zero_grads`] before each backward pass;
/// an optimiser ([`crate::nn::adam::Adam`]) then updates `params` from
/// `grads` in one call over the whole arena.
pub struct ParamArena<B: crate::backend::Backend> {
    /// Names, shapes and ranges of the tensors in both buffers.
    pub layout: ParamLayout,
    /// The parameter values, `layout.len()` of them.
    pub params: B::Buf,
    /// The gradients, laid out like `params`; layers accumulate into them.
    pub grads: B::Buf,
}

impl<B: crate::backend::Backend> ParamArena<B> {
    /// Zero parameters and gradients for `layout`.
    pub fn zeros(backend: &B, layout: ParamLayout) -> Result<Self> {
        let params = backend.alloc(layout.len())?;
        let grads = backend.alloc(layout.len())?;
        Ok(Self {
            layout,
            params,
            grads,
        })
    }

    /// Parameters uploaded from host values laid out as `layout` (e.g. from
    /// the layers' `init`, or a checkpoint); gradients zero.
    pub fn from_host(backend: &B, layout: ParamLayout, host: &[f32]) -> Result<Self> {
        let mut arena = Self::zeros(backend, layout)?;
        arena.upload(backend, host)?;
        Ok(arena)
    }

    /// Values in each of the two buffers.
    pub fn len(&self) -> usize {
        self.layout.len()
    }

    /// Whether the arena holds no parameters.
    pub fn is_empty(&self) -> bool {
        self.layout.is_empty()
    }

    /// Sets every gradient to zero.
    pub fn zero_grads(&mut self, backend: &B) -> Result<()> {
        let n = self.layout.len();
        backend.fill(backend.view_mut(&mut self.grads, 0..n), 0.0)
    }

    /// Replaces the parameters with host values (same layout).
    pub fn upload(&mut self, backend: &B, host: &[f32]) -> Result<()> {
        crate::error::check_len("parameter arena", host.len(), &[self.layout.len()])?;
        let n = self.layout.len();
        backend.upload(host, backend.view_mut(&mut self.params, 0..n))
    }

    /// The parameters as host values.
    pub fn download(&self, backend: &B) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.layout.len()];
        backend.download(backend.view(&self.params, 0..out.len()), &mut out)?;
        Ok(out)
    }

    /// The gradients as host values.
    pub fn download_grads(&self, backend: &B) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.layout.len()];
        backend.download(backend.view(&self.grads, 0..out.len()), &mut out)?;
        Ok(out)
    }
}
