//! The synthetic corpus: deterministic bytes whatever the thread count, the
//! IEMOCAP layout and annotation format, speech-like audio whose emotions
//! and speakers differ the way the generator promises, and a refusal to
//! write over foreign data.

#[path = "common/scratch_dirs.rs"]
mod scratch_dirs;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use vaeser::corpus::synth::{self, Options, Size, Summary, Tag};
use vaeser::corpus::{load, CorpusKind, Gender, LoadOptions};
use vaeser::sha256::Sha256;

fn temp_dir(name: &str) -> PathBuf {
    let dir = scratch_dirs::scratch_path(&format!("synth-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn generate_with_threads(dir: &Path, seed: u64, threads: usize) -> Summary {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        synth::generate(
            dir,
            &Options {
                seed,
                size: Size::Small,
            },
        )
    })
    .unwrap()
}

/// Every file under `dir`, by relative path, with the SHA-256 of its bytes.
fn hash_tree(dir: &Path) -> BTreeMap<PathBuf, [u8; 32]> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, Sha256::digest(&bytes));
            }
        }
    }
    out
}

#[test]
fn same_seed_gives_same_bytes_on_one_and_two_threads_and_another_seed_differs() {
    let (a, b, c) = (temp_dir("det-a"), temp_dir("det-b"), temp_dir("det-c"));
    generate_with_threads(&a, 7, 1);
    generate_with_threads(&b, 7, 2);
    generate_with_threads(&c, 8, 2);
    let (ha, hb, hc) = (hash_tree(&a), hash_tree(&b), hash_tree(&c));
    assert!(ha.len() > 250, "only {} files written", ha.len());
    assert_eq!(ha, hb, "1 and 2 threads wrote different corpora");
    let audio_a: BTreeSet<_> = ha
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "wav"))
        .map(|(_, h)| *h)
        .collect();
    let shared = hc.values().filter(|h| audio_a.contains(*h)).count();
    assert_eq!(
        shared, 0,
        "seeds 7 and 8 wrote {shared} identical WAV files"
    );
    for d in [a, b, c] {
        std::fs::remove_dir_all(d).unwrap();
    }
}

/// One annotation block, parsed independently of the corpus loader.
struct Annotated {
    name: String,
    label: String,
    start: f64,
    end: f64,
    vad: [f64; 3],
}

fn parse_vad(field: &str) -> Option<[f64; 3]> {
    let inner = field.strip_prefix('[')?.strip_suffix(']')?;
    let values: Vec<&str> = inner.split(", ").collect();
    if values.len() != 3 {
        return None;
    }
    let mut out = [0.0; 3];
    for (o, v) in out.iter_mut().zip(&values) {
        // Rater means are written with exactly 4 decimals.
        if v.split('.').nth(1).map(str::len) != Some(4) {
            return None;
        }
        *o = v.parse().ok()?;
    }
    Some(out)
}

fn parse_annotation(path: &Path) -> Vec<Annotated> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().enumerate();
    let (_, header) = lines.next().unwrap();
    assert!(
        header.starts_with('%'),
        "{}: header {header:?}",
        path.display()
    );
    let mut out: Vec<Annotated> = Vec::new();
    let mut dimensional: Vec<[u32; 3]> = Vec::new();
    let check_mean = |out: &[Annotated], dimensional: &mut Vec<[u32; 3]>| {
        if let Some(last) = out.last() {
            assert!(!dimensional.is_empty(), "{}: no A- lines", last.name);
            for k in 0..3 {
                let mean = dimensional.iter().map(|r| f64::from(r[k])).sum::<f64>()
                    / dimensional.len() as f64;
                assert!(
                    (mean - last.vad[k]).abs() < 1e-4,
                    "{}: bracket {:?} is not the mean of {dimensional:?}",
                    last.name,
                    last.vad
                );
            }
        }
        dimensional.clear();
    };
    for (i, line) in lines {
        let at = format!("{}:{}", path.display(), i + 1);
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            check_mean(&out, &mut dimensional);
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 4, "{at}: {line:?}");
            let times = fields[0]
                .strip_prefix('[')
                .and_then(|t| t.strip_suffix(']'))
                .unwrap();
            let (start, end) = times.split_once(" - ").unwrap();
            out.push(Annotated {
                name: fields[1].to_string(),
                label: fields[2].to_string(),
                start: start.parse().unwrap(),
                end: end.parse().unwrap(),
                vad: parse_vad(fields[3]).unwrap_or_else(|| panic!("{at}: V/A/D {:?}", fields[3])),
            });
        } else if let Some(rest) = line.strip_prefix("C-E") {
            let (_, word) = rest.split_once(":\t").unwrap();
            assert!(word.ends_with(";\t()"), "{at}: {line:?}");
        } else if let Some(rest) = line.strip_prefix("A-E") {
            let (_, body) = rest.split_once(":\t").unwrap();
            let body = body.strip_suffix(";\t()").unwrap();
            let parts: Vec<&str> = body.split("; ").collect();
            assert_eq!(parts.len(), 3, "{at}: {line:?}");
            let v = parts[0].strip_prefix("val ").unwrap().parse().unwrap();
            let a = parts[1].strip_prefix("act ").unwrap().parse().unwrap();
            let d = parts[2].strip_prefix("dom  ").unwrap().parse().unwrap();
            for x in [v, a, d] {
                assert!((1..=5).contains(&x), "{at}: score {x}");
            }
            dimensional.push([v, a, d]);
        } else {
            panic!("{at}: unexpected line {line:?}");
        }
    }
    check_mean(&out, &mut dimensional);
    out
}

#[test]
fn layout_and_annotations_follow_iemocap() {
    let dir = temp_dir("layout");
    let summary = generate_with_threads(&dir, 3, 2);
    let mut labels: BTreeMap<String, usize> = BTreeMap::new();
    let mut speakers = BTreeSet::new();
    let mut other_speaker_than_dialog = 0;
    let mut improvised = 0;
    let mut exact_three = 0;
    let mut total = 0;
    for session in 1..=5 {
        let session_dir = dir.join(format!("Session{session}"));
        let eval_dir = session_dir.join("dialog").join("EmoEvaluation");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&eval_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 4, "{}", eval_dir.display());
        for file in files {
            let dialog = file.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(dialog.starts_with(&format!("Ses{session:02}")), "{dialog}");
            let dialog_letter = dialog.chars().nth(5).unwrap();
            let entries = parse_annotation(&file);
            let mut letters = BTreeSet::new();
            let mut previous_end = 0.0;
            for e in &entries {
                total += 1;
                // SPEC §6: the dialog is the name without its last `_` field.
                let (d, last) = e.name.rsplit_once('_').unwrap();
                assert_eq!(d, dialog);
                let letter = last.chars().next().unwrap();
                assert!(letter == 'F' || letter == 'M', "{}", e.name);
                assert_eq!(last.len(), 4, "{}", e.name);
                letters.insert(letter);
                speakers.insert(format!("Ses{session:02}{letter}"));
                if letter != dialog_letter {
                    other_speaker_than_dialog += 1;
                }
                if dialog.contains("impro") {
                    improvised += 1;
                }
                assert!(e.start > previous_end && e.end > e.start, "{}", e.name);
                previous_end = e.end;
                for v in e.vad {
                    assert!((1.0..=5.0).contains(&v), "{}: {v}", e.name);
                }
                exact_three += e.vad.iter().filter(|&&v| v == 3.0).count();
                *labels.entry(e.label.clone()).or_default() += 1;

                let wav = session_dir
                    .join("sentences")
                    .join("wav")
                    .join(&dialog)
                    .join(format!("{}.wav", e.name));
                let reader = hound::WavReader::open(&wav).unwrap();
                let spec = reader.spec();
                assert_eq!(
                    (
                        spec.channels,
                        spec.sample_rate,
                        spec.bits_per_sample,
                        spec.sample_format
                    ),
                    (1, 16_000, 16, hound::SampleFormat::Int),
                    "{}",
                    wav.display()
                );
                let seconds = f64::from(reader.duration()) / 16_000.0;
                assert!(
                    (0.9..3.2).contains(&seconds),
                    "{}: {seconds} s",
                    wav.display()
                );
                assert!(
                    ((e.end - e.start) - seconds).abs() < 1e-3,
                    "{}: annotated {}..{}, audio {seconds} s",
                    e.name,
                    e.start,
                    e.end
                );
            }
            assert_eq!(
                letters.len(),
                2,
                "{dialog}: both actors speak in every dialog"
            );
        }
    }
    assert_eq!(total, summary.utterances.len());
    assert_eq!(speakers.len(), 10);
    assert!(other_speaker_than_dialog > total / 4);
    assert!(improvised > total / 4 && improvised < 3 * total / 4);
    assert!(exact_three > 10, "only {exact_three} exact 3.0 rater means");
    for label in ["neu", "hap", "exc", "sad", "ang", "fru", "xxx"] {
        assert!(
            labels.get(label).copied().unwrap_or(0) > 0,
            "no {label}: {labels:?}"
        );
    }
    let four_class: usize = ["neu", "hap", "exc", "sad", "ang"]
        .iter()
        .map(|l| labels[*l])
        .sum();
    assert!((200..=260).contains(&four_class), "{labels:?}");
    let skipped = labels["fru"] + labels["xxx"];
    assert!(skipped * 20 >= total && skipped * 5 <= total, "{labels:?}");
    assert!(std::fs::read_to_string(dir.join("README.txt"))
        .unwrap()
        .contains("seed: 3"));

    // The project's own loader reads it as the annotations say.
    let corpus = load(
        CorpusKind::Synth,
        &dir,
        &LoadOptions {
            strict: true,
            ..LoadOptions::default()
        },
    )
    .unwrap();
    assert!(corpus.skipped.is_empty(), "{:?}", corpus.skipped);
    assert!(corpus.warnings.is_empty(), "{:?}", corpus.warnings);
    assert_eq!(
        corpus.label_counts(),
        [
            labels["neu"],
            labels["hap"] + labels["exc"],
            labels["sad"],
            labels["ang"]
        ]
    );
    assert_eq!(corpus.excluded.get("fru"), Some(&labels["fru"]));
    assert_eq!(corpus.excluded.get("xxx"), Some(&labels["xxx"]));
    assert!(corpus.utterances.iter().all(|u| u.label.is_some()));
    let loaded_speakers: BTreeSet<&str> = corpus
        .utterances
        .iter()
        .map(|u| u.speaker.as_str())
        .collect();
    let groups: BTreeSet<&str> = corpus.utterances.iter().map(|u| u.group.as_str()).collect();
    assert_eq!(loaded_speakers.len(), 10, "{loaded_speakers:?}");
    assert_eq!(groups.len(), 5, "{groups:?}");
    for group in &groups {
        for improvised in [true, false] {
            let mut present = [false; 4];
            for u in corpus
                .utterances
                .iter()
                .filter(|u| u.group == *group && u.improvised == Some(improvised))
            {
                present[u.label.unwrap()] = true;
            }
            assert_eq!(
                present, [true; 4],
                "{group}, improvised {improvised}: a class is missing"
            );
        }
    }
    for u in &corpus.utterances {
        let written = summary
            .utterances
            .iter()
            .find(|w| w.name == u.id)
            .unwrap_or_else(|| panic!("{} was not written", u.id));
        let vad = u.vad.unwrap();
        assert!(
            (f64::from(vad.arousal) - written.vad[1]).abs() < 1e-4,
            "{}",
            u.id
        );
        assert_eq!(u.speaker, written.speaker);
        let sex = u.speaker.chars().last().unwrap();
        let gender = if sex == 'F' {
            Gender::Female
        } else {
            Gender::Male
        };
        assert_eq!(u.gender, Some(gender), "{}", u.id);
    }
    std::fs::remove_dir_all(dir).unwrap();
}

fn samples(dir: &Path, rel: &Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(dir.join(rel)).unwrap();
    reader
        .samples::<i16>()
        .map(|s| f32::from(s.unwrap()) / 32768.0)
        .collect()
}

fn rms_db(x: &[f32]) -> f64 {
    let power = x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64;
    10.0 * power.log10()
}

/// Median pitch (Hz) of the frames whose normalised autocorrelation peak in
/// 60..400 Hz is strong, or `None` when there are too few of them.
fn median_pitch(x: &[f32]) -> Option<f64> {
    const FRAME: usize = 640;
    let (min_lag, max_lag) = (16_000 / 400, 16_000 / 60);
    let mut pitches = Vec::new();
    for frame in x.chunks_exact(FRAME) {
        let energy: f64 = frame.iter().map(|&v| f64::from(v).powi(2)).sum();
        if energy < 1e-4 {
            continue;
        }
        let mut best = (0.0, 0);
        for lag in min_lag..=max_lag {
            let c: f64 = frame[..FRAME - lag]
                .iter()
                .zip(&frame[lag..])
                .map(|(&a, &b)| f64::from(a) * f64::from(b))
                .sum();
            let r = c / energy;
            if r > best.0 {
                best = (r, lag);
            }
        }
        if best.0 > 0.5 {
            pitches.push(16_000.0 / best.1 as f64);
        }
    }
    if pitches.len() < 5 {
        return None;
    }
    pitches.sort_by(f64::total_cmp);
    Some(pitches[pitches.len() / 2])
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn audio_is_voiced_and_emotions_and_speakers_differ_as_designed() {
    let dir = temp_dir("audio");
    let summary = generate_with_threads(&dir, 11, 2);
    let mut level: BTreeMap<Tag, Vec<f64>> = BTreeMap::new();
    let mut pitch: BTreeMap<(char, Tag), Vec<f64>> = BTreeMap::new();
    let mut voiced = 0;
    for u in &summary.utterances {
        let x = samples(&dir, &u.path);
        assert!(x.iter().all(|v| v.abs() < 1.0), "{}: clipped", u.name);
        level.entry(u.tag).or_default().push(rms_db(&x));
        if let Some(p) = median_pitch(&x) {
            voiced += 1;
            let sex = u.speaker.chars().last().unwrap();
            pitch.entry((sex, u.tag)).or_default().push(p);
        }
    }
    assert!(
        voiced * 10 >= summary.utterances.len() * 9,
        "only {voiced} of {} utterances have a measurable pitch",
        summary.utterances.len()
    );
    let l = |t| mean(&level[&t]);
    let p = |s, t| mean(&pitch[&(s, t)]);
    for t in [Tag::Neu, Tag::Hap, Tag::Exc, Tag::Sad, Tag::Ang] {
        println!(
            "{t:?}: level {:.1} dB, median pitch F {:.0} Hz, M {:.0} Hz",
            l(t),
            p('F', t),
            p('M', t)
        );
    }
    assert!(l(Tag::Ang) > l(Tag::Neu) + 3.0, "{level:?}");
    assert!(l(Tag::Neu) > l(Tag::Sad) + 3.0, "{level:?}");
    assert!(l(Tag::Hap) > l(Tag::Sad), "{level:?}");
    for t in [Tag::Neu, Tag::Hap, Tag::Sad, Tag::Ang] {
        assert!(p('F', t) > 1.4 * p('M', t), "{t:?}: {pitch:?}");
    }
    for s in ['F', 'M'] {
        assert!(p(s, Tag::Ang) > p(s, Tag::Sad) * 1.1, "{s}: {pitch:?}");
        assert!(p(s, Tag::Hap) > p(s, Tag::Neu), "{s}: {pitch:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn refuses_foreign_directories_and_replaces_an_earlier_corpus() {
    let dir = temp_dir("refuse");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let options = Options {
        seed: 1,
        size: Size::Small,
    };
    let err = synth::generate(&dir, &options).unwrap_err().to_string();
    assert!(
        err.contains("refusing") && err.contains(&dir.display().to_string()),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "wrote into it");
    std::fs::remove_file(dir.join("notes.txt")).unwrap();

    synth::generate(&dir, &options).unwrap();
    let stale = dir
        .join("Session1")
        .join("dialog")
        .join("EmoEvaluation")
        .join("Ses01F_impro99.txt");
    std::fs::write(&stale, "% stale\n").unwrap();
    let before = hash_tree(&dir);
    synth::generate(&dir, &options).unwrap();
    assert!(!stale.exists(), "a stale dialog survived regeneration");
    let mut after = hash_tree(&dir);
    after.insert(
        stale.strip_prefix(&dir).unwrap().to_path_buf(),
        before[stale.strip_prefix(&dir).unwrap()],
    );
    assert_eq!(before, after);

    std::fs::write(dir.join("extra.csv"), "x").unwrap();
    let err = synth::generate(&dir, &options).unwrap_err().to_string();
    assert!(err.contains("extra.csv"), "{err}");
    std::fs::remove_dir_all(dir).unwrap();
}
