//! WAV decoding: every supported encoding round-trips through hound's writer;
//! real-world header quirks decode; each kind of bad file gives an error that
//! names the file and what is wrong.

#[path = "common/scratch_dirs.rs"]
mod scratch_dirs;

use std::path::{Path, PathBuf};
use vaeser::audio::{load_logmel, wav};

fn temp_dir(test: &str) -> PathBuf {
    scratch_dirs::scratch(&format!("audio-wav-{test}"))
}

/// Channel `c`'s sample `i` of the test signals, in [-0.9, 0.9].
fn value(c: usize, i: usize) -> f64 {
    0.9 * (0.01 * (i as f64) * (1.0 + c as f64) + c as f64).sin()
}

/// Writes `frames` frames with hound; returns the file and the values as
/// stored (after quantisation), per channel.
fn write_with_hound(path: &Path, spec: hound::WavSpec, frames: usize) -> Vec<Vec<f64>> {
    let channels = spec.channels as usize;
    let mut stored = vec![Vec::new(); channels];
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..frames {
        for (c, column) in stored.iter_mut().enumerate() {
            let v = value(c, i);
            match spec.sample_format {
                hound::SampleFormat::Float => {
                    writer.write_sample(v as f32).unwrap();
                    column.push(v as f32 as f64);
                }
                hound::SampleFormat::Int => {
                    let full = (1i64 << (spec.bits_per_sample - 1)) as f64;
                    let q = (v * full).round() as i64;
                    match spec.bits_per_sample {
                        8 => writer.write_sample(q as i8).unwrap(),
                        16 => writer.write_sample(q as i16).unwrap(),
                        _ => writer.write_sample(q as i32).unwrap(),
                    }
                    column.push(q as f64 / full);
                }
            }
        }
    }
    writer.finalize().unwrap();
    stored
}

#[test]
fn every_encoding_and_channel_count_round_trips() {
    let dir = temp_dir("encodings");
    let encodings = [
        (hound::SampleFormat::Int, 8),
        (hound::SampleFormat::Int, 16),
        (hound::SampleFormat::Int, 24),
        (hound::SampleFormat::Int, 32),
        (hound::SampleFormat::Float, 32),
    ];
    for (format, bits) in encodings {
        for (channels, rate) in [(1u16, 16_000u32), (2, 44_100), (3, 8_000), (6, 48_000)] {
            let spec = hound::WavSpec {
                channels,
                sample_rate: rate,
                bits_per_sample: bits,
                sample_format: format,
            };
            let path = dir.join(format!("{format:?}{bits}-{channels}ch.wav"));
            let stored = write_with_hound(&path, spec, 1000);
            let (mono, got_rate) = wav::read_mono(&path).unwrap();
            assert_eq!(got_rate, rate);
            assert_eq!(mono.len(), 1000);
            for (i, &m) in mono.iter().enumerate() {
                let want = stored.iter().map(|col| col[i]).sum::<f64>() / channels as f64;
                assert!(
                    (m as f64 - want).abs() < 1e-6,
                    "{format:?} {bits}-bit {channels} ch, sample {i}: {m} vs {want}"
                );
            }
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Integer PCM decodes to exactly the f32 values hound's reader gives (the
/// integer times 2^-(bits - 1)), over the whole range of each width: the
/// extremes, zero, and a stride through every value in between.
#[test]
fn integer_pcm_decodes_bit_for_bit_as_hound_reads_it() {
    let dir = temp_dir("pcm-bits");
    for bits in [8u16, 16, 24, 32] {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 16_000,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let (min, max) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
        let step = ((max - min) / 4093).max(1);
        let mut values: Vec<i64> = (min..=max).step_by(step as usize).collect();
        values.extend([min, min + 1, -1, 0, 1, max - 1, max]);
        let path = dir.join(format!("int{bits}.wav"));
        let mut writer = hound::WavWriter::create(&path, spec).unwrap();
        for &v in &values {
            match bits {
                8 => writer.write_sample(v as i8).unwrap(),
                16 => writer.write_sample(v as i16).unwrap(),
                _ => writer.write_sample(v as i32).unwrap(),
            }
        }
        writer.finalize().unwrap();
        let scale = 1.0 / (1u64 << (bits - 1)) as f32;
        let want: Vec<u32> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i32>()
            .map(|s| (s.unwrap() as f32 * scale).to_bits())
            .collect();
        let (got, _) = wav::read_mono(&path).unwrap();
        let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
        assert_eq!(got.len(), values.len(), "{bits}-bit");
        assert_eq!(got, want, "{bits}-bit");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A RIFF/WAVE file from chunks, each padded to an even length.
fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn fmt_chunk(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&(rate * block_align as u32).to_le_bytes());
    f.extend_from_slice(&block_align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn pcm16(samples: &[i16]) -> Vec<u8> {
    samples.iter().flat_map(|s| s.to_le_bytes()).collect()
}

fn decode(bytes: &[u8]) -> vaeser::Result<(Vec<f32>, u32)> {
    wav::decode_mono(bytes, Path::new("test.wav"))
}

const RAMP: [i16; 6] = [0, 1000, -1000, 16384, -16384, 32767];

fn ramp_f32() -> Vec<f32> {
    RAMP.iter().map(|&s| s as f32 / 32768.0).collect()
}

#[test]
fn extra_chunks_before_and_after_the_data_are_skipped() {
    let bytes = riff(&[
        (b"JUNK", vec![7; 28]),
        (b"fmt ", fmt_chunk(1, 1, 48_000, 2, 16)),
        // Odd-sized chunk: RIFF pads it with one byte, which a reader must
        // skip (hound 3.5 alone reads the next chunk header one byte early
        // and fails with "Failed to read enough bytes").
        (b"LIST", vec![b'x'; 5]),
        (b"FLLR", vec![0; 12]),
        (b"data", pcm16(&RAMP)),
        (b"LIST", vec![b'y'; 80]),
        (b"bext", vec![1; 603]),
    ]);
    assert_eq!(decode(&bytes).unwrap(), (ramp_f32(), 48_000));
}

#[test]
fn real_world_header_quirks_decode() {
    // Byte-rate field that disagrees with rate x block size.
    let mut fmt = fmt_chunk(1, 1, 22_050, 2, 16);
    fmt[8..12].copy_from_slice(&12345u32.to_le_bytes());
    let bytes = riff(&[(b"fmt ", fmt), (b"data", pcm16(&RAMP))]);
    assert_eq!(decode(&bytes).unwrap(), (ramp_f32(), 22_050));

    // A 20-byte PCM fmt chunk (WAVEFORMATEX with 2 extra bytes).
    let mut fmt = fmt_chunk(1, 1, 16_000, 2, 16);
    fmt.extend_from_slice(&[2, 0, 0, 0]);
    let bytes = riff(&[(b"fmt ", fmt), (b"data", pcm16(&RAMP))]);
    assert_eq!(decode(&bytes).unwrap().0, ramp_f32());

    // WAVE_FORMAT_EXTENSIBLE, 24 valid bits left-justified in 32-bit
    // containers, cbSize 22, stereo.
    let mut fmt = fmt_chunk(0xFFFE, 2, 96_000, 8, 32);
    fmt.extend_from_slice(&22u16.to_le_bytes());
    fmt.extend_from_slice(&24u16.to_le_bytes());
    fmt.extend_from_slice(&3u32.to_le_bytes());
    fmt.extend_from_slice(&[
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B,
        0x71,
    ]);
    let left: i32 = 0x40_0000 << 8; // 0.5 of full scale
    let right: i32 = -0x20_0000 << 8; // -0.25
    let data: Vec<u8> = [left, right].iter().flat_map(|s| s.to_le_bytes()).collect();
    let bytes = riff(&[(b"fmt ", fmt), (b"data", data)]);
    assert_eq!(decode(&bytes).unwrap(), (vec![0.125], 96_000));

    // Data size left as 0xFFFFFFFF by a streaming writer: runs to the end.
    let mut bytes = riff(&[
        (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
        (b"data", pcm16(&RAMP)),
    ]);
    let at = bytes.len() - 2 * RAMP.len() - 4;
    bytes[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(decode(&bytes).unwrap().0, ramp_f32());

    // A trailing partial frame (one byte of a 16-bit sample) is dropped.
    let mut data = pcm16(&RAMP);
    data.push(0x7F);
    let bytes = riff(&[(b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)), (b"data", data)]);
    assert_eq!(decode(&bytes).unwrap().0, ramp_f32());

    // 8-bit PCM is unsigned with 128 as zero.
    let bytes = riff(&[
        (b"fmt ", fmt_chunk(1, 1, 8_000, 1, 8)),
        (b"data", vec![128, 192, 0, 255]),
    ]);
    assert_eq!(
        decode(&bytes).unwrap().0,
        vec![0.0, 0.5, -1.0, 127.0 / 128.0]
    );
}

/// Writes `bytes` as `name` and checks that reading it fails with an error
/// naming the file and containing `expected`.
fn assert_rejected(dir: &Path, name: &str, bytes: &[u8], expected: &str) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let message = wav::read_mono(&path).unwrap_err().to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains(expected),
        "{name}: {message:?} lacks {expected:?}"
    );
    // The full front end reports the same error.
    assert_eq!(load_logmel(&path).unwrap_err().to_string(), message);
}

#[test]
fn bad_files_give_errors_naming_the_file_and_the_problem() {
    let dir = temp_dir("bad");
    let good = riff(&[
        (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
        (b"data", pcm16(&[5; 4000])),
    ]);

    let missing = dir.join("missing.wav");
    let message = wav::read_mono(&missing).unwrap_err().to_string();
    assert!(message.contains("missing.wav"), "{message}");
    assert!(matches!(
        wav::read_mono(&missing),
        Err(vaeser::Error::Io { .. })
    ));

    assert_rejected(&dir, "empty.wav", b"", "empty file (0 bytes)");
    assert_rejected(&dir, "short.wav", b"RIFF\x04\0\0", "too short");
    assert_rejected(
        &dir,
        "text.wav",
        b"this is a text file, not audio",
        "not a WAV file",
    );
    assert_rejected(
        &dir,
        "avi.wav",
        b"RIFF\x04\0\0\0AVI LIST\0\0\0\0",
        "expected \"WAVE\"",
    );
    assert_rejected(&dir, "rifx.wav", b"RIFX\x04\0\0\0WAVE", "big-endian");
    assert_rejected(
        &dir,
        "truncated-data.wav",
        &good[..good.len() / 2],
        "truncated: data chunk declares 8000 bytes",
    );
    assert_rejected(
        &dir,
        "truncated-fmt.wav",
        &good[..30],
        "truncated: fmt chunk",
    );
    assert_rejected(
        &dir,
        "truncated-header.wav",
        &good[..16],
        "truncated: file ends inside a chunk header",
    );
    assert_rejected(
        &dir,
        "no-data.wav",
        &riff(&[
            (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
            (b"LIST", vec![0; 10]),
        ]),
        "no data chunk",
    );
    assert_rejected(
        &dir,
        "data-first.wav",
        &riff(&[
            (b"data", pcm16(&RAMP)),
            (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
        ]),
        "before any fmt chunk",
    );
    assert_rejected(
        &dir,
        "zero-samples.wav",
        &riff(&[(b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)), (b"data", vec![])]),
        "0 samples",
    );
    assert_rejected(
        &dir,
        "adpcm.wav",
        &riff(&[
            (b"fmt ", fmt_chunk(2, 1, 16_000, 256, 4)),
            (b"data", vec![0; 512]),
        ]),
        "unsupported encoding: format tag 0x0002 (MS ADPCM)",
    );
    assert_rejected(
        &dir,
        "float16.wav",
        &riff(&[
            (b"fmt ", fmt_chunk(3, 1, 16_000, 2, 16)),
            (b"data", vec![0; 64]),
        ]),
        "does not fit 1 channels of 32- or 64-bit float samples",
    );
    assert_rejected(
        &dir,
        "no-channels.wav",
        &riff(&[
            (b"fmt ", fmt_chunk(1, 0, 16_000, 2, 16)),
            (b"data", pcm16(&RAMP)),
        ]),
        "0 channels",
    );
    assert_rejected(
        &dir,
        "short-fmt.wav",
        &riff(&[(b"fmt ", vec![1, 0, 1, 0]), (b"data", pcm16(&RAMP))]),
        "fmt chunk is 4 bytes",
    );
    let nan: Vec<u8> = [0.5f32, f32::NAN]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    assert_rejected(
        &dir,
        "nan.wav",
        &riff(&[(b"fmt ", fmt_chunk(3, 1, 16_000, 4, 32)), (b"data", nan)]),
        "sample 1 of channel 0 is NaN",
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn float64_files_decode_to_their_values_rounded_to_f32() {
    let dir = temp_dir("float64");
    let path = dir.join("f64.wav");
    // Two channels, values that f32 cannot hold exactly.
    let frames: Vec<[f64; 2]> = (0..1000)
        .map(|i| [value(0, i), -0.1 - 1e-9 * i as f64])
        .collect();
    let data: Vec<u8> = frames
        .iter()
        .flat_map(|f| f.iter().flat_map(|v| v.to_le_bytes()))
        .collect();
    std::fs::write(
        &path,
        riff(&[(b"fmt ", fmt_chunk(3, 2, 22_050, 16, 64)), (b"data", data)]),
    )
    .unwrap();
    let (mono, rate) = wav::read_mono(&path).unwrap();
    assert_eq!(rate, 22_050);
    assert_eq!(mono.len(), frames.len());
    for (m, f) in mono.iter().zip(&frames) {
        let want = (f[0] as f32 + f[1] as f32) * 0.5;
        assert_eq!(*m, want);
    }
    assert!(load_logmel(&path).unwrap().n_frames > 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn recordings_shorter_than_one_frame_give_no_frames() {
    let dir = temp_dir("short");
    let path = dir.join("short.wav");
    std::fs::write(
        &path,
        riff(&[
            (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
            (b"data", pcm16(&[100; 511])),
        ]),
    )
    .unwrap();
    assert_eq!(load_logmel(&path).unwrap().n_frames, 0);
    std::fs::write(
        &path,
        riff(&[
            (b"fmt ", fmt_chunk(1, 1, 16_000, 2, 16)),
            (b"data", pcm16(&[100; 512])),
        ]),
    )
    .unwrap();
    assert_eq!(load_logmel(&path).unwrap().n_frames, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
