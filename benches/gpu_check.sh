#!/usr/bin/env bash
# The CUDA backend checked end to end: every test binary with CUDA variants,
# then the demo on the CPU and on CUDA, compared. A CUDA test that skips is a
# failure here (VAESER_REQUIRE_CUDA=1, and any "skipped on CUDA" in a log).
#
#   benches/gpu_check.sh build   on a machine with Rust: builds vaeser and
#                                the test binaries with --features cuda and
#                                lists the CUDA test binaries in
#                                target/gpu-check/tests.txt
#   benches/gpu_check.sh run     runs them, then the demos (output: gpu-check/)
#
# `run` needs no Rust: carry target/release/vaeser, the listed binaries,
# target/gpu-check/ and benches/ to the GPU machine and run it from the
# repository root there. CI runs it on the emulated driver (emu/).
#
# Libraries: libcuda.so (the driver), libcublas.so.13 and libnvrtc.so.13 are
# looked for in $VAESER_CUDA_LIB_DIR (colon-separated folders), the CUDA
# toolkit's lib64 and the nvidia-* Python packages (PyTorch's), and put on
# LD_LIBRARY_PATH.
#
# Settings (environment):
#   GPU_CHECK_DEMO_CONFIG=FILE  run the demos with --config FILE
#   GPU_CHECK_REPEAT=0          skip the second CUDA demo (byte comparison)
#   GPU_CHECK_TIMEOUT=SECONDS   per test binary and per demo (default 900)
set -uo pipefail
cd "$(dirname "$0")/.."
list_dir=target/gpu-check
out=gpu-check

build() {
  set -e
  cargo build --release --features cuda
  mkdir -p "$list_dir"
  # The executables cargo builds for the tests, by target name.
  cargo test --release --features cuda --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "test" in m["target"]["kind"]:
        print(m["target"]["name"], m["executable"])
' > "$list_dir/all-tests.txt"
  # Those with a CUDA variant: on_each_backend!, or built only with the feature.
  : > "$list_dir/tests.txt"
  while read -r name exe; do
    src="tests/$name.rs"
    if [ -f "$src" ] && grep -qE 'on_each_backend!|feature = "cuda"' "$src"; then
      echo "$name ${exe#"$PWD"/}" >> "$list_dir/tests.txt"
    fi
  done < "$list_dir/all-tests.txt"
  echo "$PWD" > "$list_dir/build-root.txt"
  echo "CUDA test binaries: $(wc -l < "$list_dir/tests.txt") (in $list_dir/tests.txt)"
}

# Folders holding the CUDA libraries, for LD_LIBRARY_PATH.
library_dirs() {
  local dirs=() d
  if [ -n "${VAESER_CUDA_LIB_DIR:-}" ]; then
    IFS=: read -r -a dirs <<< "$VAESER_CUDA_LIB_DIR"
  fi
  for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib; do
    [ -d "$d" ] && dirs+=("$d")
  done
  if command -v python3 >/dev/null 2>&1; then
    while read -r d; do dirs+=("$d"); done < <(python3 - <<'EOF'
import glob, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()] + sys.path
seen = set()
for root in roots:
    for lib in glob.glob(f"{root}/nvidia/*/lib"):
        if lib not in seen and glob.glob(f"{lib}/lib*.so*"):
            seen.add(lib)
            print(lib)
EOF
)
  fi
  local IFS=:
  echo "${dirs[*]}"
}

run() {
  if [ ! -f "$list_dir/tests.txt" ]; then
    echo "gpu_check: $list_dir/tests.txt is missing: run 'benches/gpu_check.sh build' first" >&2
    exit 2
  fi
  local timeout_s="${GPU_CHECK_TIMEOUT:-900}" status=0
  rm -rf "$out" && mkdir -p "$out"
  local summary="$out/summary.txt"
  local libs
  libs=$(library_dirs)
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VAESER_REQUIRE_CUDA=1

  # The tests find the vaeser binary and their fixtures by the absolute path
  # of the tree they were built in: make that path lead here.
  local root
  root=$(cat "$list_dir/build-root.txt")
  if [ "$root" != "$PWD" ] && [ ! -e "$root" ]; then
    mkdir -p "$(dirname "$root")" && ln -s "$PWD" "$root" ||
      echo "gpu_check: cannot link $root to $PWD; tests that run vaeser will fail" | tee -a "$summary"
  fi

  {
    echo "== machine"
    date -u
    if command -v nvidia-smi >/dev/null 2>&1; then
      nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv 2>&1
    else
      echo "nvidia-smi: not available"
    fi
    echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
    for lib in libcuda.so libcuda.so.1 libcublas.so libcublas.so.13 libnvrtc.so.13; do
      local found=""
      IFS=: read -r -a dirs <<< "$LD_LIBRARY_PATH"
      for d in "${dirs[@]}"; do
        if [ -e "$d/$lib" ]; then found="$d/$lib -> $(readlink -f "$d/$lib")"; break; fi
      done
      echo "$lib: ${found:-not on LD_LIBRARY_PATH (the system loader may still find it)}"
    done
    python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "cuDNN", torch.backends.cudnn.version())' 2>/dev/null ||
      echo "torch: not importable"
    target/release/vaeser --version 2>&1 | head -n 3
  } | tee "$summary"

  local name bin log
  while read -r name bin; do
    log="$out/$name.log"
    if [ ! -x "$bin" ]; then
      echo "FAIL $name: missing binary $bin" | tee -a "$summary"; status=1; continue
    fi
    timeout "$timeout_s" "$bin" --nocapture > "$log" 2>&1
    local rc=$?
    local result
    result=$(grep -E '^test result' "$log" | tail -n 1)
    if grep -qE 'skipped on CUDA|no CUDA backend here' "$log"; then
      echo "FAIL $name: a CUDA test skipped (see $log)" | tee -a "$summary"; status=1
    elif [ "$rc" -ne 0 ]; then
      echo "FAIL $name: exit $rc, ${result:-no result line} (see $log)" | tee -a "$summary"; status=1
    else
      echo "ok   $name: $result" | tee -a "$summary"
    fi
  done < "$list_dir/tests.txt"

  # The whole experiment on the generated corpus, on each device, timed.
  local config=()
  [ -n "${GPU_CHECK_DEMO_CONFIG:-}" ] && config=(--config "$GPU_CHECK_DEMO_CONFIG")
  local runs=(cpu cuda-a)
  [ "${GPU_CHECK_REPEAT:-1}" != 0 ] && runs+=(cuda-b)
  local run dev start
  for run in "${runs[@]}"; do
    dev=${run%%-*}
    start=$(date +%s.%N)
    if timeout "$timeout_s" target/release/vaeser --quiet --device "$dev" demo "${config[@]}" \
        --out "$out/demo-$run" > "$out/demo-$run.log" 2>&1; then
      echo "demo on $run: $(python3 -c "import time; print(f'{time.time() - $start:.1f}')") s" | tee -a "$summary"
    else
      echo "FAIL demo on $run (see $out/demo-$run.log)" | tee -a "$summary"; status=1
    fi
  done
  local cpu_json="$out/demo-cpu/run/results.json" gpu_json="$out/demo-cuda-a/run/results.json"
  if [ -f "$cpu_json" ] && [ -f "$gpu_json" ]; then
    python3 benches/compare_results.py "$cpu_json" "$gpu_json" 2>&1 | tee -a "$summary"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  fi
  if [ -f "$out/demo-cuda-b/run/results.json" ]; then
    if cmp -s "$gpu_json" "$out/demo-cuda-b/run/results.json"; then
      echo "two CUDA demos: results.json byte-identical" | tee -a "$summary"
    else
      echo "FAIL two CUDA demos wrote different results.json" | tee -a "$summary"; status=1
    fi
  fi
  echo "gpu_check: $([ $status -eq 0 ] && echo passed || echo FAILED) (summary in $summary)"
  exit $status
}

case "${1:-}" in
  build) build ;;
  run) run ;;
  *) echo "usage: benches/gpu_check.sh build|run" >&2; exit 2 ;;
esac
