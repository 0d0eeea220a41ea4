#!/usr/bin/env bash
# Checkpoint tool speed on the full BitNet-2B-shaped model: synth, prepare (int8, fp8) and convert
# (2:4, 2:6, 2:8, 2:10 for both dtypes, tie-breaking with the BF16 source). Each command prints its
# wall time and peak RSS; the table at the end collects them.
# Usage: scripts/bench_checkpoints.sh [SLIDESPARSE_BINARY] [WORK_DIR]
set -euo pipefail
bin=${1:-build/src/slidesparse}
work=${2:-/tmp/slidesparse-bench-checkpoints}
rm -rf "$work" && mkdir -p "$work"
log="$work/log.txt"
run() { "$bin" "$@" | tee -a "$log"; }
run synth --preset bitnet-2b --seed 0 --output "$work/BitNet-2B-BF16"
for dtype in int8 fp8; do
  run prepare --input "$work/BitNet-2B-BF16" --dtype "$dtype" --output "$work/BitNet-2B-${dtype^^}"
done
for dtype in INT8 FP8; do
  for L in 4 6 8 10; do
    run convert --input "$work/BitNet-2B-$dtype" --sparsity "2:$L" --source "$work/BitNet-2B-BF16"
    rm -rf "$work/BitNet-2B-$dtype-SlideSparse-2_$L"
  done
done
echo
echo "| step | seconds | peak RSS MB |"
echo "|---|---|---|"
sed -nE 's/^(synth|prepare|convert): ([^,]*).* ([0-9.]+) s, peak RSS ([0-9]+) MB$/| \1 \2 | \3 | \4 |/p' "$log"
rm -rf "$work"
