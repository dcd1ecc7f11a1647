//! Adam against values worked out by hand, for both presets.
//!
//! Parameter 0, default preset (b1 0.9, b2 0.999, lr 1e-3, eps 1e-8), worked:
//! - step 1, g = 0.5: m = 0.05, v = 0.00025; m^ = m / 0.1 = 0.5,
//!   v^ = v / 0.001 = 0.25; p = 1 - 1e-3 * 0.5 / (0.5 + 1e-8) = 0.999.
//! - step 2, g = -0.25: m = 0.045 - 0.025 = 0.02, v = 0.00024975 + 0.0000625
//!   = 0.00031225; m^ = 0.02 / 0.19 = 0.1052632, v^ = 0.00031225 / 0.001999
//!   = 0.1562031, sqrt 0.3952254; p = 0.999 - 1e-3 * 0.2663373 = 0.9987337.
//!
//! The other values come from the same formulas (written out in f64). Step 1
//! always moves each parameter by lr against the sign of its gradient
//! (m^ / sqrt(v^) = g / |g|), and a zero gradient never moves its parameter.
//! Without bias correction step 1 would move by 1e-3 * 0.05 / 0.0158 (about
//! 3e-3) under the default preset: far outside the 1e-6 tolerance.

use vaeser::backend::cpu::Cpu;
use vaeser::config::AdamPreset;
use vaeser::nn::adam::Adam;

const GRADS: [[f32; 4]; 3] = [
    [0.5, -0.25, 1.0, 0.0],
    [-0.25, -0.25, 0.1, 0.0],
    [1.0, 0.5, -2.0, 0.0],
];

fn run(preset: AdamPreset, want: [[f64; 4]; 3]) {
    let mut params = vec![1.0f32, -0.5, 0.0, 2.0];
    let mut adam = Adam::new(&Cpu, 4, 1e-3, preset).unwrap();
    for (t, (g, w)) in GRADS.iter().zip(want).enumerate() {
        adam.step(&Cpu, &mut params, &g.to_vec()).unwrap();
        assert_eq!(adam.steps(), t as u32 + 1);
        for i in 0..4 {
            assert!(
                (params[i] as f64 - w[i]).abs() < 1e-6,
                "{preset:?} step {} param {i}: {} want {}",
                t + 1,
                params[i],
                w[i]
            );
        }
    }
    // A parameter whose gradient is always zero never moves.
    assert_eq!(params[3], 2.0);
}

#[test]
fn default_preset_matches_hand_computed_steps() {
    run(
        AdamPreset::Default,
        [
            [0.999, -0.499, -0.001, 2.0],
            [0.998733663, -0.498, -0.001740811, 2.0],
            [0.998075551, -0.498075649, -0.001426807, 2.0],
        ],
    );
}

#[test]
fn paper_preset_matches_hand_computed_steps() {
    run(
        AdamPreset::Paper,
        [
            [0.999, -0.499, -0.001, 2.0],
            [0.998683770, -0.498, -0.001775553, 2.0],
            [0.998055383, -0.498000706, -0.001543331, 2.0],
        ],
    );
}

#[test]
fn presets_have_the_specified_betas() {
    let d = Adam::new(&Cpu, 1, 1e-3, AdamPreset::Default).unwrap();
    assert_eq!(d.betas(), (0.9, 0.999));
    let p = Adam::new(&Cpu, 1, 1e-3, AdamPreset::Paper).unwrap();
    assert_eq!(p.betas(), (0.999, 0.99));
}

#[test]
fn reset_restarts_the_bias_correction() {
    let mut params = vec![1.0f32];
    let mut adam = Adam::new(&Cpu, 1, 1e-3, AdamPreset::Default).unwrap();
    adam.step(&Cpu, &mut params, &vec![0.5]).unwrap();
    adam.step(&Cpu, &mut params, &vec![-3.0]).unwrap();
    adam.reset(&Cpu).unwrap();
    let before = params[0];
    adam.step(&Cpu, &mut params, &vec![0.5]).unwrap();
    assert_eq!(adam.steps(), 1);
    assert!(((before - params[0]) as f64 - 1e-3).abs() < 1e-7);
}

#[test]
fn bad_lengths_and_hyper_parameters_are_errors() {
    let mut adam = Adam::new(&Cpu, 4, 1e-3, AdamPreset::Default).unwrap();
    let err = adam
        .step(&Cpu, &mut vec![0.0; 3], &vec![0.0; 4])
        .unwrap_err();
    assert!(err.to_string().contains("params of 3"), "{err}");
    assert!(Adam::with_betas(&Cpu, 4, 1e-3, 1.0, 0.999, 1e-8).is_err());
    assert!(Adam::with_betas(&Cpu, 4, 0.0, 0.9, 0.999, 1e-8).is_err());
}
