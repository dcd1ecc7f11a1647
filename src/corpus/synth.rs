//! The synthetic corpus: speech-like audio with emotion labels and V/A/D
//! ratings, written in the IEMOCAP_full_release layout (SPEC §6) from a seed,
//! so that every command runs with no data at all.
//!
//! Utterances are synthesised in parallel, each from its own random stream
//! keyed by its position in the corpus: the same seed gives the same bytes
//! whatever the number of threads.

mod annotation;
mod emotion;
mod plan;
mod voice;

pub use emotion::Tag;

use crate::error::{Error, Result};
use crate::fsutil::write_atomic;
use crate::rng;
use rayon::prelude::*;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// The first line of the README a generated corpus carries; it is how a
/// directory is recognised as one that may be overwritten.
pub const README_MARKER: &str = "vaeser synthetic corpus";
/// The file name of that README, at the corpus root.
pub const README_NAME: &str = "README.txt";

/// How many utterances [`generate`] writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Size {
    /// About 250 short utterances: seconds to generate, minutes to run the
    /// whole experiment on.
    #[default]
    Small,
    /// About 2400 utterances in IEMOCAP's class proportions.
    Full,
}

impl Size {
    /// The lowercase name the `--size` option and the README use.
    pub fn name(self) -> &'static str {
        match self {
            Size::Small => "small",
            Size::Full => "full",
        }
    }
}

/// What to generate; the same options always give the same bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// Seeds every random choice (layout, voices, emotions, noise).
    pub seed: u64,
    /// How many utterances.
    pub size: Size,
}

/// One utterance as written.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthUtterance {
    /// The utterance name in IEMOCAP's form (`Ses01F_impro01_M013`), also the
    /// WAV file's stem.
    pub name: String,
    /// Path of the WAV file relative to the corpus root.
    pub path: PathBuf,
    /// The majority label written in the annotation.
    pub tag: Tag,
    /// e.g. `Ses01F`.
    pub speaker: String,
    /// The session, 1 to 5 (`SessionN` directory).
    pub session: u32,
    /// The dialog name (`Ses01F_impro01`), its WAV directory.
    pub dialog: String,
    /// Whether the dialog is improvised (its name contains "impro").
    pub improvised: bool,
    /// Rater means of valence, activation and dominance.
    pub vad: [f64; 3],
    /// Length in samples at 16 kHz.
    pub samples: usize,
}

/// What `generate` wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Every utterance written, in corpus order.
    pub utterances: Vec<SynthUtterance>,
}

impl Summary {
    /// How many utterances carry `tag`.
    pub fn count(&self, tag: Tag) -> usize {
        self.utterances.iter().filter(|u| u.tag == tag).count()
    }

    /// Total audio length, in seconds.
    pub fn seconds(&self) -> f64 {
        self.utterances.iter().map(|u| u.samples).sum::<usize>() as f64
            / f64::from(voice::SAMPLE_RATE)
    }

    fn counts_line(&self) -> String {
        Tag::ALL
            .iter()
            .map(|&t| format!("{} {}", t.code(), self.count(t)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Writes a synthetic corpus into `out` (created if needed). `out` must be
/// empty or hold a corpus written by an earlier run, which is replaced.
pub fn generate(out: &Path, options: &Options) -> Result<Summary> {
    prepare_directory(out)?;
    let readme = out.join(README_NAME);
    write_atomic(
        &readme,
        format!(
            "{README_MARKER}\n\nIncomplete: generation (seed {}, size {}) was interrupted.\n",
            options.seed,
            options.size.name()
        )
        .as_bytes(),
    )?;

    let plan = plan::plan(options.seed, options.size);
    let duration = options.size.duration_s();
    let rendered: Vec<(emotion::Performance, usize)> = plan
        .utterances
        .par_iter()
        .map(|u| {
            let mut r = rng::stream(options.seed, "synth-utterance", u.index as u32, 0);
            let dialog = &plan.dialogs[u.dialog];
            let speaker = &plan.speakers[u.speaker];
            let performance = emotion::perform(u.tag, speaker, &dialog.recording, duration, &mut r);
            let samples = voice::render(&speaker.voice, &performance.delivery, &mut r);
            let path = out.join(wav_path(dialog, &u.name));
            let bytes = voice::wav_bytes(&samples)
                .map_err(|e| Error::format(&path, format!("cannot encode WAV: {e}")))?;
            write_atomic(&path, &bytes)?;
            Ok((performance, samples.len()))
        })
        .collect::<Result<_>>()?;

    let mut utterances = Vec::with_capacity(plan.utterances.len());
    for (d, dialog) in plan.dialogs.iter().enumerate() {
        let mut clock = dialog.start_s;
        let mut entries = Vec::new();
        for u in plan.utterances.iter().filter(|u| u.dialog == d) {
            let (performance, samples) = &rendered[u.index];
            let start_s = clock + performance.gap_s;
            let end_s = start_s + *samples as f64 / f64::from(voice::SAMPLE_RATE);
            clock = end_s;
            entries.push(annotation::Entry {
                name: &u.name,
                tag: u.tag,
                start_s,
                end_s,
                performance,
            });
            let speaker = &plan.speakers[u.speaker];
            utterances.push(SynthUtterance {
                name: u.name.clone(),
                path: wav_path(dialog, &u.name),
                tag: u.tag,
                speaker: format!("Ses{:02}{}", dialog.session, speaker.sex.letter()),
                session: dialog.session,
                dialog: dialog.name.clone(),
                improvised: dialog.improvised,
                vad: performance.vad(),
                samples: *samples,
            });
        }
        let path = out
            .join(format!("Session{}", dialog.session))
            .join("dialog")
            .join("EmoEvaluation")
            .join(format!("{}.txt", dialog.name));
        write_atomic(&path, annotation::dialog_text(&entries).as_bytes())?;
    }

    let summary = Summary { utterances };
    write_atomic(&readme, readme_text(options, &summary).as_bytes())?;
    Ok(summary)
}

fn wav_path(dialog: &plan::Dialog, utterance: &str) -> PathBuf {
    PathBuf::from(format!("Session{}", dialog.session))
        .join("sentences")
        .join("wav")
        .join(&dialog.name)
        .join(format!("{utterance}.wav"))
}

/// Accepts a missing or empty directory, or one that holds nothing but an
/// earlier synthetic corpus (which is then removed, so no stale dialog of a
/// larger corpus survives); refuses anything else.
fn prepare_directory(out: &Path) -> Result<()> {
    if !out.exists() {
        return std::fs::create_dir_all(out).map_err(|e| Error::io(out, e));
    }
    if !out.is_dir() {
        return Err(Error::config(format!(
            "{} exists and is not a directory",
            out.display()
        )));
    }
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(out).map_err(|e| Error::io(out, e))? {
        let entry = entry.map_err(|e| Error::io(out, e))?;
        entries.push(entry.file_name().to_string_lossy().into_owned());
    }
    if entries.is_empty() {
        return Ok(());
    }
    let readme = out.join(README_NAME);
    let ours = std::fs::read_to_string(&readme)
        .map(|text| text.lines().next() == Some(README_MARKER))
        .unwrap_or(false);
    if !ours {
        return Err(Error::config(format!(
            "refusing to write into {}: the directory is not empty and holds no {README_NAME} \
             of an earlier `vaeser synth` run; choose an empty or new directory",
            out.display()
        )));
    }
    let sessions: Vec<String> = (1..=plan::SESSIONS)
        .map(|s| format!("Session{s}"))
        .collect();
    if let Some(foreign) = entries
        .iter()
        .find(|e| *e != README_NAME && !sessions.contains(e))
    {
        return Err(Error::config(format!(
            "refusing to write into {}: it holds an earlier synthetic corpus but also \
             '{foreign}', which `vaeser synth` did not write",
            out.display()
        )));
    }
    for session in sessions {
        let dir = out.join(session);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
    }
    Ok(())
}

fn readme_text(options: &Options, summary: &Summary) -> String {
    let speakers = summary
        .utterances
        .iter()
        .map(|u| u.speaker.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let mut text = format!("{README_MARKER}\n\n");
    let _ = writeln!(
        text,
        "Written by `vaeser synth --seed {} --size {}` (vaeser {}). The audio is synthetic,\n\
         speech-like but not speech: a formant synthesiser with a glottal source, a pitch\n\
         contour, moving formants, syllables and pauses, and background noise. Emotions\n\
         change pitch level and range, speaking rate, loudness, spectral tilt and voice\n\
         quality; speakers differ in pitch and formants. It exists so that every vaeser\n\
         command runs without real data; results on it say nothing about real speech.\n",
        options.seed,
        options.size.name(),
        env!("CARGO_PKG_VERSION"),
    );
    let _ = writeln!(text, "seed: {}", options.seed);
    let _ = writeln!(text, "size: {}", options.size.name());
    let _ = writeln!(
        text,
        "utterances: {} ({})",
        summary.utterances.len(),
        summary.counts_line()
    );
    let _ = writeln!(text, "speakers: {speakers} in {} sessions", plan::SESSIONS);
    let _ = writeln!(
        text,
        "audio: 16 kHz mono 16-bit PCM, {:.1} s in total",
        summary.seconds()
    );
    let _ = writeln!(
        text,
        "\nLayout (IEMOCAP_full_release): SessionN/sentences/wav/<dialog>/<utterance>.wav and\n\
         SessionN/dialog/EmoEvaluation/<dialog>.txt. The labels fru and xxx are not among the\n\
         four classes and are skipped by the loader; hap and exc together are 'happy'.\n\
         Load it with `--corpus synth`."
    );
    text
}
