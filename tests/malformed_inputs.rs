//! Hostile input, one table across every loader: WAV files, configuration
//! files, model files, manifests, IEMOCAP annotations, output paths and a
//! diverging training run. Each case must give exactly the expected kind of
//! error, name the file it came from, never panic, and the whole table must
//! run in bounded memory and time (several cases claim gigabytes or
//! terabytes in a header or in metadata).
//!
//! One test function, so that the process's peak memory measures these
//! cases alone.

mod common;

use common::{scratch, write_wav};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use vaeser::audio::load_logmel;
use vaeser::backend::cpu::Cpu;
use vaeser::checkpoint::Checkpoint;
use vaeser::config::{Config, LearnerConfig, SegmentConfig};
use vaeser::corpus::{load, CorpusKind, LoadOptions};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::classifier::{Classifier, ClassifierShape};
use vaeser::models::feature_learner::FeatureLearner;
use vaeser::output_check::{check_output_file, OutputKind};
use vaeser::train::autoencoder::{self as fit_autoencoder, FitRequest};
use vaeser::train::log::JsonLinesLog;
use vaeser::{Error, Result};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Format,
    Refused,
    Diverged,
}

fn kind_of(e: &Error) -> Option<Kind> {
    match e {
        Error::Format { .. } => Some(Kind::Format),
        Error::Refused { .. } => Some(Kind::Refused),
        Error::Diverged(_) => Some(Kind::Diverged),
        _ => None,
    }
}

struct Case {
    name: String,
    /// The file the error must name (None: no file is involved).
    file: Option<PathBuf>,
    kind: Kind,
    /// A fragment the message must contain.
    says: &'static str,
    run: Box<dyn FnOnce() -> Result<()>>,
}

// ---- WAV ------------------------------------------------------------------

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

fn fmt(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&tag.to_le_bytes());
    f.extend_from_slice(&channels.to_le_bytes());
    f.extend_from_slice(&rate.to_le_bytes());
    f.extend_from_slice(&rate.wrapping_mul(block_align as u32).to_le_bytes());
    f.extend_from_slice(&block_align.to_le_bytes());
    f.extend_from_slice(&bits.to_le_bytes());
    f
}

fn pcm16(n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| (((i * 97) % 2000) as i16 - 1000).to_le_bytes())
        .collect()
}

fn floats32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn wav_cases(dir: &Path) -> Vec<Case> {
    let good = riff(&[(b"fmt ", fmt(1, 1, 16_000, 2, 16)), (b"data", pcm16(4000))]);
    // A 2 MB file at 1 Hz: the resampler would have asked for 64 GB.
    let big_1hz = riff(&[(b"fmt ", fmt(1, 1, 1, 2, 16)), (b"data", pcm16(1 << 20))]);
    let mut extensible = fmt(0xFFFE, 1, 16_000, 2, 16);
    extensible.extend_from_slice(&[0; 4]);
    let mut loud = vec![0.1f32; 3000];
    loud[1234] = 1e38;
    let mut loud64: Vec<u8> = Vec::new();
    for i in 0..2000 {
        let v: f64 = if i == 7 { 1e300 } else { 0.0 };
        loud64.extend_from_slice(&v.to_le_bytes());
    }
    let table: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("empty.wav", vec![], "empty file"),
        ("tiny.wav", b"RIFF\0".to_vec(), "too short"),
        (
            "text.wav",
            b"path,label,speaker,fold\n".to_vec(),
            "expected \"RIFF\"",
        ),
        ("rifx.wav", b"RIFX\x04\0\0\0WAVE".to_vec(), "big-endian"),
        ("rf64.wav", b"RF64\x04\0\0\0WAVE".to_vec(), "RF64"),
        (
            "avi.wav",
            b"RIFF\x04\0\0\0AVI ".to_vec(),
            "expected \"WAVE\"",
        ),
        ("cut-fmt.wav", good[..30].to_vec(), "truncated: fmt chunk"),
        (
            "cut-data.wav",
            good[..good.len() / 2].to_vec(),
            "truncated: data chunk",
        ),
        (
            "no-data.wav",
            riff(&[(b"fmt ", fmt(1, 1, 16_000, 2, 16)), (b"LIST", vec![0; 6])]),
            "no data chunk",
        ),
        (
            "data-first.wav",
            riff(&[(b"data", pcm16(100)), (b"fmt ", fmt(1, 1, 16_000, 2, 16))]),
            "before any fmt chunk",
        ),
        (
            "channels-0.wav",
            riff(&[(b"fmt ", fmt(1, 0, 16_000, 2, 16)), (b"data", pcm16(100))]),
            "0 channels",
        ),
        (
            "channels-65535.wav",
            riff(&[
                (b"fmt ", fmt(1, 65535, 16_000, 65534, 16)),
                (b"data", pcm16(100)),
            ]),
            "at most 64 are supported",
        ),
        (
            "rate-0.wav",
            riff(&[(b"fmt ", fmt(1, 1, 0, 2, 16)), (b"data", pcm16(100))]),
            "sample rate 0 Hz is outside",
        ),
        (
            "rate-1.wav",
            riff(&[(b"fmt ", fmt(1, 1, 1, 2, 16)), (b"data", pcm16(400))]),
            "sample rate 1 Hz is outside the supported range 1000 Hz - 384000 Hz",
        ),
        ("rate-1-2MB.wav", big_1hz, "sample rate 1 Hz is outside"),
        (
            "rate-999.wav",
            riff(&[(b"fmt ", fmt(1, 1, 999, 2, 16)), (b"data", pcm16(400))]),
            "sample rate 999 Hz",
        ),
        (
            "rate-384001.wav",
            riff(&[(b"fmt ", fmt(1, 1, 384_001, 2, 16)), (b"data", pcm16(400))]),
            "sample rate 384001 Hz",
        ),
        (
            "rate-4GHz.wav",
            riff(&[
                (b"fmt ", fmt(1, 1, 4_000_000_000, 2, 16)),
                (b"data", pcm16(400)),
            ]),
            "sample rate 4000000000 Hz",
        ),
        (
            "adpcm.wav",
            riff(&[
                (b"fmt ", fmt(2, 1, 16_000, 256, 4)),
                (b"data", vec![0; 512]),
            ]),
            "MS ADPCM",
        ),
        (
            "tag-1234.wav",
            riff(&[
                (b"fmt ", fmt(0x1234, 1, 16_000, 2, 16)),
                (b"data", pcm16(10)),
            ]),
            "format tag 0x1234",
        ),
        (
            "float16.wav",
            riff(&[(b"fmt ", fmt(3, 1, 16_000, 2, 16)), (b"data", vec![0; 64])]),
            "32- or 64-bit float",
        ),
        (
            "pcm40.wav",
            riff(&[(b"fmt ", fmt(1, 1, 16_000, 5, 40)), (b"data", vec![0; 50])]),
            "8-32-bit samples",
        ),
        (
            "bits-0.wav",
            riff(&[(b"fmt ", fmt(1, 1, 16_000, 2, 0)), (b"data", pcm16(10))]),
            "0 bits per sample",
        ),
        (
            "bits-24-in-2.wav",
            riff(&[(b"fmt ", fmt(1, 1, 16_000, 2, 24)), (b"data", pcm16(10))]),
            "24 bits per sample in 2-byte",
        ),
        (
            "nan.wav",
            riff(&[
                (b"fmt ", fmt(3, 1, 16_000, 4, 32)),
                (b"data", floats32(&[0.5, f32::NAN])),
            ]),
            "sample 1 of channel 0 is NaN",
        ),
        (
            "inf.wav",
            riff(&[
                (b"fmt ", fmt(3, 1, 16_000, 4, 32)),
                (b"data", floats32(&[f32::INFINITY])),
            ]),
            "sample 0 of channel 0 is inf",
        ),
        (
            "float-1e38.wav",
            riff(&[
                (b"fmt ", fmt(3, 1, 16_000, 4, 32)),
                (b"data", floats32(&loud)),
            ]),
            "sample 1234 of channel 0 is 1e38",
        ),
        (
            "double-1e300.wav",
            riff(&[(b"fmt ", fmt(3, 1, 16_000, 8, 64)), (b"data", loud64)]),
            "sample 7 of channel 0 is 1e300",
        ),
        (
            "extensible-short.wav",
            riff(&[(b"fmt ", extensible), (b"data", pcm16(10))]),
            "WAVE_FORMAT_EXTENSIBLE fmt chunk is 20 bytes",
        ),
        (
            "zero-samples.wav",
            riff(&[(b"fmt ", fmt(1, 1, 16_000, 2, 16)), (b"data", vec![])]),
            "0 samples",
        ),
        (
            "chunk-claims-4GB.wav",
            {
                let mut b = b"RIFF\0\0\0\0WAVEJUNK".to_vec();
                b.extend_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
                b.extend_from_slice(&[0; 16]);
                b
            },
            "declares 4294967280 bytes",
        ),
    ];
    table
        .into_iter()
        .map(|(name, bytes, says)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            let p = path.clone();
            Case {
                name: format!("wav {name}"),
                file: Some(path),
                kind: Kind::Format,
                says,
                run: Box::new(move || load_logmel(&p).map(|_| ())),
            }
        })
        .collect()
}

// ---- configuration ----------------------------------------------------------

fn config_cases(dir: &Path) -> Vec<Case> {
    let table: Vec<(&str, &str, &'static str)> = vec![
        ("not-toml.toml", "this is [not toml", "expected"),
        ("unknown-key.toml", "[learner]\nlatnet = 3\n", "latnet"),
        (
            "classifier-hidden-1e9.toml",
            "[classifier]\nhidden = 1000000000\n",
            "the classifier's LSTM width is 1000000000",
        ),
        (
            "learner-hidden-2e9.toml",
            "[learner]\nhidden = [2000000000]\n",
            "hidden layer 0's width is 2000000000",
        ),
        (
            "too-many-params.toml",
            "[learner]\nhidden = [16384, 16384, 16384, 16384]\n",
            "parameters; at most 268435456",
        ),
        (
            "hidden-20-layers.toml",
            "[learner]\nhidden = [8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8,8]\n",
            "number of hidden layers is 20",
        ),
        ("latent-0.toml", "[learner]\nlatent = 0\n", "learner.latent"),
        (
            "frames-1e6.toml",
            "[segments]\nframes = 1000000\n",
            "segments.frames: value is 1000000",
        ),
        (
            "lr-inf.toml",
            "[learner]\nlr = inf\n",
            "positive and finite",
        ),
        (
            "lr-nan.toml",
            "[classifier]\nlr = nan\n",
            "positive and finite",
        ),
        (
            "batch-1e12.toml",
            "[classifier]\nbatch = 1000000000000\n",
            "classifier.batch",
        ),
        ("negative.toml", "[classifier]\nhidden = -1\n", "hidden"),
        (
            "layers-1e6.toml",
            "[classifier]\nlayers = 1000000\n",
            "number of LSTM layers is 1000000",
        ),
        (
            "sweep-huge.toml",
            "[experiment]\nlatent_sweep = [32, 100000]\n",
            "latent_sweep",
        ),
    ];
    table
        .into_iter()
        .map(|(name, text, says)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let p = path.clone();
            Case {
                name: format!("config {name}"),
                file: Some(path),
                kind: Kind::Format,
                says,
                run: Box::new(move || Config::load(&p).map(|_| ())),
            }
        })
        .collect()
}

// ---- model files -------------------------------------------------------------

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A checkpoint's header (JSON) and tensor data.
fn split(bytes: &[u8]) -> (serde_json::Value, Vec<u8>) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    (
        serde_json::from_slice(&bytes[8..8 + n]).unwrap(),
        bytes[8 + n..].to_vec(),
    )
}

fn join(header: &serde_json::Value, data: &[u8]) -> Vec<u8> {
    let mut text = serde_json::to_string(header).unwrap();
    while text.len() % 8 != 0 {
        text.push(' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(data);
    out
}

/// Rewrites the JSON of metadata entry `key` (the checksum does not cover it).
fn with_meta(bytes: &[u8], key: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (mut header, data) = split(bytes);
    let text = header["__metadata__"][key].as_str().unwrap().to_string();
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    edit(&mut value);
    header["__metadata__"][key] = value.to_string().into();
    join(&header, &data)
}

/// A tiny trained learner's checkpoint bytes.
fn learner_bytes() -> Vec<u8> {
    let seg = SegmentConfig::default();
    let data: Vec<f32> = (0..4 * 800)
        .map(|i| ((i % 37) as f32) * 0.1 - 5.0)
        .collect();
    let config = LearnerConfig {
        hidden: vec![4],
        latent: 2,
        batch: 2,
        max_epochs: 1,
        ..LearnerConfig::default()
    };
    let names: Vec<String> = ["neutral", "happy", "sad", "angry"]
        .map(String::from)
        .to_vec();
    let learner = fit_autoencoder::fit(
        &Cpu,
        &FitRequest {
            kind: LearnerKind::Vae,
            config: &config,
            segments_config: &seg,
            segments: &data,
            labels: None,
            label_names: &names,
            seed: 1,
            fold: None,
        },
        &mut JsonLinesLog::in_memory(),
    )
    .unwrap();
    learner.to_checkpoint().unwrap().to_bytes()
}

fn classifier_bytes() -> Vec<u8> {
    let shape = ClassifierShape {
        input: 4,
        hidden: 3,
        layers: 1,
        dense: 2,
        classes: 4,
    };
    let mut ck = Checkpoint::new("lstm-classifier");
    Classifier::new(&Cpu, shape, 1, None)
        .unwrap()
        .write_into(&mut ck, "")
        .unwrap();
    ck.to_bytes()
}

fn model_cases(dir: &Path) -> Vec<Case> {
    let learner = learner_bytes();
    let classifier = classifier_bytes();
    let nan = {
        let (mut header, mut data) = split(&learner);
        data[..4].copy_from_slice(&f32::NAN.to_le_bytes());
        header["__metadata__"]["checksum"] = format!("fnv1a64:{:016x}", fnv1a64(&data)).into();
        join(&header, &data)
    };
    let inf_last = {
        let (mut header, mut data) = split(&learner);
        let n = data.len();
        data[n - 4..].copy_from_slice(&f32::NEG_INFINITY.to_le_bytes());
        header["__metadata__"]["checksum"] = format!("fnv1a64:{:016x}", fnv1a64(&data)).into();
        join(&header, &data)
    };
    let corrupt = {
        let mut b = learner.clone();
        let n = b.len();
        b[n - 1] ^= 0x55;
        b
    };
    let foreign = {
        let (mut header, data) = split(&learner);
        header["__metadata__"]
            .as_object_mut()
            .unwrap()
            .remove("format");
        join(&header, &data)
    };
    let huge_header = {
        let mut b = (1u64 << 40).to_le_bytes().to_vec();
        b.extend_from_slice(b"{}");
        b
    };
    type Loader = fn(&Path) -> Result<()>;
    let learner_load: Loader = |p| FeatureLearner::load(&Cpu, p, None).map(|_| ());
    let classifier_load: Loader = |p| {
        let ck = Checkpoint::load(p)?;
        Classifier::read_from(&Cpu, &ck, "").map(|_| ())
    };
    let table: Vec<(&str, Vec<u8>, Loader, &'static str)> = vec![
        (
            "empty.safetensors",
            vec![],
            learner_load,
            "not a readable safetensors",
        ),
        (
            "header-1TB.safetensors",
            huge_header,
            learner_load,
            "not a readable safetensors",
        ),
        (
            "foreign.safetensors",
            foreign,
            learner_load,
            "not a vaeser checkpoint",
        ),
        ("corrupt.safetensors", corrupt, learner_load, "checksum"),
        (
            "nan.safetensors",
            nan,
            learner_load,
            "non-finite value (NaN at index 0)",
        ),
        (
            "neg-inf.safetensors",
            inf_last,
            learner_load,
            "non-finite value (-inf",
        ),
        (
            "hidden-2e9.safetensors",
            with_meta(&learner, "shape", |v| {
                v["hidden"] = serde_json::json!([2_000_000_000u64])
            }),
            learner_load,
            "hidden layer 0's width is 2000000000",
        ),
        (
            "hidden-14TB.safetensors",
            with_meta(&learner, "shape", |v| {
                v["hidden"] = serde_json::json!([16384, 16384, 16384, 16384, 16384, 16384])
            }),
            learner_load,
            "parameters; at most",
        ),
        (
            "hidden-plausible.safetensors",
            with_meta(&learner, "shape", |v| {
                v["hidden"] = serde_json::json!([4096, 4096])
            }),
            learner_load,
            "the file holds",
        ),
        (
            "latent-huge.safetensors",
            with_meta(&learner, "shape", |v| {
                v["latent"] = serde_json::json!(1u64 << 40)
            }),
            learner_load,
            "latent size",
        ),
        (
            "segments-1e9.safetensors",
            with_meta(&learner, "segments", |v| {
                v["frames"] = serde_json::json!(1_000_000_000u64)
            }),
            learner_load,
            "segments.frames",
        ),
        (
            "segments-hop-0.safetensors",
            with_meta(&learner, "segments", |v| v["hop"] = serde_json::json!(0)),
            learner_load,
            "segments.hop",
        ),
        (
            "classifier-hidden-1e9.safetensors",
            with_meta(&classifier, "shape", |v| {
                v["hidden"] = serde_json::json!(1_000_000_000u64)
            }),
            classifier_load,
            "LSTM width is 1000000000",
        ),
        (
            "classifier-layers-1e6.safetensors",
            with_meta(&classifier, "shape", |v| {
                v["layers"] = serde_json::json!(1_000_000)
            }),
            classifier_load,
            "number of LSTM layers",
        ),
        (
            "classifier-wider.safetensors",
            with_meta(&classifier, "shape", |v| {
                v["hidden"] = serde_json::json!(3000)
            }),
            classifier_load,
            "the file holds",
        ),
    ];
    table
        .into_iter()
        .map(|(name, bytes, loader, says)| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            let p = path.clone();
            Case {
                name: format!("model {name}"),
                file: Some(path),
                kind: Kind::Format,
                says,
                run: Box::new(move || loader(&p)),
            }
        })
        .collect()
}

// ---- manifests and annotations ----------------------------------------------

fn strict() -> LoadOptions {
    LoadOptions {
        strict: true,
        ..LoadOptions::default()
    }
}

fn manifest_cases(dir: &Path) -> Vec<Case> {
    let root = dir.join("manifest");
    write_wav(&root.join("u1.wav"), 3200, 1);
    write_wav(&root.join("x/u2.wav"), 3200, 2);
    write_wav(&dir.join("outside.wav"), 3200, 3);
    let header = "path,label,speaker,fold\n";
    let table: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("empty.csv", vec![], "empty manifest"),
        (
            "bad-header.csv",
            b"file,emotion\nu1.wav,happy\n".to_vec(),
            "header 'file,emotion'",
        ),
        (
            "dot-dot-duplicate.csv",
            format!("{header}u1.wav,happy,s1,1\nx/../u1.wav,sad,s2,2\n").into_bytes(),
            "listed twice (the same file as line 2)",
        ),
        (
            "outside.csv",
            format!("{header}u1.wav,happy,s1,1\n../outside.wav,sad,s2,2\n").into_bytes(),
            "outside the manifest's folder",
        ),
        (
            "unknown-label.csv",
            format!("{header}u1.wav,joy,s1,1\n").into_bytes(),
            "unknown label 'joy'",
        ),
        (
            "latin1.csv",
            b"path,label,speaker,fold\nd\xe9j\xe0.wav,happy,s,1\n".to_vec(),
            "not a UTF-8",
        ),
        (
            "fields.csv",
            format!("{header}u1.wav,happy,s1\n").into_bytes(),
            "3 fields where the header has 4",
        ),
        (
            "quote.csv",
            format!("{header}\"u1.wav,happy,s1,1\n").into_bytes(),
            "quoted field is not closed",
        ),
    ];
    let mut cases: Vec<Case> = table
        .into_iter()
        .map(|(name, bytes, says)| {
            let path = root.join(name);
            std::fs::write(&path, bytes).unwrap();
            let p = path.clone();
            Case {
                name: format!("manifest {name}"),
                file: Some(path),
                kind: Kind::Format,
                says,
                run: Box::new(move || load(CorpusKind::Manifest, &p, &strict()).map(|_| ())),
            }
        })
        .collect();

    for (name, line, says) in [
        (
            "times",
            "[x - 2.0]\tSes02F_impro03_M001\tneu\t[3.0, 2.0, 2.0]",
            "Ses02F_impro03.txt:5",
        ),
        (
            "vad",
            "[3.0000 - 4.0000]\tSes02F_impro03_M001\tneu\t[a, b, c]",
            "Ses02F_impro03.txt:5",
        ),
        (
            "label",
            "[3.0000 - 4.0000]\tSes02F_impro03_M001\tjoy\t[4.0, 3.0, 3.0]",
            "unknown label 'joy'",
        ),
    ] {
        let root = dir.join(format!("iemocap-{name}"));
        let eval = root.join("Session2/dialog/EmoEvaluation/Ses02F_impro03.txt");
        std::fs::create_dir_all(eval.parent().unwrap()).unwrap();
        std::fs::write(
            &eval,
            format!(
                "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n\
                 [1.0000 - 2.0000]\tSes02F_impro03_F000\tneu\t[3.0000, 2.0000, 2.5000]\n\n\
                 {line}\n"
            ),
        )
        .unwrap();
        for utt in ["F000", "M001"] {
            write_wav(
                &root.join(format!(
                    "Session2/sentences/wav/Ses02F_impro03/Ses02F_impro03_{utt}.wav"
                )),
                1600,
                3,
            );
        }
        cases.push(Case {
            name: format!("iemocap annotation {name}"),
            file: Some(eval),
            kind: Kind::Format,
            says,
            run: Box::new(move || load(CorpusKind::Iemocap, &root, &strict()).map(|_| ())),
        });
    }
    cases
}

// ---- output paths and training ------------------------------------------------

fn output_cases(dir: &Path) -> Vec<Case> {
    let manifest = dir.join("users-manifest.csv");
    std::fs::write(&manifest, "path,label,speaker,fold\nu1.wav,happy,s1,1\n").unwrap();
    let wav = dir.join("recording.wav");
    write_wav(&wav, 1600, 1);
    let folder = dir.join("a-folder.safetensors");
    std::fs::create_dir_all(&folder).unwrap();
    let learner_file = dir.join("learner.safetensors");
    std::fs::write(&learner_file, learner_bytes()).unwrap();
    let mut cases = Vec::new();
    for (name, path, kind, says) in [
        (
            "manifest as --cache",
            manifest,
            OutputKind::FeatureCache,
            "not a vaeser LogMel cache",
        ),
        (
            "WAV as model --out",
            wav,
            OutputKind::Checkpoint(&["vaeser-model"]),
            "pass --force",
        ),
        (
            "directory as model --out",
            folder,
            OutputKind::Checkpoint(&["vaeser-model"]),
            "is a directory",
        ),
        (
            "learner file as model --out",
            learner_file,
            OutputKind::Checkpoint(&["vaeser-model"]),
            "not a vaeser checkpoint of kind vaeser-model",
        ),
    ] {
        let p = path.clone();
        let k = match kind {
            OutputKind::FeatureCache => OutputKind::FeatureCache,
            _ => OutputKind::Checkpoint(&["vaeser-model"]),
        };
        cases.push(Case {
            name: name.into(),
            file: Some(path),
            kind: Kind::Refused,
            says,
            run: Box::new(move || check_output_file(&p, k, false)),
        });
    }
    cases.push(Case {
        name: "learner trained with lr 1e30".into(),
        file: None,
        kind: Kind::Diverged,
        says: "epoch 0",
        run: Box::new(|| {
            let seg = SegmentConfig::default();
            let data: Vec<f32> = (0..32 * 800)
                .map(|i| ((i % 37) as f32) * 0.1 - 5.0)
                .collect();
            let config = LearnerConfig {
                hidden: vec![8],
                latent: 4,
                batch: 8,
                max_epochs: 3,
                lr: 1e30,
                ..LearnerConfig::default()
            };
            fit_autoencoder::fit(
                &Cpu,
                &FitRequest {
                    kind: LearnerKind::Vae,
                    config: &config,
                    segments_config: &seg,
                    segments: &data,
                    labels: None,
                    label_names: &[],
                    seed: 1,
                    fold: None,
                },
                &mut JsonLinesLog::in_memory(),
            )
            .map(|_| ())
        }),
    });
    cases
}

/// The process's peak resident memory (VmHWM), in kB; 0 where unknown.
fn peak_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn every_malformed_input_gives_its_error_naming_the_file_without_panic_in_bounded_memory() {
    let dir = scratch("malformed-inputs");
    let mut cases = wav_cases(&dir);
    cases.extend(config_cases(&dir));
    cases.extend(model_cases(&dir));
    cases.extend(manifest_cases(&dir));
    cases.extend(output_cases(&dir));
    assert!(cases.len() >= 40, "only {} cases", cases.len());

    let before = peak_kb();
    let started = Instant::now();
    let mut failures = Vec::new();
    let total = cases.len();
    for case in cases {
        let t = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(case.run));
        let elapsed = t.elapsed();
        let problem = match outcome {
            Err(_) => Some("panicked".to_string()),
            Ok(Ok(())) => Some("was accepted".to_string()),
            Ok(Err(e)) => {
                let text = e.to_string();
                let named = case
                    .file
                    .as_ref()
                    .is_none_or(|f| text.contains(&*f.to_string_lossy()));
                if kind_of(&e) != Some(case.kind) {
                    Some(format!("gave {e:?}, expected kind {:?}", case.kind))
                } else if !named {
                    Some(format!("does not name {:?}: {text}", case.file))
                } else if !text.contains(case.says) {
                    Some(format!("does not say {:?}: {text}", case.says))
                } else if elapsed > Duration::from_secs(5) {
                    Some(format!("took {elapsed:?}"))
                } else {
                    None
                }
            }
        };
        if let Some(p) = problem {
            failures.push(format!("{}: {p}", case.name));
        }
    }
    let grown_mb = peak_kb().saturating_sub(before) / 1024;
    println!(
        "{total} malformed inputs in {:.2} s, peak memory grew by {grown_mb} MB",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The largest honest allocation here is a few MB of audio; a claimed
    // size that slipped through would be gigabytes.
    assert!(grown_mb < 256, "peak memory grew by {grown_mb} MB");
    std::fs::remove_dir_all(&dir).unwrap();
}
