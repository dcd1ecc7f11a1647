//! NumPy `.npy` files (format version 1.0) of little-endian f32 arrays, for
//! other tools: `numpy.load` reads them directly. The header is a few bytes
//! of a Python dict literal, written here rather than through a crate.

use crate::error::Result;
use std::path::Path;

/// The bytes of a C-order `<f4` array of `shape` holding `data`.
///
/// # Panics
/// If `data`'s length is not the product of `shape` (a programming error).
pub fn to_npy(shape: &[usize], data: &[f32]) -> Vec<u8> {
    assert_eq!(
        data.len(),
        shape.iter().product::<usize>(),
        "npy data does not match its shape {shape:?}"
    );
    let dims = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {dims}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n' is padded with
    // spaces to a multiple of 64, so the data starts aligned.
    let unpadded = 10 + header.len() + 1;
    header.extend(std::iter::repeat(' ').take(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + 4 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for v in data {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    bytes
}

/// Writes a `.npy` file atomically.
pub fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<()> {
    crate::fsutil::write_atomic(path, &to_npy(shape, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_what_numpy_writes_and_data_follows_aligned() {
        let data: Vec<f32> = (0..6).map(|i| i as f32 * 0.5 - 1.0).collect();
        let bytes = to_npy(&[2, 3], &data);
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + len) % 64, 0);
        let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
        assert_eq!(
            header.trim_end(),
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
        );
        assert!(header.ends_with('\n'));
        let values: Vec<f32> = bytes[10 + len..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(values, data);
        let one = to_npy(&[3], &data[..3]);
        assert!(std::str::from_utf8(&one[10..64])
            .unwrap()
            .contains("'shape': (3,)"));
    }
}
