#!/usr/bin/env bash
# NEVER RUN YET: the first check of the CUDA backend on a machine with a GPU.
# Build on a machine with Rust (`cargo build --release --features cuda` and
# `cargo test --release --features cuda --no-run`), carry target/release/vaeser
# and the test binaries named below to the GPU machine, and run this script
# from the repository root there. It runs the GPU tests, then the demo on CPU
# and GPU, and compares their results. Output: gpu-check/ (logs, results).
set -uo pipefail
out=gpu-check
mkdir -p "$out"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1 || echo "nvidia-smi failed" >> "$out/nvidia-smi.txt"

status=0
for t in backend_parity cuda_training cuda_kernels_compile; do
  bin=$(ls -t target/release/deps/${t}-* 2>/dev/null | grep -v '\.d$' | head -1)
  if [ -z "$bin" ]; then
    echo "missing test binary for $t" | tee -a "$out/summary.txt"; status=1; continue
  fi
  echo "== $t" | tee -a "$out/summary.txt"
  if ! timeout 300 "$bin" --nocapture > "$out/$t.log" 2>&1; then status=1; fi
  grep -E "^test |test result|skipped" "$out/$t.log" | tee -a "$out/summary.txt"
done

# The whole experiment on the generated corpus, CPU vs GPU, timed.
for dev in cpu cuda; do
  start=$(date +%s.%N)
  timeout 600 target/release/vaeser --device "$dev" demo --out "$out/demo-$dev" \
    > "$out/demo-$dev.log" 2>&1 || status=1
  echo "demo on $dev: $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$out/summary.txt"
done
exit $status
