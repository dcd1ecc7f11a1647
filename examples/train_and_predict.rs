//! Trains a small model end to end through the library and predicts with
//! it: a synthetic corpus (written to a temporary directory), its LogMel
//! segments, a VAE feature learner and the LSTM classifier on a reduced
//! budget, the model file written and read back, and predictions from a WAV
//! file and from samples in memory. A few seconds on two cores.
//!
//! cargo run --release --example train_and_predict

use vaeser::backend::cpu::Cpu;
use vaeser::config::Config;
use vaeser::corpus::synth::{self, Options, Size};
use vaeser::corpus::CorpusKind;
use vaeser::eval::dataset::CorpusData;
use vaeser::eval::final_model::{train_bundle, TrainRequest};
use vaeser::models::autoencoder::LearnerKind;
use vaeser::models::bundle::ModelBundle;

fn main() -> vaeser::Result<()> {
    let dir = std::env::temp_dir().join(format!("vaeser-example-{}", std::process::id()));
    let corpus = dir.join("corpus");
    synth::generate(
        &corpus,
        &Options {
            seed: 1,
            size: Size::Small,
        },
    )?;

    // The demo's reduced budget, smaller still: this shows the calls, not
    // the method's accuracy.
    let mut config = Config::preset("quick")?;
    config.learner.max_epochs = 2;
    config.classifier.max_epochs = 3;
    let data = CorpusData::load(
        CorpusKind::Synth,
        &corpus,
        &config.segments,
        None,
        false,
        false,
    )?;
    println!("{} utterances", data.utterances.len());

    let model = train_bundle(
        &Cpu,
        &TrainRequest {
            data: &data,
            config: &config,
            kind: LearnerKind::Vae,
            seed: 1,
            progress: vaeser::train::progress::Progress::hidden(),
            epoch_lines: false,
            log_dir: None,
        },
    )?;
    let file = dir.join("model.safetensors");
    model.save(&file)?;
    let model = ModelBundle::load(&Cpu, &file)?;

    let wav = &data.utterances[0].path;
    let p = model.predict_file(wav)?;
    let truth = data.utterances[0].label.map(|l| model.labels[l].as_str());
    println!(
        "{}: {} (labelled {})",
        wav.display(),
        p.label,
        truth.unwrap_or("-")
    );

    // Two seconds of a 220 Hz tone at 44.1 kHz: resampled like any input.
    let tone: Vec<f32> = (0..88_200)
        .map(|i| 0.3 * (2.0 * std::f32::consts::PI * 220.0 * i as f32 / 44_100.0).sin())
        .collect();
    let p = model.predict_samples(&tone, 44_100)?;
    println!("a 220 Hz tone: {} {:?}", p.label, p.probabilities);

    std::fs::remove_dir_all(&dir).map_err(|e| vaeser::Error::io(&dir, e))?;
    Ok(())
}
