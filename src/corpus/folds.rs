//! Cross-validation folds: which utterances each fold holds out for testing.

use super::Utterance;
use std::collections::BTreeMap;

/// One fold: the utterances it tests on (indices into the corpus); it trains
/// on all the others.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fold {
    /// Position among the folds, from 0 (written from 1 wherever a person
    /// reads it).
    pub index: u32,
    /// The held-out group or speaker.
    pub name: String,
    /// Indices into the utterance list the folds were made from, ascending.
    pub test: Vec<usize>,
}

impl Fold {
    /// Indices of the utterances this fold trains on, in corpus order.
    pub fn train(&self, corpus_len: usize) -> Vec<usize> {
        let mut held_out = vec![false; corpus_len];
        for &i in &self.test {
            held_out[i] = true;
        }
        (0..corpus_len).filter(|&i| !held_out[i]).collect()
    }
}

/// The categorical protocol: leave one group (IEMOCAP session, RAVDESS actor
/// group, EmoDB speaker, manifest fold) out. Folds are ordered by group name
/// so that their numbering does not depend on the order files were found in.
pub fn by_group(utterances: &[Utterance]) -> Vec<Fold> {
    group_folds(utterances, |u| u.group.as_str())
}

/// The dimensional protocol: leave one speaker out.
pub fn by_speaker(utterances: &[Utterance]) -> Vec<Fold> {
    group_folds(utterances, |u| u.speaker.as_str())
}

fn group_folds<'a>(
    utterances: &'a [Utterance],
    key: impl Fn(&'a Utterance) -> &'a str,
) -> Vec<Fold> {
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, u) in utterances.iter().enumerate() {
        groups.entry(key(u)).or_default().push(i);
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(index, (name, test))| Fold {
            index: index as u32,
            name: name.to_string(),
            test,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn utterance(id: &str, group: &str, speaker: &str) -> Utterance {
        Utterance {
            id: id.into(),
            path: PathBuf::from(format!("{id}.wav")),
            label: Some(0),
            speaker: speaker.into(),
            gender: None,
            group: group.into(),
            dialog: None,
            improvised: None,
            vad: None,
        }
    }

    #[test]
    fn folds_partition_the_corpus_in_group_order() {
        let utts = vec![
            utterance("a", "g2", "s3"),
            utterance("b", "g1", "s1"),
            utterance("c", "g2", "s4"),
            utterance("d", "g1", "s2"),
        ];
        let folds = by_group(&utts);
        assert_eq!(folds.len(), 2);
        assert_eq!(
            (folds[0].name.as_str(), folds[0].test.clone()),
            ("g1", vec![1, 3])
        );
        assert_eq!(
            (folds[1].name.as_str(), folds[1].test.clone()),
            ("g2", vec![0, 2])
        );
        assert_eq!(folds[0].train(4), vec![0, 2]);
        let speakers = by_speaker(&utts);
        assert_eq!(speakers.len(), 4);
        assert_eq!(speakers[2].test, vec![0]);
    }
}
