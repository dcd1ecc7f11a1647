//! Folds and epochs are counted from 0 inside the program, where they index
//! arrays and key the random streams (changing that would change every
//! result), and from 1 wherever a person reads them: console, logs, reports,
//! figures, file names and the JSON files. These serde adapters do the
//! conversion at the edge, so a value read back is the internal one again.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Displays a 0-based index counted from 1.
pub fn one_based(index: usize) -> usize {
    index + 1
}

/// `#[serde(with = "crate::numbering::from_one")]` for a `usize` index.
pub mod from_one {
    use super::*;

    /// Writes the 0-based `index` as `index + 1`.
    pub fn serialize<S: Serializer>(index: &usize, s: S) -> Result<S::Ok, S::Error> {
        (*index + 1).serialize(s)
    }

    /// Reads a 1-based number back as the 0-based index; 0 is an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
        let n = usize::deserialize(d)?;
        n.checked_sub(1)
            .ok_or_else(|| serde::de::Error::custom("folds and epochs are numbered from 1, got 0"))
    }
}

/// `#[serde(with = "crate::numbering::from_one_opt")]` for an optional
/// `u32` fold (`None`: trained on the whole corpus, written as null).
pub mod from_one_opt {
    use super::*;

    /// Writes `Some(i)` as `i + 1` and `None` as null.
    pub fn serialize<S: Serializer>(index: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        index.map(|i| i + 1).serialize(s)
    }

    /// Reads null as `None` and a 1-based number as the 0-based index; 0 is
    /// an error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        match Option::<u32>::deserialize(d)? {
            None => Ok(None),
            Some(n) => n.checked_sub(1).map(Some).ok_or_else(|| {
                serde::de::Error::custom("folds and epochs are numbered from 1, got 0")
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Row {
        #[serde(with = "super::from_one")]
        epoch: usize,
        #[serde(with = "super::from_one_opt")]
        fold: Option<u32>,
    }

    #[test]
    fn written_from_one_and_read_back_from_zero() {
        let row = Row {
            epoch: 0,
            fold: Some(4),
        };
        let text = serde_json::to_string(&row).unwrap();
        assert_eq!(text, r#"{"epoch":1,"fold":5}"#);
        assert_eq!(serde_json::from_str::<Row>(&text).unwrap(), row);
        let whole: Row = serde_json::from_str(r#"{"epoch":3,"fold":null}"#).unwrap();
        assert_eq!((whole.epoch, whole.fold), (2, None));
        assert!(serde_json::from_str::<Row>(r#"{"epoch":0,"fold":1}"#).is_err());
    }
}
