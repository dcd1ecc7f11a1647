//! What people see: `train` prints one line per epoch and a summary, keeps
//! the summary and the classifier's configuration in the model file and
//! draws its training curves; `crossval` writes its figures; output to a
//! pipe has no progress-bar control characters; the feature cache of a
//! read-only corpus goes to the user's cache directory.

mod experiment_support;

use experiment_support::{check, corpus, s, scratch, tiny_config, vaeser};
use std::collections::BTreeMap;
use std::path::Path;
use vaeser::checkpoint::Checkpoint;

/// One element of an SVG file: its name, attributes and direct text.
#[derive(Debug)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    text: String,
}

/// The elements of an SVG document, checking that every tag is closed in
/// order (a well-formed document as far as these files go).
fn parse_svg(text: &str) -> Vec<Element> {
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<(String, usize)> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        let between = &rest[..start];
        if let Some(&(_, i)) = open.last() {
            out[i].text.push_str(between.trim());
        }
        let end = rest[start..].find('>').expect("tag closed") + start;
        let tag = &rest[start + 1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let (top, _) = open.pop().expect("closing tag has an opening one");
            assert_eq!(top, name.trim(), "tags close in order");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs_text) = tag.split_once(' ').unwrap_or((tag, ""));
        let mut attrs = BTreeMap::new();
        while let Some(eq) = attrs_text.find("=\"") {
            let key = attrs_text[..eq].trim().to_string();
            let after = &attrs_text[eq + 2..];
            let close = after.find('"').expect("attribute value closed");
            attrs.insert(key, after[..close].to_string());
            attrs_text = &after[close + 1..];
        }
        out.push(Element {
            name: name.to_string(),
            attrs,
            text: String::new(),
        });
        if !self_closing {
            open.push((name.to_string(), out.len() - 1));
        }
    }
    assert!(open.is_empty(), "unclosed tags: {open:?}");
    assert_eq!(out.first().map(|e| e.name.as_str()), Some("svg"));
    out
}

fn with_class<'a>(elements: &'a [Element], class: &str) -> Vec<&'a Element> {
    elements
        .iter()
        .filter(|e| e.attrs.get("class").map(String::as_str) == Some(class))
        .collect()
}

fn title(elements: &[Element]) -> String {
    let titles = with_class(elements, "title");
    assert_eq!(titles.len(), 1);
    titles[0].text.clone()
}

fn read_svg(path: &Path) -> Vec<Element> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_svg(&text)
}

/// No cursor movement, carriage return or colour code: whole lines only.
fn assert_line_oriented(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        !bytes.iter().any(|&b| b == 0x1b || b == b'\r'),
        "{what} has terminal control characters:\n{text:?}"
    );
}

#[test]
fn train_reports_every_epoch_and_keeps_its_summary_in_the_model_file() {
    let dir = scratch("train-feedback");
    let config = tiny_config(&dir);
    let model = dir.join("m.safetensors");
    let args = |quiet: bool| {
        let mut a = vec![
            "train",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "ae",
            "--config",
            s(&config),
            "--no-cache",
            "--force",
            "--out",
            s(&model),
        ];
        if quiet {
            a.insert(0, "--quiet");
        }
        a
    };
    let out = vaeser(&args(false), &[]);
    check(&out, "train");
    assert_line_oriented("stderr", &out.stderr);
    assert_line_oriented("stdout", &out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stderr.contains("AE epoch 1/3: loss "), "{stderr}");
    assert!(
        stderr.contains("classifier epoch 1/12: loss ") && stderr.contains("UA "),
        "{stderr}"
    );
    let classifier_lines = stderr
        .lines()
        .filter(|l| l.starts_with("classifier epoch "))
        .count();

    let ck = Checkpoint::load(&model).unwrap();
    let training: serde_json::Value = ck.meta("classifier.training").unwrap();
    let config_meta: serde_json::Value = ck.meta("classifier.config").unwrap();
    assert_eq!(config_meta["max_epochs"], 12);
    assert_eq!(config_meta["hidden"], 16);
    let epochs = training["epochs_run"].as_u64().unwrap() as usize;
    assert_eq!(epochs, classifier_lines, "one line per classifier epoch");
    let best = training["best_epoch"].as_u64().unwrap();
    assert!(best >= 1 && best as usize <= epochs, "{training}");
    assert_eq!(training["best"]["epoch"], best);
    assert!(training["validation_utterances"].as_u64().unwrap() > 0);
    assert!(
        stdout.contains(&format!("classifier: {epochs} epochs, best epoch {best}")),
        "{stdout}"
    );
    assert!(ck.has_meta("learner.training") && ck.has_meta("learner.config"));

    for (part, words) in [
        ("learner", "AE feature learner training"),
        ("classifier", "AE-LSTM classifier training"),
    ] {
        let svg = read_svg(&dir.join(format!("m.safetensors.{part}.svg")));
        assert!(title(&svg).starts_with(words), "{}", title(&svg));
        assert_eq!(
            with_class(&svg, "marker").len(),
            1,
            "{part}: the kept epoch"
        );
        let lines = svg.iter().filter(|e| e.name == "polyline").count();
        assert_eq!(lines, 2, "{part}: training and validation");
    }

    let quiet = vaeser(&args(true), &[]);
    check(&quiet, "train --quiet");
    let stderr = String::from_utf8_lossy(&quiet.stderr);
    assert!(!stderr.contains("epoch 1/"), "{stderr}");
    assert_line_oriented("stderr", &quiet.stderr);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn crossval_writes_its_figures_in_words_with_each_folds_kept_epoch() {
    let dir = scratch("crossval-figures");
    let config = tiny_config(&dir);
    let out = dir.join("run");
    let o = vaeser(
        &[
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(corpus()),
            "--learner",
            "vae",
            "--config",
            s(&config),
            "--no-cache",
            "--out",
            s(&out),
        ],
        &[],
    );
    check(&o, "crossval");
    assert_line_oriented("stderr", &o.stderr);
    let stderr = String::from_utf8_lossy(&o.stderr);
    // Fold lines in fold order, whichever fold finished first.
    let order: Vec<usize> = stderr
        .lines()
        .filter_map(|l| l.split(" fold ").nth(1))
        .filter_map(|l| l.split('/').next()?.parse().ok())
        .collect();
    assert_eq!(order, [1, 2, 3, 4, 5], "{stderr}");
    let figures = out.join("figures");
    let id = "vae-categorical-complete-L8";
    let classifier = read_svg(&figures.join(format!("curves_{id}_classifier.svg")));
    assert_eq!(
        title(&classifier),
        "Classifier training: VAE-LSTM, categorical task, complete subset, latent 8"
    );
    assert_eq!(
        with_class(&classifier, "marker").len(),
        5,
        "one kept epoch per fold"
    );
    assert_eq!(
        classifier.iter().filter(|e| e.name == "polyline").count(),
        10
    );
    let learner = read_svg(&figures.join(format!("curves_{id}_learner.svg")));
    assert_eq!(with_class(&learner, "marker").len(), 5);
    let confusion = read_svg(&figures.join(format!("confusion_{id}.svg")));
    assert!(title(&confusion).starts_with("VAE-LSTM, categorical task"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_read_only_corpus_keeps_its_cache_in_the_users_cache_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("cache-fallback");
    let config = tiny_config(&dir);
    // A copy of the corpus, made read-only.
    let root = dir.join("corpus");
    copy_tree(corpus(), &root);
    let xdg = dir.join("xdg");
    let run = |out: &str, env: &[(&str, &str)]| {
        vaeser(
            &[
                "crossval",
                "--corpus",
                "synth",
                "--data",
                s(&root),
                "--learner",
                "none",
                "--config",
                s(&config),
                "--out",
                s(&dir.join(out)),
            ],
            env,
        )
    };
    set_read_only(&root, true);
    let first = run("a", &[("XDG_CACHE_HOME", s(&xdg))]);
    let second = run("b", &[("XDG_CACHE_HOME", s(&xdg))]);
    let mut nowhere = std::process::Command::new(env!("CARGO_BIN_EXE_vaeser"));
    nowhere
        .args([
            "crossval",
            "--corpus",
            "synth",
            "--data",
            s(&root),
            "--learner",
            "none",
        ])
        .args(["--config", s(&config), "--out", s(&dir.join("c"))])
        .env_remove("XDG_CACHE_HOME")
        .env_remove("HOME");
    let refused = nowhere.output().unwrap();
    set_read_only(&root, false);
    check(&first, "crossval on a read-only corpus");
    check(&second, "crossval again");
    let caches: Vec<_> = std::fs::read_dir(xdg.join("vaeser"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(caches.len(), 1, "{caches:?}");
    let name = caches[0]
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(
        name.starts_with("logmel-") && name.ends_with(".bin"),
        "{name}"
    );
    assert!(!root.join(".vaeser-cache").exists());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("0 computed"),
        "the second run reuses it:\n{stderr}"
    );
    assert_eq!(
        std::fs::read(dir.join("a/logmel-categorical-complete.json")).ok(),
        std::fs::read(dir.join("b/logmel-categorical-complete.json")).ok(),
    );
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("read-only") && stderr.contains("--cache FILE"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap().flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with(".vaeser") {
                continue;
            }
            let (src, dst) = (e.path(), to.join(&name));
            if src.is_dir() {
                copy_tree(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
                // At rest, as a corpus is: the cache trusts only files
                // that were not being written when it read them.
                let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
                std::fs::File::options()
                    .write(true)
                    .open(&dst)
                    .unwrap()
                    .set_modified(hour_ago)
                    .unwrap();
            }
        }
    }

    fn set_read_only(dir: &Path, read_only: bool) {
        let mode = if read_only { 0o555 } else { 0o755 };
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}
