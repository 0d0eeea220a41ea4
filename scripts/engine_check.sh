#!/usr/bin/env bash
# On the GPU machine: the engine on the BitNet-2B-shaped model. Builds the checkpoints it needs
# (synth -> prepare -> convert, skipped when present), runs a short generate as a smoke test, then
# the throughput benchmarks with a per-phase breakdown. Binaries come from scripts/build_device.sh.
# Usage: [ENGINE_ARGS='--db F ...'] scripts/engine_check.sh WORK_DIR [dtype:backend:stage:M-list ...]
#   e.g. scripts/engine_check.sh /tmp/ss int8:cublaslt:prefill:8192,32768 int8:2_4:decode:64,512
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SLIDESPARSE_BIN_DIR:-.devbin}/slidesparse
source scripts/device_env.sh
work=$1
shift
out=${OUT:-$work/results}
mkdir -p "$work" "$out"
[ -d "$work/BitNet-2B-BF16" ] || $bin synth --preset bitnet-2b --seed 0 --output "$work/BitNet-2B-BF16" >/dev/null
checkpoint() {  # dtype sparsity-tag -> directory (created on first use)
  local name=BitNet-2B-${1^^}
  [ -d "$work/$name" ] || $bin prepare --input "$work/BitNet-2B-BF16" --dtype "$1" --output "$work/$name" >/dev/null
  if [ "$2" = cublaslt ]; then echo "$work/$name"; return; fi
  [ -d "$work/$name-SlideSparse-$2" ] ||
    $bin convert --input "$work/$name" --sparsity "${2/_/:}" --source "$work/BitNet-2B-BF16" >/dev/null
  echo "$work/$name-SlideSparse-$2"
}
for point in "$@"; do
  IFS=: read -r dtype backend stage ms <<<"$point"
  model=$(checkpoint "$dtype" "$backend")
  if [ "$stage" = generate ]; then
    $bin generate --model "$model" --prompt "1,2,3,4,5,6,7,8;9,10,11" --max-tokens 16 --ignore-eos --stats \
      --max-model-len 512 --max-num-seqs 8
    continue
  fi
  echo "=== $dtype $backend $stage $ms"
  $bin bench throughput --model "$model" --stage "$stage" --m-list "$ms" --out "$out/throughput" --profile ${ENGINE_ARGS:-} 2>&1 |
    grep -v ETA
done
