use super::Global;
use crate::error::{Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args, _global: &Global) -> Result<()> {
    Err(Error::config("the 'crossval' command is not available yet"))
}
