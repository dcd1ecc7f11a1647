//! Checkpoint container: bit-identical round trips, PyTorch-compatible
//! safetensors layout, and clear errors for wrong, truncated or corrupt files.

#[path = "common/scratch_dirs.rs"]
mod scratch_dirs;

use rand::Rng;
use vaeser::checkpoint::Checkpoint;
use vaeser::nn::params::ParamLayout;

fn tmp(name: &str) -> std::path::PathBuf {
    scratch_dirs::scratch_path("checkpoint").join(name)
}

fn sample() -> (Checkpoint, ParamLayout, Vec<f32>) {
    let mut layout = ParamLayout::new();
    layout.add("encoder.0.weight", &[5, 7]);
    layout.add("encoder.0.bias", &[5]);
    layout.add("mu.weight", &[3, 5]);
    let mut rng = vaeser::rng::stream(3, "test", 0, 0);
    let mut arena: Vec<f32> = (0..layout.len())
        .map(|_| rng.gen_range(-1.0f32..1.0))
        .collect();
    // Values a lossy round trip would change.
    arena[0] = -0.0;
    arena[1] = f32::MIN_POSITIVE / 8.0;
    arena[2] = f32::from_bits(0x7fc0_1234);
    let mut ck = Checkpoint::new("vae");
    ck.set_meta("latent", &3usize);
    ck.set_meta("labels", &["neutral", "happy"]);
    ck.set_meta("seed", &42u64);
    ck.add_params("", &layout, &arena);
    (ck, layout, arena)
}

#[test]
fn round_trip_is_bit_identical() {
    let (ck, layout, arena) = sample();
    let path = tmp("round.safetensors");
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    assert_eq!(back.kind(), "vae");
    assert_eq!(back.meta::<usize>("latent").unwrap(), 3);
    assert_eq!(
        back.meta::<Vec<String>>("labels").unwrap(),
        ["neutral", "happy"]
    );
    let mut arena2 = vec![0.0; layout.len()];
    back.read_params("", &layout, &mut arena2).unwrap();
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&arena), bits(&arena2));
    // Same model, same bytes: saving what was loaded reproduces the file.
    assert_eq!(back.to_bytes(), std::fs::read(&path).unwrap());
}

#[test]
fn file_is_standard_safetensors_in_pytorch_layout() {
    let (ck, _, arena) = sample();
    let bytes = ck.to_bytes();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let w = st.tensor("encoder.0.weight").unwrap();
    assert_eq!(w.shape(), &[5, 7]);
    assert_eq!(w.dtype(), safetensors::Dtype::F32);
    // Row-major [out, in]: element (1, 2) is value 1 * 7 + 2 of the arena.
    let d = w.data();
    let x = f32::from_le_bytes([d[36], d[37], d[38], d[39]]);
    assert_eq!(x.to_bits(), arena[9].to_bits());
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let meta = header.metadata().as_ref().unwrap();
    assert_eq!(meta["format"], "vaeser");
    assert_eq!(meta["kind"], "vae");
    assert_eq!(meta["seed"], "42");
}

#[test]
fn wrong_kind_and_wrong_shape_fail_with_clear_messages() {
    let (ck, _, _) = sample();
    let path = tmp("kind.safetensors");
    ck.save(&path).unwrap();
    let back = Checkpoint::load(&path).unwrap();
    let e = back.expect_kind(&["ae"]).unwrap_err().to_string();
    assert!(
        e.contains("'vae'") && e.contains("'ae'") && e.contains("kind.safetensors"),
        "{e}"
    );
    assert!(back.expect_kind(&["vae", "cvae"]).is_ok());

    let mut other = ParamLayout::new();
    other.add("encoder.0.weight", &[5, 8]);
    let e = back
        .read_params("", &other, &mut [0.0; 40])
        .unwrap_err()
        .to_string();
    assert!(e.contains("[5, 7]") && e.contains("[5, 8]"), "{e}");
    let mut missing = ParamLayout::new();
    missing.add("logvar.weight", &[3, 5]);
    let e = back
        .read_params("", &missing, &mut [0.0; 15])
        .unwrap_err()
        .to_string();
    assert!(e.contains("logvar.weight"), "{e}");
    let e = back.meta::<u64>("nothing").unwrap_err().to_string();
    assert!(e.contains("nothing"), "{e}");
}

#[test]
fn truncated_corrupt_and_foreign_files_fail_clearly() {
    let (ck, _, _) = sample();
    let bytes = ck.to_bytes();
    let p = std::path::Path::new("model.safetensors");
    for cut in [0, 5, 8, 40, bytes.len() - 1] {
        let e = Checkpoint::from_bytes(&bytes[..cut], p)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("model.safetensors") && e.contains("truncated or corrupt"),
            "cut at {cut}: {e}"
        );
    }
    let mut flipped = bytes.clone();
    let last = flipped.len() - 3;
    flipped[last] ^= 0x10;
    let e = Checkpoint::from_bytes(&flipped, p).unwrap_err().to_string();
    assert!(e.contains("corrupt") && e.contains("checksum"), "{e}");

    // A valid safetensors file written by someone else.
    let data = vec![0u8; 8];
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &data).unwrap();
    let foreign = safetensors::serialize([("x", view)], &None).unwrap();
    let e = Checkpoint::from_bytes(&foreign, p).unwrap_err().to_string();
    assert!(e.contains("not a vaeser checkpoint"), "{e}");

    let e = Checkpoint::load(std::path::Path::new("/nonexistent/m.safetensors"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/m.safetensors"), "{e}");
}

/// The file `bytes` would be with its `__metadata__` changed by `edit`.
fn with_metadata(
    bytes: &[u8],
    edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> Vec<u8> {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    edit(header["__metadata__"].as_object_mut().unwrap());
    let mut text = header.to_string();
    while text.len() % 8 != 0 {
        text.push(' ');
    }
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(&bytes[8 + n..]);
    out
}

#[test]
fn files_of_format_version_1_with_an_fnv_checksum_still_load() {
    let (ck, _, _) = sample();
    let bytes = ck.to_bytes();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let data = &bytes[8 + n..];
    // FNV-1a 64, byte at a time, as version 1 wrote it.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let old = with_metadata(&bytes, |m| {
        assert!(m["checksum"].as_str().unwrap().starts_with("xxh64:"));
        m.insert("format_version".into(), "1".into());
        m.insert("checksum".into(), format!("fnv1a64:{h:016x}").into());
    });
    let p = std::path::Path::new("old.safetensors");
    let back = Checkpoint::from_bytes(&old, p).unwrap();
    // Bit for bit (the sample holds a NaN, which == would call unequal).
    let bits = |c: &Checkpoint| -> Vec<(String, Vec<u32>)> {
        c.tensors()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.data.iter().map(|x| x.to_bits()).collect(),
                )
            })
            .collect()
    };
    assert_eq!(bits(&back), bits(&ck));
    // ... and their checksum is checked too.
    let wrong = with_metadata(&old, |m| {
        m.insert("checksum".into(), format!("fnv1a64:{:016x}", h ^ 1).into());
    });
    let e = Checkpoint::from_bytes(&wrong, p).unwrap_err().to_string();
    assert!(e.contains("corrupt") && e.contains("fnv1a64"), "{e}");
}
