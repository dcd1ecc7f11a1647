//! A short training run of an MLP (20 Adam steps on random data) gives
//! bit-identical parameters with one and with two threads, and on two runs
//! with the same seed. The sizes are chosen so that every kernel takes its
//! multi-threaded path with two threads (GEMM row chunks, element-wise
//! chunks, column-sum chunks, Adam chunks).

use rand::Rng;
use vaeser::backend::cpu::Cpu;
use vaeser::backend::Activation;
use vaeser::config::AdamPreset;
use vaeser::nn::adam::Adam;
use vaeser::nn::dense::{Dense, InputGrad};
use vaeser::nn::params::{ParamArena, ParamLayout};
use vaeser::rng::stream;

const ROWS: usize = 512;
const SIZES: [usize; 4] = [200, 160, 64, 10];
const ACTS: [Activation; 3] = [Activation::Relu, Activation::Tanh, Activation::Identity];

/// Trains and returns (final parameters as bits, loss per step).
fn train(seed: u64) -> (Vec<u32>, Vec<f64>) {
    let be = Cpu;
    let mut layout = ParamLayout::new();
    let layers: Vec<Dense> = (0..3)
        .map(|i| {
            Dense::new(
                &mut layout,
                &format!("mlp.{i}"),
                SIZES[i],
                SIZES[i + 1],
                ACTS[i],
            )
        })
        .collect();
    assert!(
        layout.len() > 1 << 15,
        "too few parameters for Adam's parallel path"
    );
    let mut host = vec![0.0; layout.len()];
    let mut rng = stream(seed, "init", 0, 0);
    for l in &layers {
        l.init(&mut rng, &mut host).unwrap();
    }
    let mut arena = ParamArena::from_host(&be, layout, &host).unwrap();
    let mut adam = Adam::new(&be, arena.len(), 1e-3, AdamPreset::Default).unwrap();

    let mut data = stream(seed, "data", 0, 0);
    let x: Vec<f32> = (0..ROWS * SIZES[0])
        .map(|_| data.gen_range(-1.0..1.0))
        .collect();
    let target: Vec<f32> = (0..ROWS * SIZES[3])
        .map(|_| data.gen_range(-1.0..1.0))
        .collect();

    // Activations: acts[0] = x, acts[i + 1] = output of layer i.
    let mut acts: Vec<Vec<f32>> = SIZES.iter().map(|&n| vec![0.0; ROWS * n]).collect();
    acts[0].copy_from_slice(&x);
    let mut dy: Vec<Vec<f32>> = SIZES.iter().map(|&n| vec![0.0; ROWS * n]).collect();
    let mut dz = vec![0.0; ROWS * SIZES.iter().max().unwrap()];
    let mut losses = Vec::new();

    for _step in 0..20 {
        for (i, l) in layers.iter().enumerate() {
            let (inp, out) = acts.split_at_mut(i + 1);
            l.forward(&be, ROWS, &arena.params, &inp[i], &mut out[0])
                .unwrap();
        }
        // Mean over rows of the summed squared error.
        let pred = &acts[3];
        let mut loss = 0.0f64;
        for (j, (&p, &t)) in pred.iter().zip(&target).enumerate() {
            loss += ((p - t) as f64).powi(2);
            dy[3][j] = 2.0 * (p - t) / ROWS as f32;
        }
        losses.push(loss / ROWS as f64);

        arena.zero_grads(&be).unwrap();
        for i in (0..3).rev() {
            let (lower, upper) = dy.split_at_mut(i + 1);
            let dx = if i == 0 {
                InputGrad::Skip
            } else {
                InputGrad::Overwrite(&mut lower[i])
            };
            layers[i]
                .backward(
                    &be,
                    ROWS,
                    &arena.params,
                    &acts[i],
                    &acts[i + 1],
                    &upper[0],
                    &mut dz,
                    &mut arena.grads,
                    dx,
                )
                .unwrap();
        }
        adam.step(&be, &mut arena.params, &arena.grads).unwrap();
    }
    let bits = arena
        .download(&be)
        .unwrap()
        .iter()
        .map(|p| p.to_bits())
        .collect();
    (bits, losses)
}

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn mlp_training_is_bit_identical_across_threads_and_runs() {
    let (one, losses) = in_pool(1, || train(11));
    let (two, losses2) = in_pool(2, || train(11));
    let (again, _) = in_pool(1, || train(11));
    // The run trains: the loss falls.
    assert!(losses[19] < 0.9 * losses[0], "loss {losses:?}");
    assert_eq!(losses, losses2);
    assert!(one == two, "parameters differ between 1 and 2 threads");
    assert!(
        one == again,
        "parameters differ between two runs with one seed"
    );
    // A different seed gives a different model (the comparison can fail).
    let (other, _) = in_pool(2, || train(12));
    assert!(one != other);
}
