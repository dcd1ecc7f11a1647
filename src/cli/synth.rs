use super::seed::SeedArg;
use super::Global;
use crate::corpus::synth::{self, Options, Size, Tag};
use crate::error::Result;
use std::path::PathBuf;
use std::time::Instant;

/// Write a synthetic corpus in the IEMOCAP layout.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Writes a synthetic corpus in the IEMOCAP layout (5 sessions of 2 speakers, \
the four emotions, valence/arousal/dominance ratings in the EmoEvaluation files) from the seed, \
so that every command can run with no data at all: read it with --corpus synth --data DIR. \
The audio is speech-like (voiced sounds whose pitch, energy and tempo follow the emotion), \
not speech. The same seed and size always give the same files."
)]
pub struct Args {
    /// Directory to write the corpus into: new, empty, or holding an earlier
    /// synthetic corpus (which is replaced).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many utterances: `small` for demos and tests, `full` for a corpus
    /// in IEMOCAP's class proportions.
    #[arg(long, value_enum, default_value_t = Size::Small)]
    pub size: Size,
    #[command(flatten)]
    pub seed: SeedArg,
}

pub fn run(args: Args, _global: &Global) -> Result<()> {
    let started = Instant::now();
    let options = Options {
        seed: args.seed.seed,
        size: args.size,
    };
    let summary = synth::generate(&args.out, &options)?;
    let counts: Vec<String> = Tag::ALL
        .iter()
        .map(|&t| format!("{} {}", t.code(), summary.count(t)))
        .collect();
    println!(
        "wrote {} utterances ({:.1} s of audio; {}) to {} in {:.1} s (seed {}, size {})",
        summary.utterances.len(),
        summary.seconds(),
        counts.join(", "),
        args.out.display(),
        started.elapsed().as_secs_f64(),
        options.seed,
        options.size.name(),
    );
    Ok(())
}
