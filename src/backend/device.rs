//! Which backend a run uses, as the command line names it.

use crate::error::{Error, Result};

/// The device a command runs on (`--device`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Device {
    /// The CPU backend: always available.
    #[default]
    Cpu,
    /// The CUDA backend: needs a build with `--features cuda`, an NVIDIA
    /// driver and GPU.
    Cuda,
}

impl Device {
    /// The name `--device` takes and logs show: `cpu` or `cuda`.
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        }
    }

    /// Whether this build contains the backend at all.
    pub fn compiled_in(self) -> bool {
        match self {
            Device::Cpu => true,
            Device::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// Errors with what to do when this build lacks the backend.
    pub fn check_compiled_in(self) -> Result<()> {
        if self.compiled_in() {
            Ok(())
        } else {
            Err(Error::Device(format!(
                "--device {}: built without CUDA support: rebuild with --features cuda",
                self.as_str()
            )))
        }
    }
}

impl std::str::FromStr for Device {
    type Err = Error;

    fn from_str(s: &str) -> Result<Device> {
        match s {
            "cpu" => Ok(Device::Cpu),
            "cuda" | "gpu" => Ok(Device::Cuda),
            other => Err(Error::config(format!(
                "--device {other}: unknown device (expected cpu or cuda)"
            ))),
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
