#!/usr/bin/env bash
# The main job: build, then `slidesparse pipeline` on the built-in BitNet-2B-shaped model: base models
# (BF16 -> INT8, FP8), SlideSparse 2:4..2:10 conversion, and on a GPU machine tuning, prefill / decode
# throughput and the kernel benchmarks, then the generated report. Resumable: rerun after an
# interruption and it continues where it stopped (pass --restart to start over).
# Usage: scripts/main.sh [OUT_DIR (default runs/pipeline)] [more pipeline options, e.g. --quick]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/pipeline}
shift || true
bash scripts/setup.sh
generator=()
[ -f build-main/CMakeCache.txt ] || ! command -v ninja >/dev/null || generator=(-G Ninja)
# The main job needs only the binary; the tests have their own command (README).
cmake -S . -B build-main "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build build-main -j"$(nproc)" --target slidesparse
status=0
build-main/src/slidesparse pipeline --out "$out" "$@" || status=$?
echo "main: report in $out/report.md (plots in $out/plots, raw results in $out/results, log $out/pipeline.log)"
exit $status
