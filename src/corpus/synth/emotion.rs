//! How speakers and emotions shape an utterance of the synthetic corpus: the
//! acoustic settings of each emotion, per-speaker voices, and the raters'
//! categorical and dimensional (V/A/D) judgements.
//!
//! Emotions move the parameters that they move in acted speech (angry: loud,
//! high, pressed voice with a flat spectral tilt, fast; sad: soft, low, narrow
//! pitch range, slow, lax voice with a steep tilt, breathy; happy: high with a
//! wide range, fast; neutral in the middle), but every setting also varies per
//! speaker (how expressive, how loud, how fast), per recording (gain, noise)
//! and per utterance, so that the classes overlap as in real corpora.

use super::voice::{Delivery, Voice};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The majority label of an utterance, as IEMOCAP writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tag {
    /// Neutral (`neu`).
    Neu,
    /// Happy (`hap`); the categorical task merges it with excited.
    Hap,
    /// Excited (`exc`); counted as happy by the categorical task.
    Exc,
    /// Sad (`sad`).
    Sad,
    /// Angry (`ang`).
    Ang,
    /// Frustrated: not one of the four classes; the categorical task leaves
    /// it out, the dimensional tasks use its ratings.
    Fru,
    /// No majority among the raters; left out like `Fru`.
    Xxx,
}

impl Tag {
    /// Every tag, in the order summaries list them.
    pub const ALL: [Tag; 7] = [
        Tag::Neu,
        Tag::Hap,
        Tag::Exc,
        Tag::Sad,
        Tag::Ang,
        Tag::Fru,
        Tag::Xxx,
    ];

    /// The label field of the annotation line.
    pub fn code(self) -> &'static str {
        match self {
            Tag::Neu => "neu",
            Tag::Hap => "hap",
            Tag::Exc => "exc",
            Tag::Sad => "sad",
            Tag::Ang => "ang",
            Tag::Fru => "fru",
            Tag::Xxx => "xxx",
        }
    }

    /// The word a categorical evaluator line uses for it.
    fn evaluator_word(self) -> &'static str {
        match self {
            Tag::Neu => "Neutral",
            Tag::Hap => "Happiness",
            Tag::Exc => "Excited",
            Tag::Sad => "Sadness",
            Tag::Ang => "Anger",
            Tag::Fru | Tag::Xxx => "Frustration",
        }
    }
}

/// Evaluator words for emotions that never win a majority here.
const OTHER_WORDS: [&str; 4] = ["Surprise", "Fear", "Disgust", "Other"];

#[derive(Clone, Copy, Debug)]
struct Profile {
    pitch_st: f64,
    range_st: f64,
    syllables_per_s: f64,
    level_db: f64,
    closure: f64,
    tilt: f64,
    jitter: f64,
    shimmer: f64,
    breath: f64,
    /// Formant scaling (smiling raises formants) and articulation (vowel
    /// targets pulled towards or pushed away from schwa).
    formant_shift: f64,
    articulation: f64,
    /// Typical valence, arousal, dominance on the 1..5 scale (IEMOCAP-like).
    vad: [f64; 3],
}

fn profile(tag: Tag) -> Profile {
    match tag {
        Tag::Neu | Tag::Xxx => Profile {
            pitch_st: 0.0,
            range_st: 3.0,
            syllables_per_s: 4.4,
            level_db: 0.0,
            closure: 0.25,
            tilt: 0.35,
            jitter: 0.006,
            shimmer: 0.03,
            breath: 0.04,
            formant_shift: 1.0,
            articulation: 1.0,
            vad: [2.95, 2.75, 2.85],
        },
        Tag::Hap => Profile {
            pitch_st: 3.5,
            range_st: 7.0,
            syllables_per_s: 5.2,
            level_db: 3.5,
            closure: 0.2,
            tilt: 0.28,
            jitter: 0.009,
            shimmer: 0.04,
            breath: 0.04,
            formant_shift: 1.06,
            articulation: 1.1,
            vad: [3.9, 3.05, 3.0],
        },
        Tag::Exc => Profile {
            pitch_st: 3.5,
            range_st: 6.5,
            syllables_per_s: 5.3,
            level_db: 4.0,
            closure: 0.17,
            tilt: 0.25,
            jitter: 0.011,
            shimmer: 0.045,
            breath: 0.03,
            formant_shift: 1.06,
            articulation: 1.15,
            vad: [3.8, 3.6, 3.35],
        },
        Tag::Sad => Profile {
            pitch_st: -2.0,
            range_st: 1.5,
            syllables_per_s: 3.3,
            level_db: -6.0,
            closure: 0.35,
            tilt: 0.6,
            jitter: 0.012,
            shimmer: 0.06,
            breath: 0.12,
            formant_shift: 0.97,
            articulation: 0.7,
            vad: [2.15, 2.45, 2.6],
        },
        Tag::Ang => Profile {
            pitch_st: 3.0,
            range_st: 3.5,
            syllables_per_s: 5.3,
            level_db: 7.0,
            closure: 0.1,
            tilt: 0.1,
            jitter: 0.015,
            shimmer: 0.06,
            breath: 0.02,
            formant_shift: 1.02,
            articulation: 1.25,
            vad: [1.85, 3.65, 3.85],
        },
        Tag::Fru => Profile {
            pitch_st: 1.0,
            range_st: 3.0,
            syllables_per_s: 4.7,
            level_db: 3.0,
            closure: 0.16,
            tilt: 0.22,
            jitter: 0.012,
            shimmer: 0.05,
            breath: 0.05,
            formant_shift: 1.0,
            articulation: 1.1,
            vad: [2.05, 3.25, 3.35],
        },
    }
}

/// Scale of the per-utterance scatter of every acoustic setting around its
/// emotion's value. It sets how much the emotions overlap: tuned with
/// `examples/synth_separability.rs` so that simple classifiers on LogMel
/// statistics land clearly above chance and clearly below 100% UA.
const SCATTER: f64 = 0.6;

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
}

impl Sex {
    pub fn letter(self) -> char {
        match self {
            Sex::Female => 'F',
            Sex::Male => 'M',
        }
    }
}

/// One actor of the corpus.
#[derive(Clone, Debug, PartialEq)]
pub struct Speaker {
    pub sex: Sex,
    pub voice: Voice,
    rate_factor: f64,
    level_db: f64,
    tilt_offset: f64,
    /// How far this actor moves from neutral when portraying an emotion.
    expressiveness: f64,
}

impl Speaker {
    pub fn new(sex: Sex, rng: &mut ChaCha8Rng) -> Speaker {
        let (f0, scale) = match sex {
            Sex::Female => (205.0 * (0.08 * normal(rng)).exp(), 1.17),
            Sex::Male => (118.0 * (0.1 * normal(rng)).exp(), 1.0),
        };
        Speaker {
            sex,
            voice: Voice {
                f0_hz: f0,
                formant_scale: scale * (0.035 * normal(rng)).exp(),
            },
            rate_factor: (0.08 * normal(rng)).exp(),
            level_db: 1.5 * normal(rng),
            tilt_offset: 0.05 * normal(rng),
            expressiveness: (0.15 * normal(rng)).exp(),
        }
    }
}

/// The conditions of one recorded dialog.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Recording {
    pub gain_db: f64,
    pub noise_db: f64,
}

impl Recording {
    pub fn new(rng: &mut ChaCha8Rng) -> Recording {
        Recording {
            gain_db: 1.5 * normal(rng),
            noise_db: rng.gen_range(-58.0..-44.0),
        }
    }
}

/// One rater's dimensional scores (valence, activation, dominance, 1..5).
pub type Rating = [u8; 3];

/// An utterance as performed and judged.
#[derive(Clone, Debug, PartialEq)]
pub struct Performance {
    pub delivery: Delivery,
    /// Categorical evaluator lines: (evaluator name, word).
    pub categorical: Vec<(String, &'static str)>,
    /// Dimensional evaluator lines: (evaluator name, scores).
    pub ratings: Vec<(String, Rating)>,
    /// Silence before the utterance in its dialog (s).
    pub gap_s: f64,
}

impl Performance {
    /// Rater means of valence, activation and dominance.
    pub fn vad(&self) -> [f64; 3] {
        let mut sum = [0.0; 3];
        for (_, r) in &self.ratings {
            for (s, &v) in sum.iter_mut().zip(r) {
                *s += f64::from(v);
            }
        }
        sum.map(|s| s / self.ratings.len() as f64)
    }
}

/// Draws how `speaker` performs an utterance labelled `tag` and how the
/// raters judge it; `duration_s` is the range of utterance lengths.
pub fn perform(
    tag: Tag,
    speaker: &Speaker,
    recording: &Recording,
    duration_s: (f64, f64),
    rng: &mut ChaCha8Rng,
) -> Performance {
    // Utterances without a majority still portray something.
    let portrayed = if tag == Tag::Xxx {
        [Tag::Neu, Tag::Hap, Tag::Exc, Tag::Sad, Tag::Ang, Tag::Fru][rng.gen_range(0..6)]
    } else {
        tag
    };
    let neutral = profile(Tag::Neu);
    let e = profile(portrayed);
    let s = SCATTER;
    let x = speaker.expressiveness * (0.2 * s * normal(rng)).exp();
    // Intensity of this rendition: moves activation in both the audio and
    // the ratings, so the dimensional labels follow the sound.
    let k = normal(rng);
    let toward = |n: f64, v: f64| n + x * (v - n);
    let delivery = Delivery {
        pitch_shift_st: toward(neutral.pitch_st, e.pitch_st) + 0.8 * k + s * normal(rng),
        pitch_range_st: (toward(neutral.range_st, e.range_st)
            * (0.3 * s * normal(rng) + 0.1 * k).exp())
        .max(0.5),
        syllables_per_s: speaker.rate_factor
            * toward(neutral.syllables_per_s, e.syllables_per_s)
            * (0.1 * s * normal(rng) + 0.04 * k).exp(),
        level_db: -26.0
            + speaker.level_db
            + recording.gain_db
            + toward(neutral.level_db, e.level_db)
            + 1.5 * k
            + 2.0 * s * normal(rng),
        closure: (toward(neutral.closure, e.closure) - 0.02 * k + 0.03 * s * normal(rng))
            .clamp(0.06, 0.5),
        tilt: (toward(neutral.tilt, e.tilt) + speaker.tilt_offset - 0.04 * k
            + 0.06 * s * normal(rng))
        .clamp(0.0, 0.9),
        jitter: toward(neutral.jitter, e.jitter).max(0.001) * (0.3 * s * normal(rng)).exp(),
        shimmer: toward(neutral.shimmer, e.shimmer).max(0.005) * (0.3 * s * normal(rng)).exp(),
        breath: toward(neutral.breath, e.breath).max(0.005) * (0.3 * s * normal(rng)).exp(),
        formant_shift: toward(neutral.formant_shift, e.formant_shift)
            * (0.015 * s * normal(rng)).exp(),
        articulation: toward(neutral.articulation, e.articulation) * (0.1 * s * normal(rng)).exp(),
        frication_db: -10.0 + 2.0 * normal(rng),
        noise_db: recording.noise_db + 1.5 * normal(rng),
        duration_s: rng.gen_range(duration_s.0..duration_s.1),
    };

    let spread = if tag == Tag::Xxx { 0.5 } else { 0.3 };
    let latent = [
        e.vad[0] + spread * normal(rng),
        e.vad[1] + 0.35 * k + spread * normal(rng),
        e.vad[2] + 0.25 * k + spread * normal(rng),
    ];
    let mut evaluators: Vec<u8> = (1..=6).collect();
    evaluators.shuffle(rng);
    let n_raters = if rng.gen_bool(0.6) { 2 } else { 3 };
    let mut raters = evaluators[..n_raters].to_vec();
    raters.sort_unstable();
    let ratings = raters
        .iter()
        .map(|&r| {
            let score = latent.map(|m| (m + 0.55 * normal(rng)).round().clamp(1.0, 5.0) as u8);
            (format!("E{r}"), score)
        })
        .collect();

    let mut judges = evaluators[..3].to_vec();
    judges.sort_unstable();
    let words = categorical_words(tag, portrayed, rng);
    let categorical = judges
        .iter()
        .zip(words)
        .map(|(&j, w)| (format!("E{j}"), w))
        .collect();

    Performance {
        delivery,
        categorical,
        ratings,
        gap_s: rng.gen_range(0.2..2.0),
    }
}

/// Three evaluators' words whose majority is `tag` (or none, for xxx).
fn categorical_words(tag: Tag, portrayed: Tag, rng: &mut ChaCha8Rng) -> Vec<&'static str> {
    let all: Vec<&'static str> = Tag::ALL[..6]
        .iter()
        .map(|t| t.evaluator_word())
        .chain(OTHER_WORDS)
        .collect();
    let mut words = if tag == Tag::Xxx {
        let mut others: Vec<&str> = all
            .iter()
            .copied()
            .filter(|&w| w != portrayed.evaluator_word())
            .collect();
        others.shuffle(rng);
        vec![portrayed.evaluator_word(), others[0], others[1]]
    } else {
        let w = tag.evaluator_word();
        let others: Vec<&str> = all.iter().copied().filter(|&o| o != w).collect();
        let third = if rng.gen_bool(0.5) {
            w
        } else {
            others[rng.gen_range(0..others.len())]
        };
        vec![w, w, third]
    };
    words.shuffle(rng);
    words
}
