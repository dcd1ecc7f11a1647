//! `vaeser encode`: turns every utterance of a corpus into its sequence of
//! segment features with a saved feature learner, written as one safetensors
//! file (one `[segments, features]` tensor per utterance id).

use super::corpus_input::{self, CorpusArgs};
use super::model_file::read_learner;
use super::Global;
use crate::backend::Backend;
use crate::checkpoint::Checkpoint;
use crate::config::{CvaeCondition, EncodeMode};
use crate::corpus::{Utterance, EMOTIONS};
use crate::error::{Error, Result};
use crate::models::autoencoder::LearnerKind;
use crate::models::feature_learner::{EncodeOptions, ORACLE_MARK};
use std::collections::BTreeSet;
use std::path::PathBuf;

/// The `kind` of a file written by this command.
pub const FEATURES_KIND: &str = "features";

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModeArg {
    /// mu and log sigma^2 concatenated (2L values per segment).
    MuLogvar,
    /// mu only (L values).
    Mu,
    /// One sample z = mu + eps sigma (L values), eps from a seeded stream.
    Z,
}

impl From<ModeArg> for EncodeMode {
    fn from(m: ModeArg) -> EncodeMode {
        match m {
            ModeArg::MuLogvar => EncodeMode::MuLogvar,
            ModeArg::Mu => EncodeMode::Mu,
            ModeArg::Z => EncodeMode::Sample,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionArg {
    /// 1/K in every label slot: no label information reaches the features.
    Uniform,
    /// The utterance's true label: a label leak, for diagnosis only.
    Oracle,
}

impl From<ConditionArg> for CvaeCondition {
    fn from(c: ConditionArg) -> CvaeCondition {
        match c {
            ConditionArg::Uniform => CvaeCondition::Uniform,
            ConditionArg::Oracle => CvaeCondition::Oracle,
        }
    }
}

/// Encode a corpus with a saved feature learner.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Encodes every utterance of a corpus with a checkpoint written by \
fit-features: its 100 ms segments are normalised with the checkpoint's statistics and \
encoded, in time order. The output is one safetensors file holding one tensor \
[segments, features] per utterance id; its metadata names the model, the mode, the feature \
size and each utterance's label, speaker and group. The AE always gives its code (--mode \
does not apply). The CVAE is conditioned uniformly unless --cvae-condition oracle, which \
feeds it the true label: a label leak, marked as such in the file and on stdout."
)]
pub struct Args {
    /// Feature learner written by fit-features, or a model file written by
    /// train (its feature learner is used).
    #[arg(long, value_name = "FILE")]
    pub model: PathBuf,
    #[command(flatten)]
    pub corpus: CorpusArgs,
    /// What each segment becomes.
    #[arg(long, value_enum, default_value = "mu-logvar")]
    pub mode: ModeArg,
    /// How the CVAE is conditioned.
    #[arg(long, value_enum, default_value = "uniform")]
    pub cvae_condition: ConditionArg,
    /// The features file to write (safetensors).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,
}

/// What the features file says about one utterance.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EncodedUtterance {
    pub id: String,
    /// Emotion name, `None` for an utterance outside the four classes.
    pub label: Option<String>,
    pub speaker: String,
    pub group: String,
    pub segments: usize,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    crate::output_check::check_output_file(
        &args.out,
        crate::output_check::OutputKind::Checkpoint(&[FEATURES_KIND]),
        global.force,
    )?;
    let learner = read_learner(backend, "--model", &args.model)?;
    let mode: EncodeMode = args.mode.into();
    let condition: CvaeCondition = args.cvae_condition.into();
    let oracle = learner.kind() == LearnerKind::Cvae && condition == CvaeCondition::Oracle;
    println!(
        "model {}: {}, latent {}, trained {}",
        args.model.display(),
        learner.kind(),
        learner.latent(),
        match learner.fold {
            Some(f) => format!("without fold {}", f + 1),
            None => "on a whole corpus".to_string(),
        }
    );
    if learner.kind() == LearnerKind::Ae && args.mode != ModeArg::MuLogvar {
        println!("  note: the AE has no mu or sigma; --mode is ignored and its code is written");
    }
    if condition == CvaeCondition::Oracle && learner.kind() != LearnerKind::Cvae {
        println!("  note: --cvae-condition applies to the CVAE only; ignored");
    }
    if oracle {
        println!("WARNING: {ORACLE_MARK}: the CVAE is conditioned on each utterance's true label");
    }

    let corpus = args.corpus.load()?;
    let mut ids = BTreeSet::new();
    if let Some(dup) = corpus
        .utterances
        .iter()
        .find(|u| !ids.insert(u.id.as_str()))
    {
        return Err(Error::format(
            &dup.path,
            format!("utterance id {} occurs twice in the corpus", dup.id),
        ));
    }
    let chosen: Vec<&Utterance> = corpus
        .utterances
        .iter()
        .filter(|u| !oracle || u.label.is_some())
        .collect();
    if oracle && chosen.len() < corpus.utterances.len() {
        println!(
            "  {} utterances without one of the four labels cannot be oracle-conditioned; left out",
            corpus.utterances.len() - chosen.len()
        );
    }
    let owned: Vec<Utterance> = chosen.iter().map(|&u| u.clone()).collect();
    let segments = corpus_input::segment(&owned, &learner.segments, args.corpus.strict)?;
    let (mut usable, mut inputs, mut labels) = (Vec::new(), Vec::new(), Vec::new());
    for (u, s) in owned.iter().zip(&segments) {
        if let Some(s) = s {
            usable.push(u);
            inputs.push(s.as_slice());
            labels.push(u.label.unwrap_or(0));
        }
    }
    let options = EncodeOptions {
        mode,
        condition,
        noise_key: 0,
    };
    let features = learner.encode_utterances(&inputs, oracle.then_some(&labels[..]), &options)?;

    let feature_dim = learner.feature_dim(mode);
    let mut out = Checkpoint::new(FEATURES_KIND);
    let mut described = Vec::with_capacity(usable.len());
    let mut total_segments = 0;
    for (u, f) in usable.iter().zip(features) {
        let rows = f.len() / feature_dim;
        total_segments += rows;
        described.push(EncodedUtterance {
            id: u.id.clone(),
            label: u.label.map(|l| EMOTIONS[l].to_string()),
            speaker: u.speaker.clone(),
            group: u.group.clone(),
            segments: rows,
        });
        out.add_tensor(&u.id, &[rows, feature_dim], f);
    }
    out.set_meta("model", &args.model.display().to_string());
    out.set_meta("model_kind", learner.kind().as_str());
    out.set_meta("model_fold", &learner.fold);
    out.set_meta("latent", &learner.latent());
    out.set_meta("feature_dim", &feature_dim);
    out.set_meta("mode", &mode);
    out.set_meta("cvae_condition", &condition);
    if oracle {
        out.set_meta("label_leak", ORACLE_MARK);
    }
    out.set_meta("label_names", &learner.label_names);
    out.set_meta("utterances", &described);
    out.save(&args.out)?;
    println!(
        "encoded {} utterances ({total_segments} segments, {feature_dim} values each{}) into {}",
        described.len(),
        if oracle {
            format!(", {ORACLE_MARK}")
        } else {
            String::new()
        },
        args.out.display()
    );
    Ok(())
}
