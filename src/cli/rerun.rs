//! `vaeser rerun MANIFEST -o DIR`: the run a manifest.json records, again,
//! into a new directory, with the configuration, seed and corpus the
//! manifest holds (not whatever the preset or the configuration file say
//! today), after checking that every input file is still the same.

use super::{Cli, Command, Global};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::eval::manifest::{sha256_file, Manifest};
use crate::provenance::Provenance;
use clap::Parser;
use std::path::PathBuf;

/// Run again what a manifest.json records.
#[derive(clap::Args, Debug)]
#[command(
    long_about = "Reads the manifest.json of a `crossval`, `reproduce` or `demo` run and runs \
the same command again into a new directory: with the configuration recorded in the manifest \
(written to DIR/rerun-config.toml and passed as --config, so later edits of the original \
configuration file or changes of the presets do not matter), the same seed and the same \
corpus. Every input file is first checked against the SHA-256 the manifest recorded; a file \
that changed or is missing stops the rerun. On the same build and the same CPU (the manifest \
records both) the results are bit-identical to the original's; a different commit or GEMM \
kernel is reported before the run, since results then agree only to rounding."
)]
pub struct Args {
    /// The manifest.json of the run to repeat.
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Directory for the new run (must not hold completed folds).
    #[arg(short, long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run<B: Backend>(args: Args, global: &Global, backend: &B) -> Result<()> {
    super::paths::existing_file("MANIFEST", &args.manifest)?;
    let manifest = Manifest::read(&args.manifest)?;
    let recorded = Cli::try_parse_from(&manifest.command).map_err(|e| {
        Error::format(
            &args.manifest,
            format!("its command line does not parse with this version: {e}"),
        )
    })?;
    check_inputs(&manifest, &args.manifest)?;
    report_provenance(&manifest);
    let config_file = args.out.join("rerun-config.toml");
    crate::fsutil::write_atomic(&config_file, manifest.config.to_toml().as_bytes())?;
    let data = manifest.corpus_root.clone();
    println!(
        "rerunning `{}` into {}",
        manifest.command.join(" "),
        args.out.display()
    );
    match recorded.command {
        Command::Crossval(mut a) => {
            a.corpus.input.data = data;
            a.config.config = Some(config_file);
            a.seed.seed = manifest.seed;
            a.resume = false;
            a.out = args.out;
            super::crossval::run(a, global, backend)
        }
        Command::Reproduce(mut a) => {
            a.corpus.input.data = data;
            a.config.config = Some(config_file);
            a.seed.seed = manifest.seed;
            a.resume = false;
            a.out = args.out;
            super::reproduce::run(a, global, backend)
        }
        Command::Demo(mut a) => {
            a.config = Some(config_file);
            a.seed.seed = manifest.seed;
            a.out = args.out;
            super::demo::run(a, global, backend)
        }
        _ => Err(Error::usage(format!(
            "{}: records `{}`; only crossval, reproduce and demo runs can be rerun",
            args.manifest.display(),
            manifest.command.join(" ")
        ))),
    }
}

/// Fails unless every input file the manifest lists still has its size and
/// SHA-256 (a demo's corpus is written afresh from the seed, so it is not
/// checked).
fn check_inputs(manifest: &Manifest, path: &std::path::Path) -> Result<()> {
    use rayon::prelude::*;
    if manifest.command.get(1).map(String::as_str) == Some("demo") {
        return Ok(());
    }
    let changed: Vec<String> = manifest
        .inputs
        .par_iter()
        .filter_map(|f| {
            let file = manifest.corpus_root.join(&f.path);
            match sha256_file(&file) {
                Ok((bytes, sha)) if bytes == f.bytes && sha == f.sha256 => None,
                Ok(_) => Some(format!("{} (changed)", file.display())),
                Err(e) => Some(e.to_string()),
            }
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(Error::data(format!(
        "{}: {} of the {} input files differ from the recorded ones, so the run cannot be \
         repeated exactly: {}{}",
        path.display(),
        changed.len(),
        manifest.inputs.len(),
        changed
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("; "),
        if changed.len() > 5 { "; ..." } else { "" }
    )))
}

/// Says where this build or CPU differs from the recorded run's.
fn report_provenance(manifest: &Manifest) {
    let now = Provenance::current();
    let Some(then) = &manifest.provenance else {
        eprintln!(
            "note: the manifest does not record its build; results may differ in the last bits"
        );
        return;
    };
    for (what, a, b) in [
        ("commit", &then.build.git_commit, &now.build.git_commit),
        (
            "target features",
            &then.build.target_features,
            &now.build.target_features,
        ),
        (
            "GEMM kernel",
            &then.machine.gemm_kernel,
            &now.machine.gemm_kernel,
        ),
    ] {
        if a != b {
            eprintln!(
                "note: {what} differs ({a} then, {b} now): results agree to rounding, not to the bit"
            );
        }
    }
}
