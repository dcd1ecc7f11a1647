#!/bin/sh
# Fuzzes every target (or the ones named) for SECONDS each (default 600),
# one after another and at the lowest priority, so a shared machine keeps
# its other cores:  fuzz/run-all.sh 600 [wav iemocap manifest config model]
# The targets are built once (cargo-fuzz; RUSTC_BOOTSTRAP=1 lets a stable
# toolchain take its nightly flags), then run directly. Corpora grow in
# corpus/TARGET (from seeds/TARGET), crashes land in artifacts/TARGET/,
# each target's output in logs/TARGET.log. libFuzzer's default memory limit
# (2 GB) stays: an input that makes a loader ask for more than that is
# reported as a crash, which is what an allocation sized by a header's
# claim looks like.
set -u
cd "$(dirname "$0")"
secs=${1:-600}
shift 2>/dev/null || true
targets=${*:-wav iemocap manifest config model}
RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz build -O || exit 1
bin=target/x86_64-unknown-linux-gnu/release
mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t" "artifacts/$t"
    start=$(date +%s)
    nice -n 19 "$bin/$t" "corpus/$t" "seeds/$t" -max_total_time="$secs" -timeout=20 \
        -max_len=131072 -artifact_prefix="artifacts/$t/" >"logs/$t.log" 2>&1
    code=$?
    echo "$t: exit $code after $(( $(date +%s) - start )) s; $(grep -a -E '^#[0-9]+' "logs/$t.log" | tail -1)"
done
