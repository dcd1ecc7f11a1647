//! A small formant speech synthesiser for the synthetic corpus.
//!
//! Klatt-style source-filter model: a Rosenberg glottal pulse train (with
//! jitter, shimmer and aspiration) whose period follows a pitch contour
//! (declination, accents on stressed syllables, a boundary tone), a spectral
//! tilt filter, a cascade of four formant resonators whose targets move from
//! phone to phone, and a separate frication branch for consonants. Phones are
//! grouped into syllables and phrases, so the energy envelope is modulated at
//! the syllable rate. The signal is then scaled to a requested speech level
//! and mixed with background noise.
//!
//! It is not meant to be intelligible, only to give LogMel features the
//! structure of speech (harmonics, formants, syllabic energy, pauses) and to
//! let emotion and speaker change the acoustic parameters that they change in
//! real speech.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// Output sample rate (Hz).
pub const SAMPLE_RATE: u32 = 16_000;
const FS: f64 = SAMPLE_RATE as f64;
/// Control parameters are updated once per block (2.5 ms): smooth enough for
/// formant and pitch movements, and it keeps trigonometry out of the sample loop.
const BLOCK: usize = 40;

/// What stays fixed for one speaker.
#[derive(Clone, Debug, PartialEq)]
pub struct Voice {
    /// Mean pitch of neutral speech (Hz).
    pub f0_hz: f64,
    /// Vocal tract length factor applied to every formant (1 = adult male).
    pub formant_scale: f64,
}

/// How one utterance is spoken: the voice's settings moved by emotion,
/// intensity and chance.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Mean pitch relative to the voice's, in semitones.
    pub pitch_shift_st: f64,
    /// Height of pitch accents, in semitones.
    pub pitch_range_st: f64,
    /// Speaking rate.
    pub syllables_per_s: f64,
    /// RMS level of the vowels, dB relative to full scale.
    pub level_db: f64,
    /// Closing phase of the glottal pulse as a fraction of the period: a
    /// short, abrupt closure (pressed voice) gives more high-frequency energy.
    pub closure: f64,
    /// Coefficient of a one-pole low-pass on the source, 0..1: higher is a
    /// steeper spectral tilt (soft, lax voice).
    pub tilt: f64,
    /// Standard deviation of the relative period-to-period perturbation.
    pub jitter: f64,
    /// Standard deviation of the relative period-to-period amplitude change.
    pub shimmer: f64,
    /// Aspiration noise relative to the voiced source (breathiness).
    pub breath: f64,
    /// Factor on every formant of this utterance (smiling shortens the
    /// vocal tract and raises them).
    pub formant_shift: f64,
    /// How far vowel targets lie from the neutral vowel: below 1 is slurred,
    /// above 1 hyperarticulated.
    pub articulation: f64,
    /// Level of fricatives relative to vowels (dB).
    pub frication_db: f64,
    /// RMS level of the background noise, dB relative to full scale.
    pub noise_db: f64,
    /// Approximate duration of the whole utterance, silences included (s).
    pub duration_s: f64,
}

/// Formants of an adult male vocal tract (Hz), F1..F4.
type Formants = [f64; 4];

const VOWELS: [Formants; 10] = [
    [270.0, 2290.0, 3010.0, 3500.0], // i
    [390.0, 1990.0, 2550.0, 3500.0], // I
    [530.0, 1840.0, 2480.0, 3500.0], // E
    [660.0, 1720.0, 2410.0, 3500.0], // ae
    [730.0, 1090.0, 2440.0, 3400.0], // a
    [570.0, 840.0, 2410.0, 3400.0],  // O
    [440.0, 1020.0, 2240.0, 3400.0], // U
    [300.0, 870.0, 2240.0, 3400.0],  // u
    [640.0, 1190.0, 2390.0, 3400.0], // V
    [500.0, 1500.0, 2500.0, 3500.0], // schwa
];

#[derive(Clone, Copy, Debug)]
enum Consonant {
    /// Voiceless fricative with its noise centre (Hz) and bandwidth factor.
    Fricative {
        centre: f64,
        q: f64,
    },
    /// Voiced fricative: voicing and frication together.
    VoicedFricative {
        centre: f64,
    },
    /// /h/: aspiration through the vocal tract.
    Aspirate,
    /// Stop: closure, burst at `centre`, optional aspiration.
    Stop {
        centre: f64,
        voiced: bool,
    },
    Nasal {
        formants: Formants,
    },
    Approximant {
        formants: Formants,
    },
}

const CONSONANTS: [Consonant; 16] = [
    Consonant::Fricative {
        centre: 5200.0,
        q: 2.5,
    }, // s
    Consonant::Fricative {
        centre: 3000.0,
        q: 2.5,
    }, // sh
    Consonant::Fricative {
        centre: 4500.0,
        q: 0.6,
    }, // f
    Consonant::VoicedFricative { centre: 5000.0 }, // z
    Consonant::Aspirate,                           // h
    Consonant::Stop {
        centre: 900.0,
        voiced: false,
    }, // p
    Consonant::Stop {
        centre: 4000.0,
        voiced: false,
    }, // t
    Consonant::Stop {
        centre: 2200.0,
        voiced: false,
    }, // k
    Consonant::Stop {
        centre: 900.0,
        voiced: true,
    }, // b
    Consonant::Stop {
        centre: 3500.0,
        voiced: true,
    }, // d
    Consonant::Nasal {
        formants: [250.0, 1100.0, 2300.0, 3400.0],
    }, // m
    Consonant::Nasal {
        formants: [250.0, 1600.0, 2600.0, 3400.0],
    }, // n
    Consonant::Approximant {
        formants: [360.0, 1300.0, 2700.0, 3400.0],
    }, // l
    Consonant::Approximant {
        formants: [310.0, 1060.0, 1380.0, 3300.0],
    }, // r
    Consonant::Approximant {
        formants: [290.0, 610.0, 2150.0, 3300.0],
    }, // w
    Consonant::Approximant {
        formants: [260.0, 2070.0, 3020.0, 3500.0],
    }, // j
];

/// One stretch of constant targets.
#[derive(Clone, Debug)]
struct Phone {
    len: usize,
    /// Formant targets (male scale); `None` keeps the previous targets
    /// (closures and silences do not move the tract).
    formants: Option<Formants>,
    /// Amplitude of the glottal source (linear, before level scaling).
    voicing: f64,
    /// Aspiration noise injected at the source (goes through the formants).
    aspiration: f64,
    /// Frication noise amplitude and its band.
    frication: f64,
    frication_centre: f64,
    frication_q: f64,
    /// Pitch target relative to the phrase line (semitones).
    pitch_st: f64,
    /// Whether this is the nucleus of a syllable (used to measure level).
    vowel: bool,
}

impl Phone {
    fn silence(len: usize) -> Phone {
        Phone {
            len,
            formants: None,
            voicing: 0.0,
            aspiration: 0.0,
            frication: 0.0,
            frication_centre: 4000.0,
            frication_q: 1.0,
            pitch_st: 0.0,
            vowel: false,
        }
    }
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// Samples in `ms` milliseconds lengthened by `stretch` (at least one).
fn samples(stretch: f64, ms: f64) -> usize {
    (ms * stretch * FS / 1000.0).round().max(1.0) as usize
}

/// Appends the phones of one consonant; `stretch` scales durations.
fn push_consonant(phones: &mut Vec<Phone>, c: Consonant, stretch: f64, rng: &mut ChaCha8Rng) {
    let jitter_len = |rng: &mut ChaCha8Rng, base: f64| base * (1.0 + 0.2 * normal(rng)).max(0.5);
    match c {
        Consonant::Fricative { centre, q } => {
            let mut p = Phone::silence(samples(stretch, jitter_len(rng, 95.0)));
            p.frication = 1.0;
            p.frication_centre = centre;
            p.frication_q = q;
            phones.push(p);
        }
        Consonant::VoicedFricative { centre } => {
            let mut p = Phone::silence(samples(stretch, jitter_len(rng, 75.0)));
            p.voicing = 0.35;
            p.frication = 0.6;
            p.frication_centre = centre;
            p.frication_q = 2.0;
            p.formants = Some([280.0, 1600.0, 2600.0, 3400.0]);
            phones.push(p);
        }
        Consonant::Aspirate => {
            let mut p = Phone::silence(samples(stretch, jitter_len(rng, 60.0)));
            p.aspiration = 0.8;
            phones.push(p);
        }
        Consonant::Stop { centre, voiced } => {
            let mut closure = Phone::silence(samples(stretch, jitter_len(rng, 50.0)));
            if voiced {
                closure.voicing = 0.12;
            }
            phones.push(closure);
            let mut burst = Phone::silence(samples(1.0, 12.0));
            burst.frication = 1.4;
            burst.frication_centre = centre;
            burst.frication_q = 0.9;
            phones.push(burst);
            if !voiced {
                let mut aspiration = Phone::silence(samples(stretch, jitter_len(rng, 30.0)));
                aspiration.aspiration = 0.6;
                phones.push(aspiration);
            }
        }
        Consonant::Nasal { formants } => {
            let mut p = Phone::silence(samples(stretch, jitter_len(rng, 65.0)));
            p.voicing = 0.35;
            p.formants = Some(formants);
            phones.push(p);
        }
        Consonant::Approximant { formants } => {
            let mut p = Phone::silence(samples(stretch, jitter_len(rng, 55.0)));
            p.voicing = 0.6;
            p.formants = Some(formants);
            phones.push(p);
        }
    }
}

/// The phone sequence of an utterance: leading silence, phrases of syllables
/// separated by pauses, a phrase-final boundary tone, trailing silence.
fn plan_phones(d: &Delivery, rng: &mut ChaCha8Rng) -> Vec<Phone> {
    // The nominal syllable below lasts about 0.22 s (4.6 syllables/s).
    let stretch = 4.6 / d.syllables_per_s.clamp(1.5, 9.0);
    let total = (d.duration_s * FS) as usize;
    let lead = samples(1.0, rng.gen_range(80.0..220.0));
    let trail = samples(1.0, rng.gen_range(80.0..200.0));
    let mut phones = vec![Phone::silence(lead)];
    let mut used = lead;
    let mut in_phrase = 0usize;
    let mut phrase_len = rng.gen_range(3..8);
    let mut last_vowel = usize::MAX;
    while used + trail < total {
        let start = phones.len();
        let onset = match rng.gen_range(0.0..1.0) {
            x if x < 0.2 => 0,
            x if x < 0.85 => 1,
            _ => 2,
        };
        for _ in 0..onset {
            let c = CONSONANTS[rng.gen_range(0..CONSONANTS.len())];
            push_consonant(&mut phones, c, stretch, rng);
        }
        let stressed = rng.gen_bool(0.35);
        let phrase_final = in_phrase + 1 == phrase_len;
        let mut vowel_ms = 115.0 * (1.0 + 0.2 * normal(rng)).max(0.5);
        if stressed {
            vowel_ms *= 1.35;
        }
        if phrase_final {
            vowel_ms *= 1.4;
        }
        let mut vowel = Phone::silence(samples(stretch, vowel_ms));
        vowel.formants = Some(VOWELS[rng.gen_range(0..VOWELS.len())]);
        let gain_db = 1.5 * normal(rng) + if stressed { 3.0 } else { 0.0 };
        vowel.voicing = 10f64.powf(gain_db / 20.0);
        vowel.pitch_st = if stressed {
            d.pitch_range_st * rng.gen_range(0.4..1.0)
        } else {
            d.pitch_range_st * 0.15 * normal(rng)
        };
        vowel.vowel = true;
        last_vowel = phones.len();
        phones.push(vowel);
        if rng.gen_bool(0.45) {
            let c = CONSONANTS[rng.gen_range(0..CONSONANTS.len())];
            push_consonant(&mut phones, c, stretch, rng);
        }
        used += phones[start..].iter().map(|p| p.len).sum::<usize>();
        in_phrase += 1;
        if phrase_final && used + trail < total {
            let pause = samples(stretch, rng.gen_range(120.0..320.0));
            phones.push(Phone::silence(pause));
            used += pause;
            in_phrase = 0;
            phrase_len = rng.gen_range(3..8);
        }
    }
    // Boundary tone: mostly a fall, sometimes a question-like rise.
    if last_vowel != usize::MAX {
        let rise = rng.gen_bool(0.2);
        phones[last_vowel].pitch_st = if rise {
            d.pitch_range_st * 0.8
        } else {
            -d.pitch_range_st * 0.6
        };
    }
    phones.push(Phone::silence(trail));
    phones
}

/// Glottal flow of a Rosenberg pulse at `phase` in [0, 1): a raised-cosine
/// opening over 40% of the period, a quarter-cosine closing over `closure`.
fn glottal_flow(phase: f64, closure: f64) -> f64 {
    const OPEN: f64 = 0.4;
    if phase < OPEN {
        0.5 * (1.0 - (PI * phase / OPEN).cos())
    } else if phase < OPEN + closure {
        (0.5 * PI * (phase - OPEN) / closure).cos()
    } else {
        0.0
    }
}

/// A two-pole resonator with unit gain at 0 Hz (Klatt 1980).
#[derive(Clone, Copy, Default)]
struct Resonator {
    a: f64,
    b: f64,
    c: f64,
    y1: f64,
    y2: f64,
}

impl Resonator {
    fn tune(&mut self, freq: f64, bandwidth: f64) {
        let r = (-PI * bandwidth / FS).exp();
        self.c = -r * r;
        self.b = 2.0 * r * (2.0 * PI * freq / FS).cos();
        self.a = 1.0 - self.b - self.c;
    }
    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// A band-pass biquad with 0 dB peak gain (RBJ cookbook), for frication.
#[derive(Clone, Copy, Default)]
struct BandPass {
    b0: f64,
    a1: f64,
    a2: f64,
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
}

impl BandPass {
    fn tune(&mut self, centre: f64, q: f64) {
        let w0 = 2.0 * PI * centre.min(0.45 * FS) / FS;
        let alpha = w0.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        self.b0 = alpha / a0;
        self.a1 = -2.0 * w0.cos() / a0;
        self.a2 = (1.0 - alpha) / a0;
    }
    #[inline]
    fn step(&mut self, x: f64) -> f64 {
        let y = self.b0 * (x - self.x2) - self.a1 * self.y1 - self.a2 * self.y2;
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// One-pole smoothing towards a target, with time constant `tau_s`, per block.
fn smoothing(tau_s: f64) -> f64 {
    (-(BLOCK as f64) / (FS * tau_s)).exp()
}

/// Synthesises one utterance; samples in [-1, 1] at `SAMPLE_RATE`.
pub fn render(voice: &Voice, d: &Delivery, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let phones = plan_phones(d, rng);
    let n: usize = phones.iter().map(|p| p.len).sum();
    let n_blocks = n.div_ceil(BLOCK);
    let mut voiced = vec![0.0f64; n];
    let mut fric = vec![0.0f64; n];
    // Which blocks are vowels and which frication, to measure their levels.
    let mut vowel_block = vec![false; n_blocks];
    let mut fric_block = vec![false; n_blocks];

    let k_formant = smoothing(0.018);
    let k_amp = smoothing(0.006);
    let k_pitch = smoothing(0.045);
    let bandwidths = [70.0, 95.0, 140.0, 220.0];
    let mut formants = phones.iter().find_map(|p| p.formants).unwrap_or(VOWELS[9]);
    let (mut voicing, mut aspiration, mut frication, mut pitch) = (0.0, 0.0, 0.0, 0.0);
    let mut tract = [Resonator::default(); 4];
    let mut band = BandPass::default();
    let mut tuned_band = (0.0, 0.0);
    let mut phase = 0.0f64;
    let mut period_factor = 1.0f64;
    let mut pulse_gain = 1.0f64;
    let mut previous_flow = 0.0f64;
    let mut tilted = 0.0f64;
    // Slow random pitch drift (semitones), a smoothed random walk.
    let mut drift = 0.0f64;
    let mut drift_target = 0.0f64;

    let mut phone_index = 0usize;
    let mut phone_end = phones[0].len;
    let declination_st = 0.35 * d.pitch_range_st.max(1.0);
    for block in 0..n_blocks {
        let start = block * BLOCK;
        let end = (start + BLOCK).min(n);
        while start >= phone_end && phone_index + 1 < phones.len() {
            phone_index += 1;
            phone_end += phones[phone_index].len;
        }
        let p = &phones[phone_index];
        if let Some(target) = p.formants {
            for ((f, t), schwa) in formants.iter_mut().zip(target).zip(VOWELS[9]) {
                let t = schwa + d.articulation * (t - schwa);
                *f = t + (*f - t) * k_formant;
            }
        }
        voicing = p.voicing + (voicing - p.voicing) * k_amp;
        aspiration = p.aspiration + (aspiration - p.aspiration) * k_amp;
        frication = p.frication + (frication - p.frication) * k_amp;
        pitch = p.pitch_st + (pitch - p.pitch_st) * k_pitch;
        if block % 20 == 0 {
            drift_target = 0.6 * normal(rng);
        }
        drift = drift_target + (drift - drift_target) * smoothing(0.15);
        vowel_block[block] = p.vowel;
        fric_block[block] = p.frication > 0.5;
        if (p.frication_centre, p.frication_q) != tuned_band {
            band.tune(p.frication_centre, p.frication_q);
            tuned_band = (p.frication_centre, p.frication_q);
        }
        for (r, (&f, &bw)) in tract.iter_mut().zip(formants.iter().zip(&bandwidths)) {
            let scale = voice.formant_scale * d.formant_shift;
            let hz = (f * scale).clamp(150.0, 0.46 * FS);
            r.tune(hz, bw * scale);
        }
        let progress = start as f64 / n as f64;
        let contour = d.pitch_shift_st + declination_st * (0.5 - progress) + pitch + drift;
        let f0 = voice.f0_hz * 2f64.powf(contour / 12.0);
        for i in start..end {
            phase += f0 * period_factor / FS;
            if phase >= 1.0 {
                phase -= phase.floor();
                period_factor = 1.0 + d.jitter * normal(rng);
                pulse_gain = (1.0 + d.shimmer * normal(rng)).max(0.1);
            }
            let flow = glottal_flow(phase, d.closure);
            // The derivative of the flow stands for flow plus lip radiation.
            let excitation = (flow - previous_flow) * pulse_gain;
            previous_flow = flow;
            // Aspiration is strongest while the glottis is open.
            let open = if phase < 0.4 + d.closure { 1.0 } else { 0.3 };
            let noise: f64 = normal(rng);
            let source =
                excitation * voicing + 0.03 * noise * (aspiration + d.breath * voicing * open);
            tilted = (1.0 - d.tilt) * source + d.tilt * tilted;
            let mut y = tilted;
            for r in tract.iter_mut() {
                y = r.step(y);
            }
            voiced[i] = y;
            fric[i] = band.step(normal(rng)) * frication;
        }
    }

    let rms_over = |signal: &[f64], blocks: &[bool]| {
        let (mut sum, mut count) = (0.0, 0usize);
        for (b, &on) in blocks.iter().enumerate() {
            if on {
                let s = &signal[b * BLOCK..((b + 1) * BLOCK).min(signal.len())];
                sum += s.iter().map(|x| x * x).sum::<f64>();
                count += s.len();
            }
        }
        if count == 0 || sum == 0.0 {
            1.0
        } else {
            (sum / count as f64).sqrt()
        }
    };
    let vowel_rms = rms_over(&voiced, &vowel_block);
    let fric_rms = rms_over(&fric, &fric_block);
    let level = 10f64.powf(d.level_db / 20.0);
    let voiced_gain = level / vowel_rms;
    let fric_gain = level * 10f64.powf(d.frication_db / 20.0) / fric_rms;
    let noise_level = 10f64.powf(d.noise_db / 20.0);
    // Background noise: a mix of white and low-passed (roughly pink) noise.
    let mut low = 0.0f64;
    voiced
        .iter()
        .zip(&fric)
        .map(|(&v, &f)| {
            let w: f64 = normal(rng);
            low = 0.95 * low + 0.05 * normal(rng) * 6.0;
            let background = noise_level * (0.5 * w + 0.85 * low);
            let x = v * voiced_gain + f * fric_gain + background;
            // A soft limiter instead of hard clipping for the loudest voices.
            let limited = if x.abs() > 0.8 {
                x.signum() * (0.8 + 0.19 * ((x.abs() - 0.8) / 0.19).tanh())
            } else {
                x
            };
            limited as f32
        })
        .collect()
}

/// Encodes samples as a 16-bit PCM mono WAV file at `SAMPLE_RATE`.
pub fn wav_bytes(samples: &[f32]) -> Result<Vec<u8>, hound::Error> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::with_capacity(44 + 2 * samples.len()));
    let mut writer = hound::WavWriter::new(&mut cursor, spec)?;
    for &s in samples {
        let v = (f64::from(s) * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
        writer.write_sample(v)?;
    }
    writer.finalize()?;
    Ok(cursor.into_inner())
}
