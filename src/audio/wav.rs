//! WAV decoding: any common encoding, any rate, any channel count, averaged to
//! mono.
//!
//! The RIFF chunk list is walked here and hound decodes the samples from a
//! canonical in-memory copy (one `fmt ` chunk, one `data` chunk). Walking the
//! chunks ourselves is what makes real-world files readable that hound alone
//! rejects or misreads: odd-sized chunks before the data (RIFF pads them to
//! an even length, hound does not skip the pad byte), byte-rate fields that
//! disagree with the block size, `fmt ` chunks of unusual lengths or
//! WAVE_FORMAT_EXTENSIBLE headers with a larger `cbSize`, and a trailing
//! partial frame. It also lets every failure say precisely what is wrong
//! (truncated data, missing chunk, unsupported encoding) instead of a generic
//! decoder message.

use crate::error::{Error, Result};
use crate::limits::{check_sample_rate, try_with_capacity, MAX_CHANNELS};
use std::path::Path;

/// Largest magnitude a float sample may have. Float files may exceed full
/// scale a little (overs left by processing); beyond +6 dBFS the file holds
/// something other than audio scaled to [-1, 1], and its features would be
/// meaningless (or infinite) rather than wrong by a little.
pub const MAX_FLOAT_AMPLITUDE: f32 = 2.0;

const FORMAT_PCM: u16 = 0x0001;
const FORMAT_IEEE_FLOAT: u16 = 0x0003;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

/// The encoding of a WAV file's samples, as far as decoding needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WavFormat {
    /// Interleaved channels per frame (1 to [`MAX_CHANNELS`]).
    pub channels: u16,
    /// Sample frames per second, in Hz.
    pub sample_rate: u32,
    /// Bits of the container each sample is stored in (8, 16, 24 or 32;
    /// float: 32 or 64).
    /// Samples with fewer valid bits are left-justified in their container,
    /// so scaling by the container's full scale gives the right amplitude.
    pub container_bits: u16,
    /// IEEE float samples (format 3) rather than integer PCM (format 1).
    pub float: bool,
}

/// Decodes a WAV file and averages its channels; returns samples in [-1, 1]
/// and the sample rate.
pub fn read_mono(path: &Path) -> Result<(Vec<f32>, u32)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_mono(&bytes, path)
}

/// Decodes the bytes of a WAV file (`path` only names it in errors).
pub fn decode_mono(bytes: &[u8], path: &Path) -> Result<(Vec<f32>, u32)> {
    let (format, data) = parse_riff(bytes, path)?;
    let interleaved = decode_samples(&format, data, path)?;
    let mono = match format.channels {
        1 => interleaved,
        n => downmix(&interleaved, n as usize),
    };
    Ok((mono, format.sample_rate))
}

fn le_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Walks the RIFF chunk list; returns the format and the bytes of the whole
/// frames of the data chunk.
fn parse_riff<'a>(bytes: &'a [u8], path: &Path) -> Result<(WavFormat, &'a [u8])> {
    if bytes.is_empty() {
        return Err(Error::format(path, "empty file (0 bytes), not a WAV file"));
    }
    if bytes.len() < 12 {
        return Err(Error::format(
            path,
            format!(
                "not a WAV file: {} bytes, too short for a RIFF/WAVE header",
                bytes.len()
            ),
        ));
    }
    match &bytes[0..4] {
        b"RIFF" => {}
        b"RIFX" => {
            return Err(Error::format(
                path,
                "big-endian WAV (RIFX) is not supported",
            ))
        }
        b"RF64" => return Err(Error::format(path, "RF64 (64-bit WAV) is not supported")),
        other => {
            return Err(Error::format(
                path,
                format!(
                    "not a WAV file: starts with {:?}, expected \"RIFF\"",
                    String::from_utf8_lossy(other)
                ),
            ))
        }
    }
    if &bytes[8..12] != b"WAVE" {
        return Err(Error::format(
            path,
            format!(
                "not a WAV file: RIFF form type is {:?}, expected \"WAVE\"",
                String::from_utf8_lossy(&bytes[8..12])
            ),
        ));
    }

    let mut fmt: Option<WavFormat> = None;
    let mut data: Option<&[u8]> = None;
    let mut pos = 12usize;
    // A RIFF size field that disagrees with the file length is common (files
    // cut or appended to by tools); the chunk headers are what we trust.
    while pos < bytes.len() {
        if bytes.len() - pos < 8 {
            if data.is_some() {
                break; // trailing junk after the audio: harmless
            }
            return Err(Error::format(
                path,
                format!(
                    "truncated: file ends inside a chunk header at byte {pos} (file is {} bytes) before any data chunk",
                    bytes.len()
                ),
            ));
        }
        let id = &bytes[pos..pos + 4];
        let declared = le_u32(bytes, pos + 4) as usize;
        let body = pos + 8;
        let available = bytes.len() - body;
        match id {
            b"fmt " => {
                if declared > available {
                    return Err(Error::format(
                        path,
                        format!(
                            "truncated: fmt chunk declares {declared} bytes but only {available} follow"
                        ),
                    ));
                }
                fmt = Some(parse_fmt(&bytes[body..body + declared], path)?);
            }
            b"data" => {
                let format = fmt
                    .ok_or_else(|| Error::format(path, "data chunk comes before any fmt chunk"))?;
                // Streaming writers that never went back to fill in the size
                // leave 0xFFFFFFFF: the data then runs to the end of the file.
                let len = if declared == u32::MAX as usize {
                    available
                } else if declared > available {
                    return Err(Error::format(
                        path,
                        format!(
                            "truncated: data chunk declares {declared} bytes but only {available} follow"
                        ),
                    ));
                } else {
                    declared
                };
                let frame = format.channels as usize * (format.container_bits as usize / 8);
                // A trailing partial frame cannot be decoded; dropping it loses
                // less than one sample period.
                let whole = len - len % frame;
                data = Some(&bytes[body..body + whole]);
                break; // chunks after the audio (LIST, bext, ...) are not needed
            }
            _ => {
                if declared > available {
                    return Err(Error::format(
                        path,
                        format!(
                            "truncated: chunk {:?} at byte {pos} declares {declared} bytes but only {available} follow, before any data chunk",
                            String::from_utf8_lossy(id)
                        ),
                    ));
                }
            }
        }
        // RIFF pads every chunk to an even length.
        pos = body + declared + (declared & 1);
    }

    let format = fmt.ok_or_else(|| Error::format(path, "not a usable WAV file: no fmt chunk"))?;
    let data = data.ok_or_else(|| {
        Error::format(
            path,
            "no data chunk (the file holds no audio or is truncated)",
        )
    })?;
    if data.is_empty() {
        return Err(Error::format(
            path,
            "no audio: the data chunk holds 0 samples",
        ));
    }
    Ok((format, data))
}

fn parse_fmt(chunk: &[u8], path: &Path) -> Result<WavFormat> {
    if chunk.len() < 16 {
        return Err(Error::format(
            path,
            format!("fmt chunk is {} bytes, expected at least 16", chunk.len()),
        ));
    }
    let mut tag = le_u16(chunk, 0);
    let channels = le_u16(chunk, 2);
    let sample_rate = le_u32(chunk, 4);
    let block_align = le_u16(chunk, 12);
    let bits = le_u16(chunk, 14);
    if tag == FORMAT_EXTENSIBLE {
        // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of
        // the SubFormat GUID at offset 24 (after cbSize, valid bits, mask).
        if chunk.len() < 40 {
            return Err(Error::format(
                path,
                format!(
                    "WAVE_FORMAT_EXTENSIBLE fmt chunk is {} bytes, expected at least 40",
                    chunk.len()
                ),
            ));
        }
        tag = le_u16(chunk, 24);
    }
    if channels == 0 {
        return Err(Error::format(path, "fmt chunk declares 0 channels"));
    }
    if channels > MAX_CHANNELS {
        return Err(Error::format(
            path,
            format!("fmt chunk declares {channels} channels; at most {MAX_CHANNELS} are supported"),
        ));
    }
    // Checked here, before any buffer is sized from it: the resampler's
    // output and filter length both scale with the rate ratio.
    check_sample_rate(sample_rate).map_err(|m| Error::format(path, format!("fmt chunk: {m}")))?;
    let float = match tag {
        FORMAT_PCM => false,
        FORMAT_IEEE_FLOAT => true,
        other => {
            return Err(Error::format(
                path,
                format!(
                    "unsupported encoding: format tag 0x{other:04X}{}; supported are PCM 8/16/24/32-bit and IEEE float 32/64-bit",
                    match other {
                        0x0002 => " (MS ADPCM)",
                        0x0006 => " (A-law)",
                        0x0007 => " (mu-law)",
                        0x0011 => " (IMA ADPCM)",
                        0x0055 => " (MP3)",
                        _ => "",
                    }
                ),
            ))
        }
    };
    let container_bytes = block_align / channels;
    let sizes: &[u16] = if float { &[4, 8] } else { &[1, 2, 3, 4] };
    if block_align == 0 || block_align % channels != 0 || !sizes.contains(&container_bytes) {
        return Err(Error::format(
            path,
            format!(
                "fmt chunk: block size {block_align} bytes does not fit {channels} channels of {}",
                if float {
                    "32- or 64-bit float samples"
                } else {
                    "8-32-bit samples"
                }
            ),
        ));
    }
    let container_bits = container_bytes * 8;
    if bits == 0 || bits > container_bits {
        return Err(Error::format(
            path,
            format!("fmt chunk: {bits} bits per sample in {container_bytes}-byte samples"),
        ));
    }
    Ok(WavFormat {
        channels,
        sample_rate,
        container_bits,
        float,
    })
}

/// A canonical WAV (16-byte fmt chunk, then the data chunk) that hound reads
/// whatever the original header looked like.
fn canonical_wav(format: &WavFormat, data: &[u8]) -> Vec<u8> {
    let block_align = format.channels * (format.container_bits / 8);
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    let tag = if format.float {
        FORMAT_IEEE_FLOAT
    } else {
        FORMAT_PCM
    };
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&format.channels.to_le_bytes());
    out.extend_from_slice(&format.sample_rate.to_le_bytes());
    out.extend_from_slice(&(format.sample_rate.wrapping_mul(block_align as u32)).to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&format.container_bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// Interleaved samples scaled to [-1, 1].
fn decode_samples(format: &WavFormat, data: &[u8], path: &Path) -> Result<Vec<f32>> {
    if format.float {
        return decode_float(format, data, path);
    }
    if data.len() > (u32::MAX - 36) as usize {
        return Err(Error::format(
            path,
            format!(
                "data chunk of {} bytes is larger than a WAV file can be (4 GiB)",
                data.len()
            ),
        ));
    }
    let wav = canonical_wav(format, data);
    let hound_error = |e: hound::Error| Error::format(path, format!("cannot decode samples: {e}"));
    let mut reader = hound::WavReader::new(std::io::Cursor::new(wav)).map_err(hound_error)?;
    let mut out = try_with_capacity(reader.len() as usize, &path.display().to_string())?;
    let scale = 1.0 / (1u64 << (format.container_bits - 1)) as f32;
    for s in reader.samples::<i32>() {
        out.push(s.map_err(hound_error)? as f32 * scale);
    }
    Ok(out)
}

/// IEEE float samples (32- or 64-bit, little-endian), decoded here because
/// hound reads only 32-bit float; 64-bit values are rounded to f32.
fn decode_float(format: &WavFormat, data: &[u8], path: &Path) -> Result<Vec<f32>> {
    let width = format.container_bits as usize / 8;
    let mut out = try_with_capacity(data.len() / width, &path.display().to_string())?;
    let channels = format.channels as usize;
    for (i, b) in data.chunks_exact(width).enumerate() {
        // Shown in errors as stored (an f32 widened to f64 prints digits
        // the file never held).
        let (s, shown) = if width == 8 {
            let v = f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            (v, format!("{v:e}"))
        } else {
            let v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            (f64::from(v), format!("{v:e}"))
        };
        if !s.is_finite() {
            return Err(Error::format(
                path,
                format!(
                    "sample {} of channel {} is {shown}, not a finite number",
                    i / channels,
                    i % channels
                ),
            ));
        }
        if s.abs() > f64::from(MAX_FLOAT_AMPLITUDE) {
            return Err(Error::format(
                path,
                format!(
                    "sample {} of channel {} is {shown}, outside [-{MAX_FLOAT_AMPLITUDE}, {MAX_FLOAT_AMPLITUDE}]: \
                     float audio must be scaled to [-1, 1]",
                    i / channels,
                    i % channels
                ),
            ));
        }
        out.push(s as f32);
    }
    Ok(out)
}

/// Averages interleaved channels, summing them in channel order.
fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}
