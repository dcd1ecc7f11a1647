//! One classifier training epoch at a realistic size: 600 utterances of
//! 10..=60 steps of 256 features (a VAE's mu and log sigma^2 for L = 128),
//! 4 classes, the SPEC's network (2 x 128 LSTM, dense 64, batch 32), no
//! validation. Reported in utterances/s, next to references measured in the
//! same run: the same epoch with plain shuffled batches (no length
//! bucketing) and with each batch sorted but not bucketed, so the ratios
//! show what bucketing saves; and the 2-thread time against 1 thread.
//!
//! `cargo bench --bench classifier`

#[path = "support/peak.rs"]
#[allow(dead_code)]
mod peak;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use peak::median_seconds;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaeser::backend::cpu::Cpu;
use vaeser::config::ClassifierConfig;
use vaeser::models::classifier::Sequence;
use vaeser::train::classifier::{fit_bucketed, ClassifierFitRequest, BUCKET_BATCHES};
use vaeser::train::log::JsonLinesLog;

const UTTERANCES: usize = 600;
const FEATURES: usize = 256;

struct Corpus {
    data: Vec<(Vec<f32>, usize, usize)>,
    names: Vec<String>,
    config: ClassifierConfig,
}

impl Corpus {
    fn new() -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let data = (0..UTTERANCES)
            .map(|i| {
                let steps = rng.gen_range(10..=60);
                let f = (0..steps * FEATURES)
                    .map(|_| rng.gen_range(-1.0..1.0))
                    .collect();
                (f, steps, i % 4)
            })
            .collect();
        Self {
            data,
            names: (0..4).map(|c| c.to_string()).collect(),
            config: ClassifierConfig {
                max_epochs: 1,
                ..ClassifierConfig::default()
            },
        }
    }

    fn epoch(&self, bucket_batches: usize) {
        let train: Vec<Sequence<'_>> = self
            .data
            .iter()
            .map(|(f, steps, label)| Sequence {
                features: f,
                steps: *steps,
                label: *label,
            })
            .collect();
        let request = ClassifierFitRequest {
            config: &self.config,
            train: &train,
            validation: &[],
            label_names: &self.names,
            seed: 1,
            fold: Some(0),
        };
        fit_bucketed(
            &Cpu,
            &request,
            &mut JsonLinesLog::in_memory(),
            bucket_batches,
        )
        .unwrap();
    }
}

fn bench(c: &mut Criterion) {
    let corpus = Corpus::new();
    let pool = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap()
    };
    let (one, two) = (pool(1), pool(2));
    let steps: usize = corpus.data.iter().map(|d| d.1).sum();
    println!(
        "classifier epoch: {UTTERANCES} utterances ({steps} steps of {FEATURES}), 2x128 LSTM, \
         dense 64, batch 32 (avx2 {}, fma {}); medians of 5",
        cfg!(target_feature = "avx2"),
        cfg!(target_feature = "fma")
    );
    let report = |what: &str, t: f64, reference: Option<f64>| {
        let ratio = reference.map_or(String::new(), |r| format!(", {:.2}x the reference", r / t));
        println!(
            "  {what:<44} {:7.3} s, {:7.1} utterances/s{ratio}",
            t,
            UTTERANCES as f64 / t
        );
    };
    let t_plain = median_seconds(|| one.install(|| corpus.epoch(0)), 5);
    report(
        "1 thread, plain shuffled batches (reference)",
        t_plain,
        None,
    );
    let t_sorted = median_seconds(|| one.install(|| corpus.epoch(1)), 5);
    report("1 thread, each batch sorted", t_sorted, Some(t_plain));
    let t_bucketed = median_seconds(|| one.install(|| corpus.epoch(BUCKET_BATCHES)), 5);
    report(
        &format!("1 thread, bucketed ({BUCKET_BATCHES} batches per chunk)"),
        t_bucketed,
        Some(t_plain),
    );
    let t_two = median_seconds(|| two.install(|| corpus.epoch(BUCKET_BATCHES)), 5);
    report(
        "2 threads, bucketed (reference: 1 thread)",
        t_two,
        Some(t_bucketed),
    );

    let mut group = c.benchmark_group("classifier_epoch_600utt_in256_2x128");
    group.throughput(Throughput::Elements(UTTERANCES as u64));
    group.sample_size(10);
    group.bench_function("bucketed_1thread", |b| {
        b.iter(|| one.install(|| corpus.epoch(BUCKET_BATCHES)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
