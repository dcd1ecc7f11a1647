//! EmoDB loader.

use super::{Corpus, LoadOptions};
use crate::error::{Error, Result};
use std::path::Path;

pub fn load(root: &Path, _options: &LoadOptions) -> Result<Corpus> {
    Err(Error::config(format!(
        "cannot load {}: the EmoDB loader is not available yet",
        root.display()
    )))
}
