//! The layout of the synthetic corpus: sessions, speakers, dialogs and which
//! speaker says which labelled utterance where, in the IEMOCAP naming scheme.
//!
//! Each of the 5 sessions has a female and a male actor who both speak in
//! every dialog (so `Ses01F_impro01_M003` is the male actor of session 1).
//! Each speaker's label quota is split evenly between improvised and scripted
//! dialogs, so every session holds every class in both subsets.

use super::emotion::{Recording, Sex, Speaker, Tag};
use super::Size;
use crate::rng;
use rand::seq::SliceRandom;
use rand::Rng;

pub const SESSIONS: u32 = 5;

/// IEMOCAP's improvisation and script names (with their `a`/`b` variants).
const IMPRO_NAMES: [&str; 10] = [
    "impro01", "impro02", "impro03", "impro04", "impro05a", "impro05b", "impro06", "impro07",
    "impro08a", "impro08b",
];
const SCRIPT_NAMES: [&str; 10] = [
    "script01_1",
    "script01_1b",
    "script01_2",
    "script01_3",
    "script02_1",
    "script02_1a",
    "script02_2",
    "script03_1",
    "script03_2",
    "script03_2b",
];

#[derive(Clone, Debug, PartialEq)]
pub struct Dialog {
    /// 1-based session number.
    pub session: u32,
    /// e.g. `Ses03M_impro05a`.
    pub name: String,
    pub improvised: bool,
    pub recording: Recording,
    /// Time of the dialog's first utterance's preceding silence (s).
    pub start_s: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Planned {
    /// Position in the corpus; keys the utterance's random stream.
    pub index: usize,
    pub dialog: usize,
    /// e.g. `Ses03M_impro05a_F002`.
    pub name: String,
    pub speaker: usize,
    pub tag: Tag,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Session `s` (1-based) has speakers `2(s-1)` (female) and `2(s-1)+1`.
    pub speakers: Vec<Speaker>,
    pub dialogs: Vec<Dialog>,
    /// In dialog order, and within a dialog in speaking order.
    pub utterances: Vec<Planned>,
}

impl Size {
    /// Utterances per speaker and label.
    fn quota(self) -> Vec<(Tag, usize)> {
        match self {
            Size::Small => vec![
                (Tag::Neu, 6),
                (Tag::Hap, 4),
                (Tag::Exc, 2),
                (Tag::Sad, 5),
                (Tag::Ang, 5),
                (Tag::Fru, 2),
                (Tag::Xxx, 1),
            ],
            // IEMOCAP's proportions among the four classes (neu 1708,
            // hap+exc 1636, ang 1103, sad 1084) at about a third of its size.
            Size::Full => vec![
                (Tag::Neu, 57),
                (Tag::Hap, 20),
                (Tag::Exc, 34),
                (Tag::Sad, 36),
                (Tag::Ang, 37),
                (Tag::Fru, 30),
                (Tag::Xxx, 30),
            ],
        }
    }

    /// Dialogs of each kind (improvised, scripted) per session.
    fn dialogs_per_kind(self) -> usize {
        match self {
            Size::Small => 2,
            Size::Full => 6,
        }
    }

    /// Range of utterance durations (s).
    pub fn duration_s(self) -> (f64, f64) {
        match self {
            Size::Small => (1.0, 2.5),
            Size::Full => (1.2, 4.5),
        }
    }
}

/// Lays out the corpus; everything random here comes from streams of `seed`.
pub fn plan(seed: u64, size: Size) -> Plan {
    let mut speakers = Vec::new();
    let mut dialogs = Vec::new();
    let mut utterances = Vec::new();
    let per_kind = size.dialogs_per_kind();
    for session in 1..=SESSIONS {
        let mut layout = rng::stream(seed, "synth-layout", session, 0);
        let first_speaker = speakers.len();
        for (i, sex) in [Sex::Female, Sex::Male].into_iter().enumerate() {
            let mut r = rng::stream(seed, "synth-speaker", session, i as u32);
            speakers.push(Speaker::new(sex, &mut r));
        }
        // Dialog names: `per_kind` distinct improvisations and scripts, each
        // led alternately by the female and the male actor.
        let first_dialog = dialogs.len();
        for improvised in [true, false] {
            let names = if improvised {
                &IMPRO_NAMES
            } else {
                &SCRIPT_NAMES
            };
            let mut chosen: Vec<&str> = names
                .choose_multiple(&mut layout, per_kind)
                .copied()
                .collect();
            chosen.sort_unstable();
            let lead_offset = layout.gen_range(0..2);
            for (k, name) in chosen.into_iter().enumerate() {
                let lead = if (k + lead_offset) % 2 == 0 { 'F' } else { 'M' };
                let d = dialogs.len() as u32;
                let mut r = rng::stream(seed, "synth-recording", d, 0);
                dialogs.push(Dialog {
                    session,
                    name: format!("Ses{session:02}{lead}_{name}"),
                    improvised,
                    recording: Recording::new(&mut r),
                    start_s: r.gen_range(1.0..6.0),
                });
            }
        }

        // Each speaker's tags, split between the two kinds and dealt to that
        // kind's dialogs in turn.
        let mut turns: Vec<[Vec<Tag>; 2]> = vec![[Vec::new(), Vec::new()]; 2 * per_kind];
        for side in [0usize, 1] {
            let mut by_kind: [Vec<Tag>; 2] = [Vec::new(), Vec::new()];
            for (tag, count) in size.quota() {
                let impro = if count % 2 == 1 && layout.gen_bool(0.5) {
                    count / 2 + 1
                } else {
                    count / 2
                };
                by_kind[0].extend(std::iter::repeat(tag).take(impro));
                by_kind[1].extend(std::iter::repeat(tag).take(count - impro));
            }
            for (kind, mut tags) in by_kind.into_iter().enumerate() {
                tags.shuffle(&mut layout);
                let offset = layout.gen_range(0..per_kind);
                for (j, tag) in tags.into_iter().enumerate() {
                    turns[kind * per_kind + (j + offset) % per_kind][side].push(tag);
                }
            }
        }

        // Interleave the two actors' turns in each dialog; each actor's
        // utterances are numbered from 000 within the dialog.
        for (d, sides) in turns.iter().enumerate() {
            let dialog = first_dialog + d;
            let mut next = [0usize; 2];
            while next[0] + next[1] < sides[0].len() + sides[1].len() {
                let left = [sides[0].len() - next[0], sides[1].len() - next[1]];
                let side = if layout.gen_range(0..left[0] + left[1]) < left[0] {
                    0
                } else {
                    1
                };
                let speaker = first_speaker + side;
                let letter = speakers[speaker].sex.letter();
                let name = format!("{}_{letter}{:03}", dialogs[dialog].name, next[side]);
                utterances.push(Planned {
                    index: utterances.len(),
                    dialog,
                    name,
                    speaker,
                    tag: sides[side][next[side]],
                });
                next[side] += 1;
            }
        }
    }
    Plan {
        speakers,
        dialogs,
        utterances,
    }
}
