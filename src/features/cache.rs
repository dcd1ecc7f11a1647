//! LogMel features of a whole corpus, computed in parallel and, given a cache
//! file, reused between runs.
//!
//! The cache file starts with a header naming the front-end configuration
//! (sample rate, FFT, window, hop, mel bands and range, floor, this
//! program's front-end version and a fingerprint of the front end's output on
//! a fixed probe signal); a cache made with any other configuration is not
//! used. A SHA-256 of everything after the header guards the content: a
//! damaged or truncated file is reported and rebuilt, never trusted.
//!
//! An utterance's entry is keyed by its canonical path, file size and
//! modification time (ns), not by a hash of its content: hashing a WAV file
//! costs about as much as decoding it, so a content key would save little of
//! what the cache is for. Modification times are only as fine as the file
//! system's clock tick, so, as git does for its index, an entry is trusted
//! only when the file was last modified at least `RACY_WINDOW_NS` before it
//! was read; a file written just before (or while) it was read is computed
//! again on the next run.

use crate::audio::logmel::{self, mel_band_edges_hz, LogMelExtractor};
use crate::audio::{load_logmel, resample, LogMel, N_MELS, SAMPLE_RATE};
use crate::corpus::{Skipped, Utterance};
use crate::error::{Error, Result};
use crate::sha256::Sha256;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Bump whenever WAV decoding, resampling or LogMel computation changes what
/// it outputs (the probe fingerprint catches most such changes, not all).
pub const FRONT_END_VERSION: u32 = 1;

use crate::output_check::FEATURE_CACHE_MAGIC as MAGIC;
const FORMAT_VERSION: u32 = 1;
/// Files modified less than this before they were read are not trusted.
const RACY_WINDOW_NS: u64 = 2_000_000_000;
/// Longest key a sound cache file holds (a path).
const MAX_KEY_LEN: usize = 1 << 16;

/// How [`extract`] runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExtractOptions<'a> {
    /// Cache file to reuse and update; `None` computes everything afresh.
    pub cache: Option<&'a Path>,
    /// Make the first unreadable file fatal.
    pub strict: bool,
    /// Draw a progress bar.
    pub progress: bool,
}

/// The LogMel features of each utterance, `None` where the file could not be
/// used (the reason is in `skipped`).
#[derive(Clone, Debug, Default)]
pub struct Extracted {
    /// One entry per input utterance, in input order.
    pub logmels: Vec<Option<LogMel>>,
    /// The files that could not be decoded, with the error (lenient runs).
    pub skipped: Vec<Skipped>,
    /// What the cache contributed (all zero without a cache).
    pub cache: CacheReport,
}

/// What the cache did for one extraction.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CacheReport {
    /// Utterances whose features came from the cache.
    pub reused: usize,
    /// Utterances whose features were computed.
    pub computed: usize,
    /// Whether the cache file was (re)written.
    pub written: bool,
    /// Why the cache file, or part of it, could not be used (absent, made
    /// with another configuration, corrupt).
    pub notes: Vec<String>,
}

/// Computes the LogMel features of every utterance in parallel (results in
/// input order, whatever the thread count), taking from the cache what it
/// holds for unchanged files and rewriting it atomically when its entries
/// change. An unreadable or corrupt cache is noted in [`CacheReport::notes`]
/// and rebuilt; failing to write it is an error. A file that cannot be
/// decoded is skipped, or the error in a strict run. After Ctrl-C the
/// features computed so far are saved to the cache and [`Error::Interrupted`]
/// is returned.
pub fn extract(utterances: &[Utterance], options: &ExtractOptions<'_>) -> Result<Extracted> {
    let mut report = CacheReport::default();
    let mut cached = match options.cache {
        Some(path) => read_cache(path, &mut report.notes),
        None => HashMap::new(),
    };
    let loaded_entries = cached.len();
    let stamps: Vec<Option<Stamp>> = if options.cache.is_some() {
        utterances.par_iter().map(|u| Stamp::of(&u.path)).collect()
    } else {
        vec![None; utterances.len()]
    };

    // Reused features are moved out of the cache; what remains is computed.
    let mut results: Vec<Option<Result<LogMel>>> = utterances
        .iter()
        .zip(&stamps)
        .map(|(_, stamp)| {
            let stamp = stamp.as_ref()?;
            let entry = cached.remove(&stamp.key)?;
            entry.trusted_for(stamp).then_some(Ok(entry.logmel))
        })
        .collect();
    let reused: Vec<bool> = results.iter().map(Option::is_some).collect();
    report.reused = reused.iter().filter(|&&r| r).count();
    report.computed = utterances.len() - report.reused;

    let bar = (options.progress && report.computed > 0)
        .then(|| crate::train::progress::Progress::new(report.computed as u64, "LogMel"));
    results
        .par_iter_mut()
        .zip(utterances.par_iter())
        .filter(|(r, _)| r.is_none())
        .for_each(|(r, u)| {
            // After Ctrl-C the files not yet started are left alone; those
            // done are kept (below) so that the next run reuses them.
            if crate::interrupt::requested() {
                return;
            }
            *r = Some(load_logmel(&u.path));
            if let Some(b) = &bar {
                b.inc(1);
            }
        });
    if let Some(b) = bar {
        b.finish();
    }
    if crate::interrupt::requested() {
        if let Some(path) = options.cache {
            let entries: Vec<(&Stamp, &LogMel)> = stamps
                .iter()
                .zip(&results)
                .filter_map(|(s, r)| match r {
                    Some(Ok(lm)) => Some((s.as_ref()?, lm)),
                    _ => None,
                })
                .collect();
            crate::fsutil::write_atomic(path, &encode(&entries))?;
        }
        crate::interrupt::check()?;
    }

    let mut out = Extracted::default();
    for (u, r) in utterances.iter().zip(results) {
        match r.expect("every utterance is either reused or computed") {
            Ok(lm) => out.logmels.push(Some(lm)),
            Err(e) if !options.strict => {
                out.skipped.push(Skipped::new(&u.path, None, e.to_string()));
                out.logmels.push(None);
            }
            Err(e) => return Err(e),
        }
    }

    if let Some(path) = options.cache {
        // Files that failed again add nothing to the cache.
        let newly_computed = out
            .logmels
            .iter()
            .zip(&reused)
            .filter(|(lm, &r)| lm.is_some() && !r)
            .count();
        let unchanged = newly_computed == 0 && loaded_entries == report.reused;
        if !unchanged {
            let entries: Vec<(&Stamp, &LogMel)> = stamps
                .iter()
                .zip(&out.logmels)
                .filter_map(|(s, lm)| Some((s.as_ref()?, lm.as_ref()?)))
                .collect();
            crate::fsutil::write_atomic(path, &encode(&entries))?;
            report.written = true;
            let recent = entries.iter().filter(|(s, _)| !s.settled()).count();
            if recent > 0 {
                report.notes.push(format!(
                    "{recent} file(s) were modified less than {} s before they were read; \
                     their cache entries will be computed again on the next run",
                    RACY_WINDOW_NS / 1_000_000_000
                ));
            }
        }
    }
    out.cache = report;
    Ok(out)
}

/// What identifies one version of an audio file.
#[derive(Clone, Debug, PartialEq)]
struct Stamp {
    key: String,
    size: u64,
    modified_ns: u64,
    /// When the file was looked at, just before it is read.
    read_ns: u64,
}

impl Stamp {
    /// `None` where the file cannot be cached (missing, no modification
    /// time, a path that is not UTF-8): it is then always computed.
    fn of(path: &Path) -> Option<Stamp> {
        let read_ns = nanos_since_epoch(SystemTime::now())?;
        let canonical = std::fs::canonicalize(path).ok()?;
        let meta = std::fs::metadata(&canonical).ok()?;
        Some(Stamp {
            key: canonical.to_str()?.to_string(),
            size: meta.len(),
            modified_ns: nanos_since_epoch(meta.modified().ok()?)?,
            read_ns,
        })
    }
}

fn nanos_since_epoch(t: SystemTime) -> Option<u64> {
    u64::try_from(t.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_nanos()).ok()
}

struct Entry {
    stamp: Stamp,
    logmel: LogMel,
}

impl Stamp {
    /// Whether the file was read long enough after its last modification
    /// that a later change must show in its modification time.
    fn settled(&self) -> bool {
        self.read_ns >= self.modified_ns.saturating_add(RACY_WINDOW_NS)
    }
}

impl Entry {
    fn trusted_for(&self, now: &Stamp) -> bool {
        self.stamp.size == now.size
            && self.stamp.modified_ns == now.modified_ns
            && self.stamp.settled()
    }
}

/// The header text: every setting the cached values depend on.
pub fn front_end_description() -> String {
    let edges = mel_band_edges_hz();
    format!(
        "vaeser LogMel front end v{FRONT_END_VERSION}: sample_rate={SAMPLE_RATE} n_fft={} \
         win_length={} window=hamming hop={} n_mels={N_MELS} fmin={} fmax={} floor={:e} probe={}",
        logmel::N_FFT,
        logmel::WIN_LENGTH,
        logmel::HOP,
        edges[0],
        edges[edges.len() - 1],
        logmel::FLOOR,
        probe_fingerprint(),
    )
}

/// SHA-256 (first 16 hex digits) of the LogMel of a fixed 48 kHz signal
/// (chirp plus deterministic noise) taken through the resampler: any change
/// of the resampler or the LogMel computation changes it.
fn probe_fingerprint() -> String {
    let rate = 48_000u32;
    let mut noise_state = 0x2545_f491u32;
    let signal: Vec<f32> = (0..rate as usize / 5)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let chirp = (2.0 * std::f64::consts::PI * (200.0 * t + 9_000.0 * t * t)).sin();
            noise_state = noise_state
                .wrapping_mul(1_664_525)
                .wrapping_add(1_013_904_223);
            let noise = (noise_state >> 8) as f64 / (1u32 << 24) as f64 - 0.5;
            (0.5 * chirp + 0.05 * noise) as f32
        })
        .collect();
    let lm = LogMelExtractor::new().compute(&resample::to_rate(&signal, rate, SAMPLE_RATE));
    let mut h = Sha256::new();
    for v in &lm.data {
        h.update(v.to_le_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cache file: magic, format version, header length and text, SHA-256
/// of the payload, payload (entry count, then per entry: key, size,
/// modification and read times, frame count, frames as little-endian f32).
fn encode(entries: &[(&Stamp, &LogMel)]) -> Vec<u8> {
    let header = front_end_description();
    let payload_len: usize = 8 + entries
        .iter()
        .map(|(s, lm)| 4 + s.key.len() + 32 + lm.data.len() * 4)
        .sum::<usize>();
    let mut bytes = Vec::with_capacity(16 + header.len() + 32 + payload_len);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    let checksum_at = bytes.len();
    bytes.extend_from_slice(&[0; 32]);
    let payload_at = bytes.len();
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    for (stamp, lm) in entries {
        bytes.extend_from_slice(&(stamp.key.len() as u32).to_le_bytes());
        bytes.extend_from_slice(stamp.key.as_bytes());
        for v in [
            stamp.size,
            stamp.modified_ns,
            stamp.read_ns,
            lm.n_frames as u64,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for v in &lm.data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    let digest = Sha256::digest(&bytes[payload_at..]);
    bytes[checksum_at..payload_at].copy_from_slice(&digest);
    bytes
}

/// The usable entries of a cache file; an absent, foreign or damaged file
/// gives none, with a note saying why.
fn read_cache(path: &Path, notes: &mut Vec<String>) -> HashMap<String, Entry> {
    match decode(path) {
        Ok(Some(entries)) => entries,
        Ok(None) => HashMap::new(),
        Err(Problem::Absent) => {
            notes.push(format!("{}: no cache yet; creating it", path.display()));
            HashMap::new()
        }
        Err(Problem::OtherConfiguration(theirs)) => {
            notes.push(format!(
                "{}: made with another front-end configuration ({theirs}); recomputing everything",
                path.display()
            ));
            HashMap::new()
        }
        Err(Problem::Corrupt(why)) => {
            notes.push(format!(
                "{}: corrupt cache file ({why}); not used, rebuilding it",
                path.display()
            ));
            HashMap::new()
        }
    }
}

enum Problem {
    Absent,
    OtherConfiguration(String),
    Corrupt(String),
}

fn decode(path: &Path) -> std::result::Result<Option<HashMap<String, Entry>>, Problem> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Problem::Absent),
        Err(e) => return Err(Problem::Corrupt(format!("cannot open it: {e}"))),
    };
    let file_len = file
        .metadata()
        .map_err(|e| Problem::Corrupt(e.to_string()))?
        .len();
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    read_exact(&mut r, &mut magic)?;
    if &magic != MAGIC {
        return Err(Problem::Corrupt("not a vaeser feature cache".into()));
    }
    let version = read_u32(&mut r)?;
    if version != FORMAT_VERSION {
        return Err(Problem::OtherConfiguration(format!(
            "file format version {version}, this program writes {FORMAT_VERSION}"
        )));
    }
    let header_len = read_u32(&mut r)? as u64;
    if header_len > file_len {
        return Err(Problem::Corrupt("header longer than the file".into()));
    }
    let mut header = vec![0u8; header_len as usize];
    read_exact(&mut r, &mut header)?;
    let header = String::from_utf8_lossy(&header).into_owned();
    if header != front_end_description() {
        return Err(Problem::OtherConfiguration(header));
    }
    let mut checksum = [0u8; 32];
    read_exact(&mut r, &mut checksum)?;

    let mut r = Hashing {
        inner: r,
        hash: Sha256::new(),
    };
    let count = read_u64(&mut r)?;
    let mut entries = HashMap::new();
    let mut remaining = file_len;
    for _ in 0..count {
        let key_len = read_u32(&mut r)? as usize;
        if key_len > MAX_KEY_LEN {
            return Err(Problem::Corrupt(format!("a key of {key_len} bytes")));
        }
        let mut key = vec![0u8; key_len];
        read_exact(&mut r, &mut key)?;
        let key =
            String::from_utf8(key).map_err(|_| Problem::Corrupt("a key is not UTF-8".into()))?;
        let size = read_u64(&mut r)?;
        let modified_ns = read_u64(&mut r)?;
        let read_ns = read_u64(&mut r)?;
        let n_frames = read_u64(&mut r)?;
        let n_bytes = n_frames
            .checked_mul((N_MELS * 4) as u64)
            .filter(|&n| n <= remaining)
            .ok_or_else(|| Problem::Corrupt(format!("{n_frames} frames do not fit in the file")))?;
        remaining -= n_bytes;
        let mut raw = vec![0u8; n_bytes as usize];
        read_exact(&mut r, &mut raw)?;
        let data = raw
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
            .collect();
        let stamp = Stamp {
            key: key.clone(),
            size,
            modified_ns,
            read_ns,
        };
        let logmel = LogMel {
            n_frames: n_frames as usize,
            data,
        };
        entries.insert(key, Entry { stamp, logmel });
    }
    let mut rest = [0u8; 1];
    match r.read(&mut rest) {
        Ok(0) => {}
        Ok(_) => return Err(Problem::Corrupt("bytes after the last entry".into())),
        Err(e) => return Err(Problem::Corrupt(e.to_string())),
    }
    if r.hash.finalize()[..] != checksum {
        return Err(Problem::Corrupt("checksum mismatch".into()));
    }
    Ok(Some(entries))
}

/// A reader that hashes what passes through it.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn read_exact(r: &mut impl Read, buf: &mut [u8]) -> std::result::Result<(), Problem> {
    r.read_exact(buf).map_err(|e| {
        Problem::Corrupt(if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "truncated".into()
        } else {
            e.to_string()
        })
    })
}

fn read_u32(r: &mut impl Read) -> std::result::Result<u32, Problem> {
    let mut b = [0u8; 4];
    read_exact(r, &mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_u64(r: &mut impl Read) -> std::result::Result<u64, Problem> {
    let mut b = [0u8; 8];
    read_exact(r, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The default cache file of a corpus: `.vaeser-cache/logmel.bin` in its
/// directory (next to the CSV for a manifest).
pub fn default_cache_path(data: &Path) -> PathBuf {
    let dir = if data.is_file() {
        data.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        data.to_path_buf()
    };
    dir.join(".vaeser-cache").join("logmel.bin")
}

/// The cache file of a corpus in the user's cache directory,
/// `$XDG_CACHE_HOME/vaeser` (or `~/.cache/vaeser`), for a corpus that is
/// read-only: one file per corpus (named by a hash of its canonical path)
/// and front-end version, so that corpora and program versions never take
/// each other's place. `None` when neither variable names a directory.
pub fn user_cache_path(data: &Path) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .filter(|p| p.is_absolute())
                .map(|h| h.join(".cache"))
        })?;
    let corpus = std::fs::canonicalize(data).unwrap_or_else(|_| data.to_path_buf());
    let digest = Sha256::digest(corpus.as_os_str().as_encoded_bytes());
    let key: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    Some(
        base.join("vaeser")
            .join(format!("logmel-{key}-v{FRONT_END_VERSION}.bin")),
    )
}

/// Where the cache of corpus `data` goes by default: next to the corpus
/// ([`default_cache_path`]) when that can be written, else in the user's
/// cache directory ([`user_cache_path`]). A corpus directory without write
/// permission is kept read-only on purpose, even for a user (root) whom the
/// system would let write there. The error says where neither worked.
pub fn cache_location(data: &Path) -> Result<PathBuf> {
    let beside = default_cache_path(data);
    let corpus_dir = beside.parent().and_then(Path::parent);
    let read_only =
        corpus_dir.is_some_and(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().readonly()));
    let first = if read_only {
        format!(
            "the corpus directory {} is read-only",
            corpus_dir.map_or(String::new(), |d| d.display().to_string())
        )
    } else {
        match check_writable(&beside) {
            Ok(()) => return Ok(beside),
            Err(e) => format!("{} cannot be written ({e})", beside.display()),
        }
    };
    let Some(user) = user_cache_path(data) else {
        return Err(Error::config(format!(
            "{first}, and neither XDG_CACHE_HOME nor HOME names a cache directory; \
             pass --cache FILE to keep the feature cache elsewhere, or --no-cache"
        )));
    };
    check_writable(&user).map_err(|e| {
        Error::config(format!(
            "{first}, and the feature cache cannot go to {} either ({e}); \
             pass --cache FILE to keep it elsewhere, or --no-cache",
            user.display()
        ))
    })?;
    Ok(user)
}

/// Whether a cache file can be written at `path` (its directory exists or
/// can be created, and accepts a new file).
pub fn check_writable(path: &Path) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let probe = dir.join(format!(".vaeser-write-test.{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| Error::io(dir, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
