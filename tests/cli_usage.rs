//! The command line explains itself: each subcommand's `--help` carries its
//! long text, options are named consistently, errors name the option at
//! fault and say what to do, and shell completions are generated.

use std::process::{Command, Output};

fn vaeser(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaeser"))
        .args(args)
        .output()
        .expect("the vaeser binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn every_subcommand_help_shows_its_long_text() {
    // A phrase of each command's long help that its one-line summary lacks.
    let phrases = [
        ("demo", "speech-like, not speech"),
        ("synth", "with no data at all"),
        ("features", "checksum"),
        ("fit-features", "--fold N"),
        ("encode", "label leak"),
        ("crossval", "leave one speaker out"),
        ("reproduce", "Table 2"),
        ("train", "everything `vaeser predict` needs"),
        ("predict", "any sample rate"),
        ("config", "--config FILE"),
        ("completions", "bash"),
    ];
    for (command, phrase) in phrases {
        let o = vaeser(&[command, "--help"]);
        assert!(o.status.success(), "{command} --help: {}", stderr(&o));
        let help = stdout(&o).replace('\n', " ");
        assert!(
            help.contains(phrase),
            "{command} --help lacks '{phrase}':\n{help}"
        );
        assert!(
            help.contains("Global options:"),
            "{command} --help:\n{help}"
        );
    }
    let predict = stdout(&vaeser(&["predict", "--help"]));
    assert!(predict.contains("Exit status"), "{predict}");
}

#[test]
fn options_are_named_for_what_they_take() {
    let train = stdout(&vaeser(&["train", "--help"]));
    assert!(
        train.contains("--learner <KIND>") && train.contains("-o, --out <FILE>"),
        "{train}"
    );
    assert!(!train.contains("--model"), "{train}");
    assert!(
        train.contains("--seed <S>") && train.contains("-j, --threads <N>"),
        "{train}"
    );
    for command in ["predict", "encode"] {
        let help = stdout(&vaeser(&[command, "--help"]));
        assert!(help.contains("--model <FILE>"), "{help}");
        assert!(!help.contains("--seed"), "{command} takes no seed:\n{help}");
    }
    let o = vaeser(&["predict", "--seed", "3", "--model", "m", "a.wav"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn errors_name_the_option_and_what_to_do() {
    let o = vaeser(&[
        "features",
        "--corpus",
        "ravdess",
        "--data",
        "/nonexistent/corpus",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o).trim(),
        "error: --data /nonexistent/corpus: no such directory"
    );
    let o = vaeser(&[
        "predict",
        "--model",
        "/nonexistent/model.safetensors",
        "a.wav",
    ]);
    assert_eq!(
        stderr(&o).trim(),
        "error: --model /nonexistent/model.safetensors: no such file"
    );
    let o = vaeser(&["-j", "0", "config"]);
    assert!(stderr(&o).contains("--threads 0"), "{}", stderr(&o));
    let o = vaeser(&["predict", "--model", "m", "--window", "0.001", "a.wav"]);
    assert!(stderr(&o).contains("--window 0.001"), "{}", stderr(&o));
}

#[test]
fn completions_are_generated_for_the_shells() {
    let o = vaeser(&["completions", "bash"]);
    assert!(o.status.success());
    let script = stdout(&o);
    assert!(script.contains("_vaeser") && script.contains("fit-features"));
    assert!(script.contains("--learner"));
    let o = vaeser(&["completions", "zsh"]);
    assert!(o.status.success() && stdout(&o).contains("#compdef vaeser"));
}
