//! `vaeser demo`: the whole experiment on a small synthetic corpus, with no
//! data to download.

use super::config::ConfigArgs;
use super::corpus_input;
use super::reproduce::{reproduce, Request};
use super::run_args::CorpusArgs;
use super::seed::SeedArg;
use super::Global;
use crate::backend::Backend;
use crate::corpus::synth::{self, Options, Size};
use crate::error::{Error, Result};
use crate::eval::experiment::Plan;
use crate::eval::seeds::SeedList;
use std::path::PathBuf;
use std::time::Instant;

/// Generate the small synthetic corpus and run the whole experiment on it.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Writes the small synthetic corpus (IEMOCAP layout: 5 sessions, 10 \
speakers, the four emotions, valence/arousal/dominance ratings) into OUT/corpus and runs \
`vaeser reproduce` on it with the `quick` preset: Table 1 (improvised, scripted, complete), \
Table 2 and the latent sweep, with the same protocol as on real data but smaller networks \
and fewer epochs. It takes a few minutes on two cores and prints the tables; the report, \
figures and results are in OUT/run. The synthetic audio is speech-like, not speech: the \
numbers show that the pipeline works, not how well it recognises real emotions."
)]
pub struct Args {
    /// Output directory (the corpus goes to OUT/corpus, the run to OUT/run).
    #[arg(short, long, value_name = "DIR", default_value = "vaeser-demo")]
    pub out: PathBuf,
    /// Configuration file read over the `quick` preset.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub seed: SeedArg,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    let started = Instant::now();
    crate::output_check::check_output_dir(&args.out, &[], global.force)?;
    let corpus_dir = args.out.join("corpus");
    let run_dir = args.out.join("run");
    let summary = synth::generate(
        &corpus_dir,
        &Options {
            seed: args.seed.seed,
            size: Size::Small,
        },
    )?;
    eprintln!(
        "synthetic corpus: {} utterances ({:.0} s of audio) in {} ({:.1} s)",
        summary.utterances.len(),
        summary.seconds(),
        corpus_dir.display(),
        started.elapsed().as_secs_f64()
    );
    // A demo always starts afresh: the folds of an earlier demo in the same
    // directory were made from a corpus that has just been rewritten.
    let cells = run_dir.join("cells");
    if cells.is_dir() {
        std::fs::remove_dir_all(&cells).map_err(|e| Error::io(&cells, e))?;
    }
    let config_args = ConfigArgs {
        config: args.config.clone(),
        preset: "quick".into(),
    };
    let config = config_args.resolve()?;
    reproduce(
        &CorpusArgs {
            input: corpus_input::CorpusArgs {
                corpus: corpus_input::CorpusArg::Synth,
                data: corpus_dir,
                strict: false,
                allow_outside: false,
            },
            cache: None,
            // The corpus was just generated: nothing to reuse.
            no_cache: true,
        },
        &config,
        &config_args.describe(),
        &Request {
            plan: Plan {
                dimensional: config.experiment.dimensional,
                sweep: true,
                baselines: true,
                dimensional_utterances: Default::default(),
            },
            seeds: &SeedList::single(args.seed.seed),
            shard: None,
            resume: false,
            out: &run_dir,
        },
        args.seed.seed,
        global,
        backend,
    )?;
    println!("demo finished in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
