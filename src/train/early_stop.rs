//! Early stopping with patience and best-epoch tracking, for any metric
//! direction: the feature learners minimise a validation loss, the classifier
//! maximises validation UA.

/// Which way a metric improves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Lower is better (losses).
    Minimize,
    /// Higher is better (accuracies).
    Maximize,
}

/// What the training loop should do after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A new best: keep a copy of the current weights, then go on.
    Improved,
    /// No improvement, patience left: go on.
    Continue,
    /// Patience used up: stop and restore the best weights.
    Stop,
}

/// Tracks one validation metric over epochs and says when to stop: after
/// `patience` consecutive epochs without a strict improvement on the best.
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    direction: Direction,
    patience: usize,
    best: Option<(usize, f64)>,
    epochs_without_improvement: usize,
}

impl EarlyStopping {
    /// Stops once `patience` consecutive epochs have brought no strict
    /// improvement (Keras' convention; patience 0 acts as 1).
    pub fn new(direction: Direction, patience: usize) -> Self {
        EarlyStopping {
            direction,
            patience,
            best: None,
            epochs_without_improvement: 0,
        }
    }

    /// Records the metric of `epoch`. A non-finite metric never counts as an
    /// improvement (a diverged epoch must not become the "best" one).
    pub fn update(&mut self, epoch: usize, metric: f64) -> Decision {
        let better = metric.is_finite()
            && match self.best {
                None => true,
                Some((_, best)) => match self.direction {
                    Direction::Minimize => metric < best,
                    Direction::Maximize => metric > best,
                },
            };
        if better {
            self.best = Some((epoch, metric));
            self.epochs_without_improvement = 0;
            Decision::Improved
        } else {
            self.epochs_without_improvement += 1;
            if self.epochs_without_improvement >= self.patience.max(1) {
                Decision::Stop
            } else {
                Decision::Continue
            }
        }
    }

    /// The best epoch and its metric so far (`None` before any finite metric).
    pub fn best(&self) -> Option<(usize, f64)> {
        self.best
    }

    /// Epochs since the last improvement (0 right after one).
    pub fn epochs_without_improvement(&self) -> usize {
        self.epochs_without_improvement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_stops_after_patience_epochs_without_improvement() {
        use Decision::*;
        let mut es = EarlyStopping::new(Direction::Minimize, 3);
        let losses = [5.0, 4.0, 4.5, 3.9, 3.9, 4.2, 4.0];
        let decisions: Vec<_> = losses
            .iter()
            .enumerate()
            .map(|(e, &l)| es.update(e, l))
            .collect();
        // Equal is not better: 3.9 at epoch 4 counts as no improvement, and
        // the third epoch in a row without one (epoch 6) stops.
        assert_eq!(
            decisions,
            [Improved, Improved, Continue, Improved, Continue, Continue, Stop]
        );
        assert_eq!(es.best(), Some((3, 3.9)));
    }

    #[test]
    fn accuracy_direction_and_nan_handling() {
        let mut es = EarlyStopping::new(Direction::Maximize, 0);
        assert_eq!(es.update(0, f64::NAN), Decision::Stop);
        let mut es = EarlyStopping::new(Direction::Maximize, 2);
        assert_eq!(es.update(0, f64::NAN), Decision::Continue);
        assert_eq!(es.best(), None);
        assert_eq!(es.update(1, 0.5), Decision::Improved);
        assert_eq!(es.update(2, 0.6), Decision::Improved);
        assert_eq!(es.update(3, 0.4), Decision::Continue);
        assert_eq!(es.update(4, f64::INFINITY), Decision::Stop);
        assert_eq!(es.epochs_without_improvement(), 2);
        assert_eq!(es.best(), Some((2, 0.6)));
    }
}
