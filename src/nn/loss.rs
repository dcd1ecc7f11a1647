//! Losses with their gradients, checked against the shapes the caller states.
//!
//! Buffers may be larger than the shape asks for (they are sized once for the
//! largest batch and reused); the first `rows * cols` values are used. A
//! buffer that is too small, a label count that differs from `rows` or a label
//! outside `0..classes` is an [`Error::Shape`] naming the shapes.
//!
//! The loss value goes into a slot of a backend buffer (a one-value view),
//! not back to the host: a training loop gives each step its own slot and
//! downloads them all once per epoch.
//!
//! ```text
//! // Reconstruction loss of an autoencoder batch: [rows, 800].
//! nn::loss::sse(&be, rows, 800, &pred, &target, &mut dpred, be.view_mut(&mut losses, step..step + 1))?;
//! // Classifier: [rows, K] logits, one label per row (an index buffer on the backend).
//! nn::loss::softmax_xent(&be, rows, k, &logits, &labels, &mut probs, &mut dlogits, slot)?;
//! ```

use crate::backend::Backend;
use crate::error::{Error, Result};

/// Fails unless `buf` holds at least a `[rows, cols]` matrix.
pub(crate) fn check_capacity<B: Backend>(
    backend: &B,
    what: &str,
    buf: &B::Buf,
    rows: usize,
    cols: usize,
) -> Result<()> {
    let have = backend.len(buf);
    if have >= rows * cols {
        Ok(())
    } else {
        Err(Error::shape(format!(
            "{what}: needs [{rows}, {cols}] ({} values), buffer holds {have}",
            rows * cols
        )))
    }
}

/// Summed squared error over each row of `pred: [rows, cols]` against
/// `target: [rows, cols]`, averaged over rows:
/// returns `sum((pred - target)^2) / rows` and overwrites `dpred: [rows, cols]`
/// with its gradient `2 (pred - target) / rows`; the loss goes into `loss[0]`.
pub fn sse<B: Backend>(
    backend: &B,
    rows: usize,
    cols: usize,
    pred: &B::Buf,
    target: &B::Buf,
    dpred: &mut B::Buf,
    loss: B::ViewMut<'_>,
) -> Result<()> {
    if rows == 0 || cols == 0 {
        return Err(Error::shape(format!(
            "sse loss over an empty batch [{rows}, {cols}]"
        )));
    }
    check_capacity(backend, "sse loss prediction", pred, rows, cols)?;
    check_capacity(backend, "sse loss target", target, rows, cols)?;
    check_capacity(backend, "sse loss gradient", dpred, rows, cols)?;
    let n = rows * cols;
    backend.sse_loss(
        rows,
        backend.view(pred, 0..n),
        backend.view(target, 0..n),
        backend.view_mut(dpred, 0..n),
        loss,
    )
}

/// Labels of a batch checked on the host before they are uploaded: one per
/// row, each `< classes`.
pub fn check_labels(labels: &[u32], rows: usize, classes: usize) -> Result<()> {
    if labels.len() != rows {
        return Err(Error::shape(format!(
            "softmax cross-entropy: {} labels for logits [{rows}, {classes}]",
            labels.len()
        )));
    }
    if let Some((row, &label)) = labels
        .iter()
        .enumerate()
        .find(|(_, &l)| l as usize >= classes)
    {
        return Err(Error::shape(format!(
            "softmax cross-entropy: label {label} at row {row} is outside 0..{classes} for logits [{rows}, {classes}]"
        )));
    }
    Ok(())
}

/// Softmax cross-entropy from `logits: [rows, classes]` with one label per
/// row (the first `rows` values of `labels`, each `< classes`: check them
/// with [`check_labels`] before uploading), averaged over rows. Overwrites
/// `probs: [rows, classes]` with the softmax probabilities and `dlogits:
/// [rows, classes]` with the gradient of the mean loss (`(probs - onehot) /
/// rows`); the mean loss goes into `loss[0]`. Numerically stable for any
/// finite logits (each row is shifted by its maximum).
#[allow(clippy::too_many_arguments)]
pub fn softmax_xent<B: Backend>(
    backend: &B,
    rows: usize,
    classes: usize,
    logits: &B::Buf,
    labels: &B::Index,
    probs: &mut B::Buf,
    dlogits: &mut B::Buf,
    loss: B::ViewMut<'_>,
) -> Result<()> {
    if rows == 0 || classes == 0 {
        return Err(Error::shape(format!(
            "softmax cross-entropy over an empty batch [{rows}, {classes}]"
        )));
    }
    let have = backend.index_len(labels);
    if have < rows {
        return Err(Error::shape(format!(
            "softmax cross-entropy: label buffer holds {have} labels for logits [{rows}, {classes}]"
        )));
    }
    check_capacity(backend, "softmax logits", logits, rows, classes)?;
    check_capacity(backend, "softmax probabilities", probs, rows, classes)?;
    check_capacity(backend, "softmax logit gradient", dlogits, rows, classes)?;
    let n = rows * classes;
    backend.softmax_xent(
        classes,
        backend.view(logits, 0..n),
        backend.index_view(labels, 0..rows),
        backend.view_mut(probs, 0..n),
        backend.view_mut(dlogits, 0..n),
        loss,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::Cpu;

    #[test]
    fn bad_shapes_are_errors_naming_the_shapes() {
        let cpu = Cpu;
        let (pred, target, mut d) = (vec![0.0; 6], vec![0.0; 5], vec![0.0; 6]);
        let mut loss = [f32::NAN];
        let err = sse(&cpu, 2, 3, &pred, &target, &mut d, &mut loss[..]).unwrap_err();
        assert!(err.to_string().contains("[2, 3]"), "{err}");
        // Larger buffers are fine: the prefix is used.
        let big = vec![1.0; 10];
        sse(&cpu, 2, 3, &big, &pred, &mut d, &mut loss[..]).unwrap();
        assert_eq!(loss[0], 3.0);

        let (logits, mut p, mut dl) = (vec![0.0; 8], vec![0.0; 8], vec![0.0; 8]);
        let err = check_labels(&[0], 2, 4).unwrap_err();
        assert!(err.to_string().contains("1 labels"), "{err}");
        let err = check_labels(&[0, 4], 2, 4).unwrap_err();
        assert!(err.to_string().contains("label 4 at row 1"), "{err}");
        let short = vec![0u32];
        let err = softmax_xent(&cpu, 2, 4, &logits, &short, &mut p, &mut dl, &mut loss[..]);
        assert!(err.unwrap_err().to_string().contains("holds 1 labels"));
        let labels = vec![0u32, 3];
        softmax_xent(&cpu, 2, 4, &logits, &labels, &mut p, &mut dl, &mut loss[..]).unwrap();
        assert!((loss[0] - 4f32.ln()).abs() < 1e-6);
    }
}
