//! Predicts the emotion of WAV files with a model file from `vaeser train`,
//! through the library: the model is loaded once and the files run in
//! parallel, with results in the order given.
//!
//! cargo run --release --example predict -- MODEL.safetensors A.wav [B.wav ...]

use std::path::PathBuf;
use vaeser::backend::cpu::Cpu;
use vaeser::models::bundle::ModelBundle;
use vaeser::predict::inputs::Input;
use vaeser::predict::run::{predict_all, Outcome};

fn main() -> vaeser::Result<()> {
    let mut args = std::env::args_os().skip(1).map(PathBuf::from);
    let (Some(model), files) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: predict MODEL.safetensors A.wav [B.wav ...]");
        std::process::exit(2);
    };
    let model = ModelBundle::load(&Cpu, &model)?;
    let inputs: Vec<Input> = files
        .into_iter()
        .map(|path| Input {
            id: path.display().to_string(),
            path,
        })
        .collect();
    let failed = predict_all(&model, &inputs, None, |_, input, outcome| {
        match outcome {
            Outcome::Whole(p) => {
                let probabilities: Vec<String> = model
                    .labels
                    .iter()
                    .zip(&p.probabilities)
                    .map(|(l, v)| format!("{l} {v:.3}"))
                    .collect();
                println!("{}: {} ({})", input.id, p.label, probabilities.join(", "));
            }
            Outcome::Windows(_) => unreachable!("no windows were asked for"),
            Outcome::Failed(e) => eprintln!("{}: {e}", input.id),
        }
        Ok(())
    })?;
    std::process::exit(i32::from(failed > 0));
}
