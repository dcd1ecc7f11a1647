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
//! The file is written and read by this module rather than by the
//! `safetensors` crate: its `serialize` writes the metadata from a `HashMap`
//! in random order, and the same model must always give the same bytes
//! (SPEC §7); and loading here reads the tensor data in one read straight
//! into the buffer the model's parameters are taken from, where the crate
//! wants the whole file in memory first and hands out per-tensor copies.
//! The reader checks what the crate checks: F32 only, shapes matching the
//! byte ranges, the tensors back to back over the whole data section.

use crate::checksum::{fnv1a64, xxh64};
use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::nn::params::ParamLayout;
use serde::{de::DeserializeOwned, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Read;
use std::ops::Range;
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

/// One tensor of a checkpoint, borrowed from it: row-major f32 values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tensor<'a> {
    /// The tensor's name in the file (e.g. `learner.encoder.0.weight`).
    pub name: &'a str,
    /// Its dimensions, outermost first (PyTorch's order).
    pub shape: &'a [usize],
    /// Its values, `shape`'s product of them.
    pub data: &'a [f32],
}

/// Where one tensor's values lie in the checkpoint's value buffer.
#[derive(Clone, Debug)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    range: Range<usize>,
}

/// A safetensors checkpoint in memory: metadata plus every tensor's values
/// in one buffer, in file order (loading reads the file's data section
/// straight into it).
#[derive(Clone, Debug)]
pub struct Checkpoint {
    kind: String,
    metadata: BTreeMap<String, String>,
    entries: Vec<Entry>,
    values: Vec<f32>,
    /// The file this checkpoint was read from, for error messages.
    source: PathBuf,
    /// What a file read from disk declared (its format version and tensor
    /// checksum, both verified at load); `None` for one built in memory.
    recorded: Option<(u32, String)>,
}

impl Checkpoint {
    /// An empty checkpoint of a model kind (e.g. "vae").
    pub fn new(kind: &str) -> Self {
        Checkpoint {
            kind: kind.to_string(),
            metadata: BTreeMap::new(),
            entries: Vec::new(),
            values: Vec::new(),
            source: PathBuf::from("<in memory>"),
            recorded: None,
        }
    }

    /// The model kind the file declares (`vae`, `lstm-classifier`, `vaeser-model`, ...).
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The file it was read from (`<in memory>` for one built in this process).
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The format version and the tensor checksum (`xxh64:<hex>` or
    /// `fnv1a64:<hex>`) of a checkpoint read from a file: loading has
    /// checked both. `None` for one built in this process.
    pub fn recorded(&self) -> Option<(u32, &str)> {
        self.recorded.as_ref().map(|(v, c)| (*v, c.as_str()))
    }

    /// Every metadata entry set with `set_meta`, by key, as its JSON text.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str()))
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

    /// Whether metadata entry `key` exists.
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
            self.entries.iter().all(|t| t.name != name),
            "duplicate tensor {name}"
        );
        let start = self.values.len();
        self.values.extend_from_slice(&data);
        self.entries.push(Entry {
            name: name.to_string(),
            shape: shape.to_vec(),
            range: start..self.values.len(),
        });
    }

    fn view<'a>(&'a self, e: &'a Entry) -> Tensor<'a> {
        Tensor {
            name: &e.name,
            shape: &e.shape,
            data: &self.values[e.range.clone()],
        }
    }

    /// Every tensor, in file order.
    pub fn tensors(&self) -> impl ExactSizeIterator<Item = Tensor<'_>> {
        self.entries.iter().map(|e| self.view(e))
    }

    /// The tensor called `name`.
    pub fn tensor(&self, name: &str) -> Result<Tensor<'_>> {
        self.entries
            .iter()
            .find(|t| t.name == name)
            .map(|e| self.view(e))
            .ok_or_else(|| {
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
            .entries
            .iter()
            .filter(|t| t.name.starts_with(prefix))
            .map(|t| t.range.len())
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
        for t in self.tensors().filter(|t| t.name.starts_with(prefix)) {
            if let Some(i) = first_non_finite(t.data) {
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

    /// A parameter arena of `layout` from the tensors named `prefix` + each
    /// of its names; every tensor must be present with exactly the layout's
    /// shape. Borrowed from the checkpoint when the file stores them back to
    /// back in the layout's order (as this program writes them), so a model
    /// loads with no copy beyond the one onto its backend.
    pub fn params(&self, prefix: &str, layout: &ParamLayout) -> Result<Cow<'_, [f32]>> {
        let mut found = Vec::with_capacity(layout.entries().len());
        for e in layout.entries() {
            let name = format!("{prefix}{}", e.name);
            let t = self
                .entries
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| {
                    Error::format(
                        &self.source,
                        format!("checkpoint has no tensor named '{name}'"),
                    )
                })?;
            if t.shape != e.shape {
                return Err(Error::format(
                    &self.source,
                    format!(
                        "tensor '{name}' has shape {:?}, the model expects {:?}",
                        t.shape, e.shape
                    ),
                ));
            }
            found.push((t.range.clone(), e.range.clone()));
        }
        let start = found.first().map_or(0, |(r, _)| r.start);
        let in_place = found.iter().all(|(stored, wanted)| {
            stored.start - start == wanted.start && stored.len() == wanted.len()
        });
        if in_place && layout.len() == found.last().map_or(0, |(r, _)| r.end - start) {
            return Ok(Cow::Borrowed(&self.values[start..start + layout.len()]));
        }
        let mut arena = vec![0.0; layout.len()];
        for (stored, wanted) in found {
            arena[wanted].copy_from_slice(&self.values[stored]);
        }
        Ok(Cow::Owned(arena))
    }

    /// [`Checkpoint::params`], consuming the checkpoint: when the arena
    /// starts the file's data (as the first model of a file does), it is
    /// the checkpoint's own value buffer, cut to the arena's length, not a
    /// copy.
    pub fn into_params(mut self, prefix: &str, layout: &ParamLayout) -> Result<Vec<f32>> {
        match self.params(prefix, layout)? {
            Cow::Owned(arena) => return Ok(arena),
            Cow::Borrowed(b) if b.as_ptr() != self.values.as_ptr() => return Ok(b.to_vec()),
            Cow::Borrowed(_) => {}
        }
        self.values.truncate(layout.len());
        Ok(self.values)
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
        arena.copy_from_slice(&self.params(prefix, layout)?);
        Ok(())
    }

    /// The file's bytes: 8-byte little-endian header length, the JSON header
    /// (padded with spaces to a multiple of 8), then the tensors' data in order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let data = le_bytes(&self.values);
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
        for t in &self.entries {
            header.insert(
                t.name.clone(),
                serde_json::json!({
                    "dtype": "F32",
                    "shape": t.shape,
                    "data_offsets": [4 * t.range.start, 4 * t.range.end],
                }),
            );
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
        let layout = Layout::of(bytes.len() as u64, bytes.get(..8), source)?;
        let header = &bytes[8..layout.data_at];
        let data = &bytes[layout.data_at..];
        let mut values = reserve_values(data.len() / 4, source)?;
        values.extend(
            data.chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        );
        Self::parse(header, values, source)
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, &self.to_bytes())
    }

    /// Reads a checkpoint file: the header, then the tensor data in one read
    /// straight into the value buffer (no intermediate copy of the file).
    pub fn load(path: &Path) -> Result<Checkpoint> {
        let io = |e| Error::io(path, e);
        let mut file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut prefix = [0u8; 8];
        let got = read_up_to(&mut file, &mut prefix).map_err(io)?;
        let layout = Layout::of(len, prefix.get(..got), path)?;
        let mut header = vec![0u8; layout.data_at - 8];
        file.read_exact(&mut header).map_err(io)?;
        let n = ((len as usize) - layout.data_at) / 4;
        let mut values = reserve_values(n, path)?;
        crate::uninit_read::read_values(&mut file, &mut values, n).map_err(io)?;
        if cfg!(target_endian = "big") {
            for v in &mut values {
                *v = f32::from_bits(u32::from_le(v.to_bits()));
            }
        }
        Self::parse(&header, values, path)
    }

    /// Builds a checkpoint from its JSON header and its tensor data (already
    /// in native f32s), checking the layout and the checksum.
    fn parse(header: &[u8], values: Vec<f32>, source: &Path) -> Result<Checkpoint> {
        let fail = |m: String| Error::format(source, m);
        let unreadable = |m: String| {
            fail(format!(
                "not a readable safetensors checkpoint (truncated or corrupt?): {m}"
            ))
        };
        let header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(header)
            .map_err(|e| unreadable(format!("header is not a JSON object: {e}")))?;
        let mut metadata: BTreeMap<String, String> = BTreeMap::new();
        let mut entries = Vec::with_capacity(header.len());
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = serde_json::from_value(value).map_err(|e| {
                    unreadable(format!("__metadata__ is not a map of strings: {e}"))
                })?;
                continue;
            }
            let info: TensorInfo = serde_json::from_value(value)
                .map_err(|e| unreadable(format!("tensor '{name}': {e}")))?;
            if info.dtype != "F32" {
                return Err(fail(format!(
                    "tensor '{name}' has dtype {}, expected F32",
                    info.dtype
                )));
            }
            let [start, end] = info.data_offsets;
            let count = info
                .shape
                .iter()
                .try_fold(1usize, |n, &d| n.checked_mul(d))
                .filter(|&n| n.checked_mul(4) == end.checked_sub(start))
                .ok_or_else(|| {
                    unreadable(format!(
                        "tensor '{name}': shape {:?} does not match its {start}..{end} bytes",
                        info.shape
                    ))
                })?;
            if start % 4 != 0 {
                return Err(unreadable(format!(
                    "tensor '{name}' starts at byte {start}, not a multiple of 4"
                )));
            }
            entries.push(Entry {
                name,
                shape: info.shape,
                range: start / 4..start / 4 + count,
            });
        }
        // Tensors in file order, back to back over the whole data section
        // (the safetensors rule: no gaps, no overlaps), so a round trip
        // keeps the order and the checksum covers exactly the tensors.
        entries.sort_by(|a, b| {
            a.range
                .start
                .cmp(&b.range.start)
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut at = 0;
        for e in &entries {
            if e.range.start != at {
                return Err(unreadable(format!(
                    "tensor '{}' starts at byte {}, expected {} (gap or overlap)",
                    e.name,
                    4 * e.range.start,
                    4 * at
                )));
            }
            at = e.range.end;
        }
        if at != values.len() {
            return Err(unreadable(format!(
                "the tensors cover {} bytes of a {}-byte data section",
                4 * at,
                4 * values.len()
            )));
        }

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
        let data = le_bytes(&values);
        let actual = match checksum.split_once(':') {
            Some(("fnv1a64", _)) => format!("fnv1a64:{:016x}", fnv1a64(&data)),
            _ => format!("xxh64:{:016x}", xxh64(&data)),
        };
        if checksum != actual {
            return Err(fail(format!(
                "checkpoint is corrupt: tensor data checksum {actual} does not match the recorded {checksum}"
            )));
        }
        Ok(Checkpoint {
            kind,
            metadata,
            entries,
            values,
            source: source.to_path_buf(),
            recorded: Some((version, checksum)),
        })
    }
}

/// A tensor's entry in the safetensors header.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TensorInfo {
    dtype: String,
    shape: Vec<usize>,
    data_offsets: [usize; 2],
}

/// Where a file's parts start, checked against its length before anything
/// of the header's size is allocated.
struct Layout {
    data_at: usize,
}

impl Layout {
    fn of(file_len: u64, prefix: Option<&[u8]>, source: &Path) -> Result<Layout> {
        let unreadable = |m: String| {
            Error::format(
                source,
                format!("not a readable safetensors checkpoint ({file_len} bytes; truncated or corrupt?): {m}"),
            )
        };
        let prefix: [u8; 8] = prefix
            .and_then(|p| p.try_into().ok())
            .ok_or_else(|| unreadable("shorter than the 8-byte header length".into()))?;
        let header_len = u64::from_le_bytes(prefix);
        if header_len > file_len.saturating_sub(8) {
            return Err(unreadable(format!(
                "the header is said to be {header_len} bytes long"
            )));
        }
        let data_at = usize::try_from(8 + header_len)
            .map_err(|_| unreadable("too large for this machine".into()))?;
        let data_len = file_len - 8 - header_len;
        if data_len % 4 != 0 || usize::try_from(file_len).is_err() {
            return Err(unreadable(format!(
                "a data section of {data_len} bytes is not whole f32 values"
            )));
        }
        Ok(Layout { data_at })
    }
}

/// Reads until `buf` is full or the file ends; how many bytes were read.
fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// An empty buffer with room for exactly `n` values, or an error naming
/// the file when the memory cannot be had (the size comes from the file's
/// length).
fn reserve_values(n: usize, source: &Path) -> Result<Vec<f32>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| {
        Error::format(
            source,
            format!("cannot allocate {} bytes for the tensor data", 4 * n),
        )
    })?;
    crate::hugepages::advise(&mut v);
    Ok(v)
}

/// The values' little-endian bytes: the values themselves on little-endian CPUs.
fn le_bytes(values: &[f32]) -> Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        Cow::Borrowed(bytemuck::cast_slice(values))
    } else {
        Cow::Owned(values.iter().flat_map(|v| v.to_le_bytes()).collect())
    }
}

/// The index of the first NaN or infinity. Scans in blocks with a
/// branch-free test (which vectorises) and looks inside a block only when
/// it holds one: a 6 MB model is checked at memory speed.
fn first_non_finite(values: &[f32]) -> Option<usize> {
    const BLOCK: usize = 1024;
    let exponent = 0x7f80_0000u32;
    for (b, block) in values.chunks(BLOCK).enumerate() {
        let any = block.iter().fold(0u32, |acc, v| {
            acc | u32::from(v.to_bits() & exponent == exponent)
        });
        if any != 0 {
            return block
                .iter()
                .position(|v| !v.is_finite())
                .map(|i| b * BLOCK + i);
        }
    }
    None
}
