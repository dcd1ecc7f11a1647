//! Checkpoints: safetensors files (readable by PyTorch's `safetensors`
//! package) holding f32 tensors in PyTorch's layouts plus a metadata header.
//!
//! The header's `__metadata__` holds, as strings (the safetensors format only
//! allows strings): `format` = "vaeser", `format_version`, `kind` (what model
//! the file holds), `checksum` (XXH64 of the tensor bytes, `xxh64:<hex>`, so
//! a corrupted file is detected and not silently loaded; files of format
//! version 1 carry `fnv1a64:<hex>`, still accepted) and any number of JSON-encoded
//! values set by the model code (latent size, label names, normalisation
//! statistics, configuration, seed, ...).
//!
//! The file is written by this module rather than by `safetensors::serialize`
//! because that function writes the metadata from a `HashMap` in random
//! order, and the same model must always give the same bytes (SPEC §7).
//! Reading goes through the `safetensors` crate, which validates the layout.

use crate::checksum::{fnv1a64, xxh64};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::nn::params::ParamLayout;
use serde::{de::DeserializeOwned, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Value of the `format` metadata key.
pub const FORMAT: &str = "vaeser";
/// Version of the metadata conventions; files from a newer version are
/// refused. Version 2 changed the checksum from FNV-1a to XXH64 (an older
/// program would call every new file corrupt; the version makes it say why).
pub const FORMAT_VERSION: u32 = 2;

/// How many more parameters than a file holds its metadata may describe
/// before loading is refused without allocating (2^24 values, 64 MiB).
pub const METADATA_SLACK: usize = 1 << 24;

const RESERVED_KEYS: [&str; 4] = ["format", "format_version", "kind", "checksum"];

#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

#[derive(Clone, Debug)]
pub struct Checkpoint {
    kind: String,
    metadata: BTreeMap<String, String>,
    tensors: Vec<Tensor>,
    /// The file this checkpoint was read from, for error messages.
    source: PathBuf,
}

impl Checkpoint {
    /// An empty checkpoint of a model kind (e.g. "vae").
    pub fn new(kind: &str) -> Self {
        Checkpoint {
            kind: kind.to_string(),
            metadata: BTreeMap::new(),
            tensors: Vec::new(),
            source: PathBuf::from("<in memory>"),
        }
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The file it was read from (`<in memory>` for one built in this process).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// Fails unless the checkpoint holds one of the `expected` kinds.
    pub fn expect_kind(&self, expected: &[&str]) -> Result<()> {
        if expected.contains(&self.kind.as_str()) {
            Ok(())
        } else {
            Err(Error::format(
                &self.source,
                format!(
                    "checkpoint holds a model of kind '{}', expected {}",
                    self.kind,
                    expected
                        .iter()
                        .map(|k| format!("'{k}'"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ))
        }
    }

    /// Stores `value` as JSON under `key`.
    ///
    /// # Panics
    /// If `key` is one of the keys this module manages, or `value` does not
    /// serialise: both are programming errors.
    pub fn set_meta<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        assert!(
            !RESERVED_KEYS.contains(&key),
            "metadata key {key} is reserved"
        );
        let json = serde_json::to_string(value).expect("metadata serialises to JSON");
        self.metadata.insert(key.to_string(), json);
    }

    /// Reads back a value stored with `set_meta`.
    pub fn meta<T: DeserializeOwned>(&self, key: &str) -> Result<T> {
        let text = self.metadata.get(key).ok_or_else(|| {
            Error::format(
                &self.source,
                format!("checkpoint metadata has no '{key}' entry"),
            )
        })?;
        serde_json::from_str(text).map_err(|e| {
            Error::format(
                &self.source,
                format!("checkpoint metadata '{key}' is malformed: {e}"),
            )
        })
    }

    pub fn has_meta(&self, key: &str) -> bool {
        self.metadata.contains_key(key)
    }

    /// Appends a tensor.
    ///
    /// # Panics
    /// If the data length does not match the shape or the name is taken
    /// (model code builds checkpoints, so both are programming errors).
    pub fn add_tensor(&mut self, name: &str, shape: &[usize], data: Vec<f32>) {
        assert_eq!(
            data.len(),
            shape.iter().product::<usize>(),
            "tensor {name}: data length does not match shape {shape:?}"
        );
        assert!(
            self.tensors.iter().all(|t| t.name != name),
            "duplicate tensor {name}"
        );
        self.tensors.push(Tensor {
            name: name.to_string(),
            shape: shape.to_vec(),
            data,
        });
    }

    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }

    pub fn tensor(&self, name: &str) -> Result<&Tensor> {
        self.tensors.iter().find(|t| t.name == name).ok_or_else(|| {
            Error::format(
                &self.source,
                format!("checkpoint has no tensor named '{name}'"),
            )
        })
    }

    /// Appends every tensor of a parameter arena, named `prefix` + its name.
    pub fn add_params(&mut self, prefix: &str, layout: &ParamLayout, arena: &[f32]) {
        assert_eq!(arena.len(), layout.len(), "arena does not match its layout");
        for e in layout.entries() {
            self.add_tensor(
                &format!("{prefix}{}", e.name),
                &e.shape,
                arena[e.range.clone()].to_vec(),
            );
        }
    }

    /// Errors unless the tensors named `prefix`... hold nearly `count`
    /// values (at most [`METADATA_SLACK`] fewer). The sizes in the metadata
    /// are not covered by the checksum: checking them against the data
    /// actually in the file, before a model of that size is allocated,
    /// bounds the allocation by the file's size. A smaller disagreement is
    /// left to the tensor-by-tensor comparison, whose message names the
    /// tensor.
    pub fn check_holds_values(&self, prefix: &str, count: usize) -> Result<()> {
        let stored: usize = self
            .tensors
            .iter()
            .filter(|t| t.name.starts_with(prefix))
            .map(|t| t.data.len())
            .sum();
        if count > stored.saturating_add(METADATA_SLACK) {
            return Err(Error::format(
                &self.source,
                format!(
                    "the metadata describes a model of {count} parameters but the file holds \
                     {stored} values{}",
                    if prefix.is_empty() {
                        String::new()
                    } else {
                        format!(" under '{prefix}'")
                    }
                ),
            ));
        }
        Ok(())
    }

    /// Errors unless every value of the tensors named `prefix`... is finite.
    /// The checksum says the bytes are the ones written, not that they are
    /// usable: a NaN weight passes through ReLU as 0 and gives
    /// plausible-looking probabilities, so models refuse it at load (the
    /// container itself keeps any payload bit for bit).
    pub fn check_finite(&self, prefix: &str) -> Result<()> {
        for t in self.tensors.iter().filter(|t| t.name.starts_with(prefix)) {
            if let Some(i) = t.data.iter().position(|v| !v.is_finite()) {
                return Err(Error::format(
                    &self.source,
                    format!(
                        "tensor '{}' holds a non-finite value ({} at index {i}); the model is unusable",
                        t.name, t.data[i]
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Fills a parameter arena from the tensors named `prefix` + each name of
    /// `layout`; every tensor must be present with exactly the layout's shape.
    pub fn read_params(&self, prefix: &str, layout: &ParamLayout, arena: &mut [f32]) -> Result<()> {
        if arena.len() != layout.len() {
            return Err(Error::shape(format!(
                "parameter arena has {} values, its layout {}",
                arena.len(),
                layout.len()
            )));
        }
        for e in layout.entries() {
            let name = format!("{prefix}{}", e.name);
            let t = self.tensor(&name)?;
            if t.shape != e.shape {
                return Err(Error::format(
                    &self.source,
                    format!(
                        "tensor '{name}' has shape {:?}, the model expects {:?}",
                        t.shape, e.shape
                    ),
                ));
            }
            arena[e.range.clone()].copy_from_slice(&t.data);
        }
        Ok(())
    }

    /// The file's bytes: 8-byte little-endian header length, the JSON header
    /// (padded with spaces to a multiple of 8), then the tensors' data in order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let data_len: usize = self.tensors.iter().map(|t| t.data.len() * 4).sum();
        let mut data = Vec::with_capacity(data_len);
        for t in &self.tensors {
            for x in &t.data {
                data.extend_from_slice(&x.to_le_bytes());
            }
        }
        let mut meta = serde_json::Map::new();
        meta.insert("format".into(), FORMAT.into());
        meta.insert("format_version".into(), FORMAT_VERSION.to_string().into());
        meta.insert("kind".into(), self.kind.clone().into());
        meta.insert(
            "checksum".into(),
            format!("xxh64:{:016x}", xxh64(&data)).into(),
        );
        for (k, v) in &self.metadata {
            meta.insert(k.clone(), v.clone().into());
        }
        let mut header = serde_json::Map::new();
        header.insert("__metadata__".into(), meta.into());
        let mut offset = 0;
        for t in &self.tensors {
            let n = t.data.len() * 4;
            header.insert(
                t.name.clone(),
                serde_json::json!({
                    "dtype": "F32",
                    "shape": t.shape,
                    "data_offsets": [offset, offset + n],
                }),
            );
            offset += n;
        }
        let mut header = serde_json::to_string(&header).expect("header serialises");
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let mut bytes = Vec::with_capacity(8 + header.len() + data.len());
        bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&data);
        bytes
    }

    /// Parses a checkpoint; `source` names it in errors.
    pub fn from_bytes(bytes: &[u8], source: &Path) -> Result<Checkpoint> {
        let fail = |m: String| Error::format(source, m);
        let st = safetensors::SafeTensors::deserialize(bytes).map_err(|e| {
            fail(format!(
                "not a readable safetensors checkpoint ({} bytes; truncated or corrupt?): {e:?}",
                bytes.len()
            ))
        })?;
        let (_, header) = safetensors::SafeTensors::read_metadata(bytes)
            .map_err(|e| fail(format!("unreadable safetensors header: {e:?}")))?;
        let mut metadata: BTreeMap<String, String> = header
            .metadata()
            .as_ref()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        match metadata.remove("format").as_deref() {
            Some(FORMAT) => {}
            _ => return Err(fail(
                "a safetensors file, but not a vaeser checkpoint (no 'format: vaeser' metadata)"
                    .into(),
            )),
        }
        let version: u32 = metadata
            .remove("format_version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| fail("checkpoint metadata has no valid 'format_version'".into()))?;
        if version > FORMAT_VERSION {
            return Err(fail(format!(
                "checkpoint format version {version} is newer than this program's ({FORMAT_VERSION})"
            )));
        }
        let kind = metadata
            .remove("kind")
            .ok_or_else(|| fail("checkpoint metadata has no 'kind'".into()))?;
        let checksum = metadata
            .remove("checksum")
            .ok_or_else(|| fail("checkpoint metadata has no 'checksum'".into()))?;

        // The data section is the tensors' bytes back to back (safetensors
        // refuses gaps and overlaps), so the checksum reads it in place.
        let header_len =
            u64::from_le_bytes(bytes[..8].try_into().expect("deserialize read 8 bytes"));
        let data_section = &bytes[8 + header_len as usize..];
        let actual = match checksum.split_once(':') {
            Some(("fnv1a64", _)) => format!("fnv1a64:{:016x}", fnv1a64(data_section)),
            _ => format!("xxh64:{:016x}", xxh64(data_section)),
        };
        if checksum != actual {
            return Err(fail(format!(
                "checkpoint is corrupt: tensor data checksum {actual} does not match the recorded {checksum}"
            )));
        }

        // Tensors in file order (by data offset), so a round trip keeps the order.
        let mut infos: Vec<(String, usize)> = header
            .tensors()
            .into_iter()
            .map(|(name, info)| (name, info.data_offsets.0))
            .collect();
        infos.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        let mut tensors = Vec::with_capacity(infos.len());
        for (name, _) in infos {
            let view = st
                .tensor(&name)
                .map_err(|e| fail(format!("tensor '{name}': {e:?}")))?;
            if view.dtype() != safetensors::Dtype::F32 {
                return Err(fail(format!(
                    "tensor '{name}' has dtype {:?}, expected F32",
                    view.dtype()
                )));
            }
            tensors.push(Tensor {
                name,
                shape: view.shape().to_vec(),
                data: f32s_from_le(view.data()),
            });
        }
        Ok(Checkpoint {
            kind,
            metadata,
            tensors,
            source: source.to_path_buf(),
        })
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }

    pub fn load(path: &Path) -> Result<Checkpoint> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::from_bytes(&bytes, path)
    }
}

/// Little-endian f32 values from bytes: one copy where the bytes happen to
/// be aligned for f32 (the usual case: the data section starts at a multiple
/// of 8 in a heap buffer), a conversion loop otherwise or on big-endian CPUs.
fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    if cfg!(target_endian = "little") {
        if let Ok(values) = bytemuck::try_cast_slice::<u8, f32>(bytes) {
            return values.to_vec();
        }
    }
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
