use super::Global;
use crate::corpus::synth::{self, Options, Size, Tag};
use crate::error::Result;
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory to write the corpus into: new, empty, or holding an earlier
    /// synthetic corpus (which is replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many utterances: `small` for demos and tests, `full` for a corpus
    /// in IEMOCAP's class proportions.
    #[arg(long, value_enum, default_value_t = Size::Small)]
    pub size: Size,
}

pub fn run(args: Args, global: &Global) -> Result<()> {
    let started = Instant::now();
    let options = Options {
        seed: global.seed,
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
