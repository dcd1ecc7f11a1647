#!/bin/sh
# Fuzzes every target for SECONDS each (default 600), one after another
# and at the lowest priority, so a shared machine keeps its other cores.
# Corpora grow in corpus/TARGET (from seeds/TARGET), crashes land in
# artifacts/TARGET, each target's output in logs/TARGET.log.
# libFuzzer's default memory limit (2 GB) stays: an input that makes a
# loader ask for more than that is reported as a crash, which is what an
# allocation sized by a header's claim looks like.
set -u
cd "$(dirname "$0")"
secs=${1:-600}
shift 2>/dev/null || true
targets=${*:-wav iemocap manifest config model}
mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t"
    start=$(date +%s)
    RUSTC_BOOTSTRAP=1 nice -n 19 cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=20 -max_len=131072 >"logs/$t.log" 2>&1
    code=$?
    echo "$t: exit $code after $(( $(date +%s) - start )) s; $(grep -a -E '^#[0-9]+.*(DONE|pulse)' "logs/$t.log" | tail -1)"
done
