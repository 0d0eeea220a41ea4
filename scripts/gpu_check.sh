#!/usr/bin/env bash
# On the GPU machine: run the gpu-labelled tests and the GPU benchmarks, print a short table last.
# Binaries come from scripts/build_device.sh (built on the CPU machine, carried in .devbin/) or from
# a local build when .devbin is absent.
# Usage: scripts/gpu_check.sh [tests|quant|norm|attention|linear|kernel|kernel-low|tune|ab]...
#   (default: tests quant linear). `ab`: the engine on the BitNet-2B-shaped INT8 model with each of
#   this code's switches off and on (programmatic dependent launch at decode M=512, cuDNN attention at
#   prefill M=32768), one line per run.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${SLIDESPARSE_BIN_DIR:-.devbin}
if [ ! -x "$bin/slidesparse" ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLIDESPARSE_CUDA_ARCHS=90a >/dev/null &&
    cmake --build build >/dev/null || exit 1
  bin=build-bin && mkdir -p $bin && cp build/src/slidesparse build/tests/gpu_tests $bin/
fi
SLIDESPARSE_BIN_DIR=$bin source scripts/device_env.sh
export SLIDESPARSE_BINARY=$PWD/$bin/slidesparse
out=${OUT:-/tmp/slidesparse-gpu-check}
mkdir -p "$out"
steps=${*:-tests quant linear}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv,noheader
for step in $steps; do
  echo "=== $step"
  case $step in
    tests)
      "$bin/gpu_tests" --gtest_brief=1 2>&1 | tee "$out/gpu_tests.txt" | tail -40
      # Failures rerun with each of the newest engine features off, to tell which one is at fault.
      failed=$(grep -oE '^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_/]+' "$out/gpu_tests.txt" | awk '{print $NF}' |
               sort -u | paste -sd: -)
      if [ -n "$failed" ]; then
        for env in SLIDESPARSE_PDL=0 SLIDESPARSE_CUDNN_ATTENTION=0; do
          echo "== failed tests again with $env"
          env $env "$bin/gpu_tests" --gtest_brief=1 --gtest_filter="$failed" 2>&1 | tail -8
        done
      fi
      ;;
    quant) "$bin/slidesparse" bench quant --m-list 1024,4096,16384 --sparsity 2:4,2:8,2:16 2>&1 | tee "$out/quant.txt" ;;
    linear) "$bin/slidesparse" bench linear ${LINEAR_ARGS:-} $( [ -f "$out/tuning_db.json" ] && echo --db "$out/tuning_db.json") 2>&1 | tee "$out/linear.txt" ;;
    kernel) "$bin/slidesparse" bench kernel ${KERNEL_ARGS:-} --out "$out/kernel" 2>&1 | grep -v ETA | tee "$out/kernel.txt" ;;
    kernel-low) "$bin/slidesparse" bench kernel ${KERNEL_ARGS:-} --backend cusparselt --sparsity 2:12,2:14,2:16,2:inf \
                  --out "$out/kernel" 2>&1 | grep -v ETA | tee "$out/kernel_low.txt" ;;
    tune) "$bin/slidesparse" tune --db "$out/tuning_db.json" ${TUNE_ARGS:-} 2>&1 | tail -5 ;;
    norm) "$bin/slidesparse" bench norm --dtype int8 --m-list 512,16384 --sparsity 2:8 2>&1 | tee "$out/norm.txt" ;;
    attention) "$bin/slidesparse" bench attention 2>&1 | tee "$out/attention.txt" ;;
    ab)
      work=${AB_WORK:-/tmp/ab}
      mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      [ -d "$work/BitNet-2B-INT8" ] ||
        "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype int8 --output "$work/BitNet-2B-INT8" >/dev/null
      ab_run() {  # label, env assignment, stage, M, extra flags
        echo "== $1"
        env "$2" "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8" --stage "$3" --m-list "$4" \
          --out "$out/ab" $5 2>&1 | grep -E "tok/s|error|warning"
      }
      ab_run "decode M=512, PDL on" SLIDESPARSE_PDL=1 decode 512 ""
      ab_run "decode M=512, PDL off" SLIDESPARSE_PDL=0 decode 512 ""
      ab_run "prefill M=32768, cuDNN attention" SLIDESPARSE_PDL=1 prefill 32768 ""
      ab_run "prefill M=32768, built-in attention" SLIDESPARSE_PDL=1 prefill 32768 --no-cudnn-attention
      ;;
    *) echo "unknown step $step" ;;
  esac
done
