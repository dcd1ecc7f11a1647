//! Metrics against values worked out by hand (the arithmetic is in the
//! comments, so a reader can check each expected number without a computer).

use vaeser::eval::metrics::{sample_std, Confusion, FoldSummary};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

/// truth: 0 0 0 0 1 1 2 2 2 2
/// pred:  0 0 1 2 1 0 2 2 2 1
/// rows (truth) x cols (pred): [2 1 1; 1 1 0; 0 1 3]
fn three_class_fold() -> Confusion {
    Confusion::from_labels(
        3,
        &[0, 0, 0, 0, 1, 1, 2, 2, 2, 2],
        &[0, 0, 1, 2, 1, 0, 2, 2, 2, 1],
    )
}

#[test]
fn confusion_matrix_is_indexed_truth_then_prediction() {
    let c = three_class_fold();
    assert_eq!(c.counts, vec![2, 1, 1, 1, 1, 0, 0, 1, 3]);
    assert_eq!(c.total(), 10);
    assert_eq!(c.correct(), 6);
    assert_eq!(c.support(2), 4);
    assert_eq!(c.predicted_count(0), 3);
}

#[test]
fn wa_ua_and_macro_f1_by_hand() {
    let c = three_class_fold();
    // WA = (2 + 1 + 3) / 10.
    close(c.wa(), 0.6);
    // Recalls 2/4, 1/2, 3/4; UA is their mean.
    close(c.recall(0).unwrap(), 0.5);
    close(c.ua(), (0.5 + 0.5 + 0.75) / 3.0);
    // Precisions 2/3, 1/3, 3/4.
    close(c.precision(1).unwrap(), 1.0 / 3.0);
    // F1 = 2 tp / (support + predicted): 4/7, 2/5, 6/8. Class 0 via the
    // harmonic mean of P = 2/3 and R = 1/2 gives 2 (1/3) / (7/6) = 4/7 too.
    close(c.f1(0).unwrap(), 4.0 / 7.0);
    close(c.f1(1).unwrap(), 0.4);
    close(c.f1(2).unwrap(), 0.75);
    close(c.macro_f1(), (4.0 / 7.0 + 0.4 + 0.75) / 3.0);
}

#[test]
fn absent_classes_are_left_out_of_ua_and_f1() {
    // Class 3 neither occurs nor is predicted: it has no recall and no F1.
    let c = Confusion::from_labels(4, &[0, 1, 2], &[0, 1, 1]);
    close(c.wa(), 2.0 / 3.0);
    assert_eq!(c.recall(3), None);
    assert_eq!(c.f1(3), None);
    // Recalls 1, 1, 0.
    close(c.ua(), 2.0 / 3.0);
    // F1: 2/2, 2/3, 0/1.
    close(c.macro_f1(), (1.0 + 2.0 / 3.0 + 0.0) / 3.0);

    // Class 1 is predicted but never true: no recall, but F1 = 0 counts.
    let c = Confusion::from_labels(2, &[0, 0], &[0, 1]);
    close(c.ua(), 0.5);
    close(c.macro_f1(), (2.0 / 3.0 + 0.0) / 2.0);
}

#[test]
fn empty_matrix_scores_zero() {
    let c = Confusion::new(4);
    assert_eq!(c.wa(), 0.0);
    assert_eq!(c.ua(), 0.0);
    assert_eq!(c.macro_f1(), 0.0);
}

#[test]
fn pooled_mean_and_std_over_folds() {
    let a = three_class_fold();
    // truth 0 1 2 2, pred 0 1 2 0: WA 3/4, recalls 1, 1, 1/2.
    let b = Confusion::from_labels(3, &[0, 1, 2, 2], &[0, 1, 2, 0]);
    let s = FoldSummary::from_folds(&[a, b]);
    close(s.per_fold[0].wa, 0.6);
    close(s.per_fold[1].wa, 0.75);
    close(s.per_fold[1].ua, 2.5 / 3.0);
    // Pooled counts: [3 1 1; 1 2 0; 1 1 4]: WA 9/14, recalls 3/5, 2/3, 4/6.
    assert_eq!(s.confusion.counts, vec![3, 1, 1, 1, 2, 0, 1, 1, 4]);
    close(s.pooled.wa, 9.0 / 14.0);
    close(s.pooled.ua, (0.6 + 2.0 / 3.0 + 4.0 / 6.0) / 3.0);
    // Mean of 0.6 and 0.75, sample std sqrt(2 * 0.075^2 / 1).
    close(s.mean.wa, 0.675);
    close(s.std.wa, (2.0f64 * 0.075 * 0.075).sqrt());
    close(s.mean.ua, ((1.75 / 3.0) + (2.5 / 3.0)) / 2.0);
}

#[test]
fn sample_std_by_hand() {
    // Mean 5, squared deviations 9 + 1 + 1 + 9 = 20, divided by 3.
    close(sample_std(&[2.0, 4.0, 6.0, 8.0]), (20.0f64 / 3.0).sqrt());
    assert_eq!(sample_std(&[0.7]), 0.0);
}
