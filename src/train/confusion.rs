//! The confusion matrix and the scores of SPEC §5 computed from it (WA, UA,
//! macro F1); the conventions are those stated in `eval::metrics`. Training
//! needs it for early stopping on validation UA, the reports for everything.

use serde::{Deserialize, Serialize};

/// Counts of (true class, predicted class) pairs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion {
    /// Number of classes: the matrix is `classes x classes`.
    pub classes: usize,
    /// Row-major `[truth][prediction]`, `classes * classes` counts.
    pub counts: Vec<u64>,
}

/// The three scores of one confusion matrix, as fractions in [0, 1].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Weighted accuracy: correct / total.
    pub wa: f64,
    /// Unweighted accuracy: mean recall over the classes present in the truth.
    pub ua: f64,
    /// Mean F1 over the classes present in the truth or the predictions.
    pub macro_f1: f64,
}

impl Confusion {
    /// An all-zero matrix for `classes` classes.
    pub fn new(classes: usize) -> Self {
        Confusion {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// Builds a matrix from parallel slices of true and predicted labels.
    ///
    /// # Panics
    /// If the slices differ in length or a label is out of range: both are
    /// programming errors of the caller, which produced the labels.
    pub fn from_labels(classes: usize, truth: &[usize], predicted: &[usize]) -> Self {
        assert_eq!(truth.len(), predicted.len(), "one prediction per label");
        let mut c = Confusion::new(classes);
        for (&t, &p) in truth.iter().zip(predicted) {
            c.add(t, p);
        }
        c
    }

    /// Counts one utterance of class `truth` predicted as `predicted`.
    ///
    /// # Panics
    /// If either label is `>= classes`.
    pub fn add(&mut self, truth: usize, predicted: usize) {
        assert!(
            truth < self.classes && predicted < self.classes,
            "label out of range: truth {truth}, predicted {predicted}, {} classes",
            self.classes
        );
        self.counts[truth * self.classes + predicted] += 1;
    }

    /// Adds another matrix's counts (pooling over folds).
    pub fn merge(&mut self, other: &Confusion) {
        assert_eq!(
            self.classes, other.classes,
            "pooled matrices differ in size"
        );
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }

    /// Utterances of class `truth` predicted as `predicted`.
    ///
    /// # Panics
    /// If either is not below `classes` (one out of range would otherwise
    /// read another cell of the matrix).
    pub fn get(&self, truth: usize, predicted: usize) -> u64 {
        assert!(
            truth < self.classes && predicted < self.classes,
            "label out of range: truth {truth}, predicted {predicted}, {} classes",
            self.classes
        );
        self.counts[truth * self.classes + predicted]
    }

    /// All utterances counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Utterances predicted correctly: the diagonal's sum.
    pub fn correct(&self) -> u64 {
        (0..self.classes).map(|c| self.get(c, c)).sum()
    }

    /// Number of utterances whose true class is `c`.
    pub fn support(&self, c: usize) -> u64 {
        (0..self.classes).map(|p| self.get(c, p)).sum()
    }

    /// Number of utterances predicted as `c`.
    pub fn predicted_count(&self, c: usize) -> u64 {
        (0..self.classes).map(|t| self.get(t, c)).sum()
    }

    /// Weighted accuracy: correct / total (0 for an empty matrix).
    pub fn wa(&self) -> f64 {
        ratio(self.correct(), self.total()).unwrap_or(0.0)
    }

    /// Recall of class `c`, `None` when it never occurs in the truth.
    pub fn recall(&self, c: usize) -> Option<f64> {
        ratio(self.get(c, c), self.support(c))
    }

    /// Precision of class `c`, `None` when it is never predicted.
    pub fn precision(&self, c: usize) -> Option<f64> {
        ratio(self.get(c, c), self.predicted_count(c))
    }

    /// F1 of class `c`, `None` when it neither occurs nor is predicted.
    pub fn f1(&self, c: usize) -> Option<f64> {
        let tp = self.get(c, c);
        let denominator = self.support(c) + self.predicted_count(c);
        // 2 tp / (2 tp + fp + fn) equals the harmonic mean of precision and
        // recall, and is 0 (not undefined) when tp = 0 but the class is seen.
        ratio(2 * tp, denominator)
    }

    /// Unweighted accuracy: the mean recall over classes present in the truth.
    pub fn ua(&self) -> f64 {
        mean_of_defined((0..self.classes).map(|c| self.recall(c)))
    }

    /// Macro F1 over classes present in the truth or the predictions.
    pub fn macro_f1(&self) -> f64 {
        mean_of_defined((0..self.classes).map(|c| self.f1(c)))
    }

    /// WA, UA and macro F1 together.
    pub fn scores(&self) -> Scores {
        Scores {
            wa: self.wa(),
            ua: self.ua(),
            macro_f1: self.macro_f1(),
        }
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn mean_of_defined(values: impl Iterator<Item = Option<f64>>) -> f64 {
    let defined: Vec<f64> = values.flatten().collect();
    if defined.is_empty() {
        0.0
    } else {
        mean(&defined)
    }
}

/// Arithmetic mean, summed in order (0 for no values).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}
