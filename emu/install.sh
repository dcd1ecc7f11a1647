#!/usr/bin/env bash
# Builds the emulated CUDA driver and lays it out as the libraries cudarc
# opens: DIR/libcuda.so and DIR/libcublas.so (one library under two names,
# so the driver and cuBLAS share the emulated memory and stream).
# Usage: emu/install.sh [DIR]   (default: target/cuda-emu)
# Then: LD_LIBRARY_PATH=DIR:<folder of libnvrtc.so.13> cargo test --features cuda
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
dir="${1:-$target/cuda-emu}"
if ! command -v "${CXX:-c++}" >/dev/null 2>&1; then
  echo "emu/install.sh: no C++ compiler (${CXX:-c++}); install g++ (apt-get install g++)" >&2
  exit 1
fi
cargo build --release --quiet -p vaeser-cuda-emu
lib="$target/release/libvaeser_cuda_emu.so"
mkdir -p "$dir"
for name in libcuda.so libcublas.so; do
  ln -sf "$lib" "$dir/$name"
done
echo "$dir"
