#!/usr/bin/env bash
# The main job on the built-in BitNet-2B-shaped model: build, synthesize the BF16 checkpoint, prepare
# INT8 and FP8 W8A8 checkpoints, convert each to SlideSparse 2:4, 2:6, 2:8, 2:10, and inspect them.
# On a GPU machine it then tunes and runs the kernel, quantization and linear-layer benchmarks.
# Usage: scripts/main.sh [OUT_DIR] (default: runs/bitnet-2b). The engine, throughput benchmarks and the
# generated report join this script as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/bitnet-2b}
bash scripts/setup.sh
generator=()
[ -f build-main/CMakeCache.txt ] || ! command -v ninja >/dev/null || generator=(-G Ninja)
# The main job needs only the binary; the tests have their own command (README).
cmake -S . -B build-main "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-main -j"$(nproc)" --target slidesparse
bin=build-main/src/slidesparse
mkdir -p "$out"
[ -d "$out/BitNet-2B-BF16" ] || $bin synth --preset bitnet-2b --seed 0 --output "$out/BitNet-2B-BF16"
for dtype in int8 fp8; do
  name=BitNet-2B-${dtype^^}
  [ -d "$out/$name" ] || $bin prepare --input "$out/BitNet-2B-BF16" --dtype "$dtype" --output "$out/$name"
  for L in 4 6 8 10; do
    [ -d "$out/$name-SlideSparse-2_$L" ] ||
      $bin convert --input "$out/$name" --sparsity "2:$L" --source "$out/BitNet-2B-BF16"
  done
done
$bin inspect "$out/BitNet-2B-INT8-SlideSparse-2_8" >"$out/inspect-INT8-2_8.txt"
sed -n 1,12p "$out/inspect-INT8-2_8.txt"
echo "main: checkpoints are in $out"
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  $bin tune --db "$out/tuning_db.json"
  $bin bench kernel --out "$out/results/kernel"
  $bin bench kernel --backend cusparselt --sparsity 2:12,2:14,2:16,2:inf --out "$out/results/kernel"
  $bin bench quant
  $bin bench linear --db "$out/tuning_db.json"
  echo "main: tuning database $out/tuning_db.json, kernel results in $out/results/kernel"
else
  echo "main: no GPU here: tuning and GPU benchmarks skipped"
fi
