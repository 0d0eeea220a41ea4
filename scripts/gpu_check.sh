#!/usr/bin/env bash
# On the GPU machine: run the gpu-labelled tests and the GPU benchmarks, print a short table last.
# Binaries come from scripts/build_device.sh (built on the CPU machine, carried in .devbin/) or from
# a local build when .devbin is absent.
# Usage: scripts/gpu_check.sh [tests|memcheck|racecheck|racecheck-attention|quant|norm|attention|linear|kernel|
#                              kernel-low|tune|decode-tuned|ab|binaries|tuned|dense-db|fallback-order|peer|eval|
#                              serve|serve-prefix|serve-scale|timeline|ncu-norm|ncu-decode|ncu-sampling|ncu-attention|
#                              trace-decode|sampled|
#                              sparse-probe|ncu-sparse]...
#   (default: tests quant linear). `memcheck` / `racecheck`: the GPU tests under compute-sanitizer
#   (MEMCHECK_FILTER narrows them); racecheck takes our kernels' tests but attention's (58 tests,
#   ~3.5 min on an H200), `racecheck-attention` the attention kernels' (more than 3.5 min), so that
#   each fits in a call of its own. `decode-tuned`: the BitNet-2B-shaped INT8 2:4 and 2:8 models
#   decoding at M=64,256,512 with a database tuned here, ten times in one process. `ab`: per dtype
#   (AB_DTYPES, default "int8 fp8") the dense model with its default GEMM path and with
#   --cublaslt-dense, and its 2:4 twin (AB_SPARSE=0: without), at decode M=64 and 512 (AB_DECODE_MS)
#   and prefill M=32768 (profiled), no database. `binaries`: a baseline build (AB_OLD, default
#   $bin/slidesparse.old) against $bin/slidesparse, interleaved: bench norm, bench engine-kernels and
#   the models' prefill and decode rates (details at the step). `serve`: the OpenAI
#   server on the INT8 model under 64 streaming clients for 60 s (scripts/serve_load.py), 15 s more
#   with a quarter of the streams dropped mid-way by their clients, then SIGTERM; `serve-prefix` the same
#   with --enable-prefix-caching --batch-invariant and requests of 4 choices sharing a long start.
#   `serve-scale`: the server on the INT8 model with 512 sequences per step under `bench serve`
#   (SCALE_CLIENTS, default "64 512" clients; 256 tokens each, end-of-sequence ignored), next to
#   `bench throughput` decode at the same M: what the server keeps of the engine's decode rate; then
#   tools/serve_bench on the machine's cores.
#   `dense-db`: the dense models' prefill M=32768 without and with a database of their GEMMs alone.
#   `fallback-order`: a 2:4 model decoding with every linear on its dense fallback against its dense
#   model and against itself as tuned, in rotating order (details at the step).
#   `tuned`: the dense and 2:L models (TUNED_DTYPES, default "int8 fp8"; TUNED_SPARSITIES, default "2:4") with a database tuned here, prefill M=32768 (profiled) and
#   decode M=64,512 (TUNED_STAGES: other stage arguments, ';'-separated; TUNED_FALLBACK_AB=1: each 2:L point again
#   with --no-dense-fallback; TUNED_PRUNED_BASELINE=1: each 2:L point also on the dense model of the same pruned
#   weights, `convert --pruned-dense`; TUNED_CUTLASS_SPARSE=1: tune with --cutlass-sparse, in a fresh AB_WORK,
#   and each INT8 2:L point again with --cutlass-sparse); each point with the SM clock and board power it ran
#   at (with_clocks). `sparse-probe`: tools/sparse_gemm_probe
#   (PROBE_MS) and cuSPARSELt's kernels by name under the kernel trace (PROBE_TRACE_MS); `ncu-sparse`:
#   Nsight Compute on single probe tiles (NCU_SPARSE_TILES, NCU_SPARSE_SHAPE, NCU_SPARSE_M).
#   `peer`: transformers' BitNet in bf16 on the prefill protocol, eager and
#   torch.compile (scripts/transformers_peer.py).
#   `attention`: `bench attention` with ATTENTION_ARGS (e.g. "--rope --decode-seqs 64,256,512
#   --decode-context 64,144,272": decode attention with its RoPE as two kernels and as one).
#   `eval`: perplexity on the GPU engine against the CPU reference model (bitnet-tiny), and its time on
#   the BitNet-2B-shaped model. `sampled`: decode with sampled requests (temperature 0.8, top-p
#   0.95) against greedy, on the INT8 model (SAMPLED_MS, default 64,512; SAMPLED_SHARES, default
#   "1 0.1": the share of requests that sample).
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

# Makes the BitNet-2B-shaped model $1 under $work where it is missing: BitNet-2B-INT8, BitNet-2B-FP8
# (prepared from the synthetic BF16 checkpoint) or a 2:L twin such as BitNet-2B-FP8-SlideSparse-2_4
# (converted from its dense model).
ensure_bitnet_2b() {
  local model=$1 dtype dense
  dtype=$(echo "$model" | sed -E 's/.*-(INT8|FP8).*/\1/')
  dense=$work/BitNet-2B-$dtype
  mkdir -p "$work"
  [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
  [ -d "$dense" ] || "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" \
    --dtype $(echo "$dtype" | tr A-Z a-z) --output "$dense" >/dev/null
  if [ ! -d "$work/$model" ] && [[ $model == *-SlideSparse-2_* ]]; then
    "$bin/slidesparse" convert --input "$dense" --sparsity "2:${model##*-2_}" --source "$work/BitNet-2B-BF16" >/dev/null
  fi
}

# Runs "$@" while nvidia-smi samples the SM clock and the board power every 100 ms, then prints their
# means over the samples above 40% of the power limit (the loaded part of the run, not its start-up):
# at the power cap the clock follows each run's energy, which explains rates the kernels alone do not.
with_clocks() {
  local log rc smi
  log=$(mktemp)
  nvidia-smi --query-gpu=clocks.sm,power.draw,power.limit --format=csv,noheader,nounits -lms 100 > "$log" 2>/dev/null &
  smi=$!
  "$@"
  rc=$?
  kill $smi 2>/dev/null
  wait $smi 2>/dev/null
  awk -F', *' '$2 + 0 > 0.4 * $3 {c += $1; p += $2; n++}
    END {if (n) printf "  under load: SM clock %.0f MHz, power %.0f W (%d samples of 100 ms)\n", c / n, p / n, n}' "$log"
  rm -f "$log"
  return $rc
}

steps=${*:-tests quant linear}
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.draw,temperature.gpu --format=csv,noheader
for step in $steps; do
  echo "=== $step"
  case $step in
    tests)
      # SparsePlans (several tuned cuSPARSELt plans of one weight) runs in a process of its own: a
      # library fault there poisons the CUDA context, which would fail every later test.
      "$bin/gpu_tests" --gtest_brief=1 --gtest_filter='-SparsePlans*' 2>&1 | tee "$out/gpu_tests.txt" | tail -30
      echo "== SparsePlans (own process)"
      # Bounded: a library kernel that never finishes must not take the rest of the check with it.
      timeout ${PLANS_TIMEOUT:-120} "$bin/gpu_tests" --gtest_filter='SparsePlans*' 2>&1 |
        tee "$out/gpu_tests_plans.txt" | grep -E "OK|FAILED|M=|rror|sparse plans" | head -40
      echo "SparsePlans exit status ${PIPESTATUS[0]}"
      # Failures rerun with programmatic dependent launch off, to tell whether it matters.
      failed=$(grep -ohE '^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_/]+' "$out/gpu_tests.txt" | awk '{print $NF}' |
               sort -u | paste -sd: -)
      if [ -n "$failed" ]; then
        echo "== failed tests again with SLIDESPARSE_PDL=0"
        SLIDESPARSE_PDL=0 "$bin/gpu_tests" --gtest_brief=1 --gtest_filter="$failed" 2>&1 | tail -8
      fi
      ;;
    quant) "$bin/slidesparse" bench quant --m-list 1024,4096,16384 --sparsity 2:4,2:8,2:16 2>&1 | tee "$out/quant.txt" ;;
    linear) "$bin/slidesparse" bench linear ${LINEAR_ARGS:-} $( [ -f "$out/tuning_db.json" ] && echo --db "$out/tuning_db.json") 2>&1 | tee "$out/linear.txt" ;;
    kernel) "$bin/slidesparse" bench kernel ${KERNEL_ARGS:-} --out "$out/kernel" 2>&1 | grep -v ETA | tee "$out/kernel.txt" ;;
    kernel-low) "$bin/slidesparse" bench kernel ${KERNEL_ARGS:-} --backend cusparselt --sparsity 2:12,2:14,2:16,2:inf \
                  --out "$out/kernel" 2>&1 | grep -v ETA | tee "$out/kernel_low.txt" ;;
    tune) "$bin/slidesparse" tune --db "$out/tuning_db.json" ${TUNE_ARGS:-} 2>&1 | tail -5 ;;
    norm) "$bin/slidesparse" bench norm --dtype int8 --m-list 512,16384 --sparsity 2:8 2>&1 | tee "$out/norm.txt" ;;
    attention) "$bin/slidesparse" bench attention ${ATTENTION_ARGS:-} 2>&1 | tee "$out/attention.txt" ;;
    binaries)
      # Two builds side by side on one machine: AB_OLD (default $bin/slidesparse.old, a build of the
      # baseline commit copied there) and $bin/slidesparse, interleaved over AB_ROUNDS rounds (default
      # 2). Per round and binary: `bench norm` (AB_NORM_ARGS) and `bench engine-kernels`
      # (AB_KERNELS_ARGS) into $out/ab-<binary>-<round>-{norm,kernels}.txt (an empty variable skips
      # it), then the BitNet-2B-shaped models AB_MODELS (default "INT8 FP8"; e.g. FP8-SlideSparse-2_4
      # for a 2:4 twin) at prefill M=32768 and decode M=64,512, with AB_DB_INT8 / AB_DB_FP8 as their
      # tuning databases where set.
      old=${AB_OLD:-$bin/slidesparse.old}
      if [ ! -x "$old" ]; then echo "no baseline binary at $old (AB_OLD)"; continue; fi
      work=${AB_WORK:-/tmp/ab}
      mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      for m in ${AB_MODELS:-INT8 FP8}; do
        dense=$work/BitNet-2B-${m%%-*}
        [ -d "$dense" ] || "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" \
          --dtype $(echo "${m%%-*}" | tr A-Z a-z) --output "$dense" >/dev/null
        if [ "$m" != "${m%%-*}" ] && [ ! -d "$work/BitNet-2B-$m" ]; then
          "$bin/slidesparse" convert --input "$dense" --sparsity $(echo "${m##*-}" | tr _ :) \
            --source "$work/BitNet-2B-BF16" >/dev/null
        fi
      done
      norm_args=${AB_NORM_ARGS---dtype all --m-list 512,16384,32768 --sparsity 2:4}
      kernels_args=${AB_KERNELS_ARGS---t-list 16384,32768}
      for round in $(seq ${AB_ROUNDS:-2}); do
        for b in "$old" "$bin/slidesparse"; do
          tag=$(basename "$b")
          [ -n "$norm_args" ] && "$b" bench norm $norm_args > "$out/ab-$tag-$round-norm.txt" 2>&1
          [ -n "$kernels_args" ] && "$b" bench engine-kernels $kernels_args > "$out/ab-$tag-$round-kernels.txt" 2>&1
          for m in ${AB_MODELS:-INT8 FP8}; do
            case $m in INT8*) db=${AB_DB_INT8:-} ;; *) db=${AB_DB_FP8:-} ;; esac
            rates=$(for stage in "prefill --m-list 32768" "decode --m-list 64,512"; do
                      "$b" bench throughput --model "$work/BitNet-2B-$m" --stage $stage ${db:+--db "$db"} \
                        --out "$out/ab" 2>&1 | grep -oE '(prefill|decode) M=[0-9]+: [0-9]+ tok/s|[Ee]rror.*'
                    done | paste -sd' ' -)
            echo "round $round $tag $m: $rates"
          done
        done
      done
      ;;
    dense-db)
      # The dense models (DENSE_DB_DTYPES, default "fp8 int8") at prefill M=32768 without and with a
      # database of their GEMMs alone (`tune --backend cublaslt --no-kernels`), one process per point.
      work=${AB_WORK:-/tmp/ab}
      mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      for dtype in ${DENSE_DB_DTYPES:-fp8 int8}; do
        model=$work/BitNet-2B-$(echo $dtype | tr a-z A-Z)
        [ -d "$model" ] || "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype $dtype --output "$model" >/dev/null
        "$bin/slidesparse" tune --db "$work/gemms-$dtype.json" --dtype $dtype --backend cublaslt --no-kernels 2>&1 | tail -1
        for db in "" "--db $work/gemms-$dtype.json"; do
          echo "== $dtype dense prefill M=32768, ${db:-no database}"
          "$bin/slidesparse" bench throughput --model "$model" --stage prefill --m-list 32768 $db --out "$out/dense-db" 2>&1 |
            grep -E "tok/s|error"
        done
      done
      ;;
    ncu-decode)
      # Nsight Compute's duration of every kernel of decode steps as the engine replays them (CUDA
      # graphs, clocks and caches left alone): `bench throughput --stage decode --m-list 512` on
      # NCU_DECODE_MODEL (default BitNet-2B-INT8; BitNet-2B-FP8, or a 2:L twin such as
      # BitNet-2B-FP8-SlideSparse-2_4, converted here; DECODE_DB: a tuning database), skipping the
      # first NCU_SKIP launches (prefill and early steps) and timing the next NCU_LAUNCHES. Printed:
      # per kernel, its mean time per step over the whole steps covered (an embedding launch starts
      # a step).
      ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
      if [ -z "$ncu_bin" ]; then echo "ncu not found on this machine"; continue; fi
      work=${AB_WORK:-/tmp/ab}
      model=${NCU_DECODE_MODEL:-BitNet-2B-INT8}
      ensure_bitnet_2b "$model"
      "$ncu_bin" --kernel-name-base demangled --metrics gpu__time_duration.sum --print-units base --cache-control none --clock-control none \
        --launch-skip ${NCU_SKIP:-40000} --launch-count ${NCU_LAUNCHES:-1500} --csv \
        "$bin/slidesparse" bench throughput --model "$work/$model" --stage decode --m-list 512 \
        $( [ -n "${DECODE_DB:-}" ] && echo --db "$DECODE_DB") --out "$out/ncu-decode" > "$out/ncu_decode.csv" 2>"$out/ncu_decode.err"
      python3 - "$out/ncu_decode.csv" <<'PY'
import csv, sys, re, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if len(r) > 10]
head = rows[0]; rows = rows[1:]
name_i, value_i, id_i = head.index("Kernel Name"), head.index("Metric Value"), head.index("ID")
launches = [(int(r[id_i]), r[name_i], float(r[value_i].replace(",", ""))) for r in rows]
starts = [i for i, (_, n, _) in enumerate(launches) if "embedding" in n]
if len(starts) < 2: sys.exit("fewer than two step starts among the profiled launches")
steps = launches[starts[0]:starts[-1]]
per = collections.OrderedDict()
for _, n, v in steps:
    short = re.sub(r"\(.*", "", n)[:90]
    c = per.setdefault(short, [0.0, 0]); c[0] += v; c[1] += 1
k = len(starts) - 1
total = sum(v for v, _ in per.values()) / k
print(f"{k} decode steps, {total / 1e6:.3f} ms of kernel time per step (durations in ns, launches per step)")
for n, (v, c) in sorted(per.items(), key=lambda x: -x[1][0]):
    print(f"  {v / k / 1e3:9.1f} us {100 * v / k / total:5.1f}%  {c / k:5.1f}x  {n}")
PY
      ;;
    timeline)
      # The tensor norm and a copy of its rows, block by block (tools/norm_timeline, built by
      # scripts/build_device.sh).
      if [ ! -x "$bin/norm_timeline" ]; then
        echo "norm_timeline not built (scripts/build_device.sh builds it)"; continue
      fi
      "$bin/norm_timeline" --m-list ${TIMELINE_M_LIST:-512,16384,65536} 2>&1 | tee "$out/timeline.txt" ;;
    trace-decode)
      # Every kernel's start and end in the decode protocol (tools/kernel_trace.cc, injected through
      # CUPTI; graph nodes traced without serializing them), then scripts/trace_report.py: per step the
      # span, kernel time, idle time inside the graph and the host's gap to the next step. TRACE_RUNS:
      # space-separated models under AB_WORK (default /tmp/ab), each optionally ":" a tuning database
      # (default "BitNet-2B-INT8"); TRACE_M: the decode M (default 512).
      if [ ! -e "$bin/libkernel_trace.so" ]; then
        echo "libkernel_trace.so not built (scripts/build_device.sh builds it)"; continue
      fi
      work=${AB_WORK:-/tmp/ab}
      for run in ${TRACE_RUNS:-BitNet-2B-INT8}; do
        model=${run%%:*}; db=; [[ $run == *:* ]] && db=${run#*:}
        ensure_bitnet_2b "$model"
        trace=$out/trace-$model-$(basename "${db:-nodb}" .json).csv
        echo "== $model ${db:+(database $(basename "$db"))}"
        CUDA_INJECTION64_PATH=$PWD/$bin/libkernel_trace.so KERNEL_TRACE_OUT=$trace \
          "$bin/slidesparse" bench throughput --model "$work/$model" --stage decode --m-list ${TRACE_M:-512} \
          ${db:+--db "$db"} --out "$out/trace" 2>&1 | grep -E "^decode M=|[Ee]rror"
        python3 scripts/trace_report.py "$trace" | head -${TRACE_LINES:-40}
      done
      ;;
    ncu-sampling)
      # Nsight Compute (--set full) on one launch of the sampling kernel from `bench engine-kernels`
      # (NCU_SAMPLING_ROWS rows, default 64; NCU_SAMPLING_CASE: 1 top-p (default), 2 top-k + top-p):
      # the headline sections, then the SASS lines with the most warp-stall samples and their main
      # stall reason.
      ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
      if [ -z "$ncu_bin" ]; then echo "ncu not found on this machine"; continue; fi
      rows=${NCU_SAMPLING_ROWS:-64}
      # 125 launches per case (25 warm-up, 100 timed): skip to the sixth launch of the chosen case.
      "$ncu_bin" --kernel-name regex:sample_rows --launch-skip $(( 125 * ${NCU_SAMPLING_CASE:-1} + 5 )) --launch-count 1 \
        --set full --import-source no -o "$out/sampling" -f \
        "$bin/slidesparse" bench engine-kernels --t-list 512 --rows "$rows" --warmup 25 --repeat 100 > "$out/ncu_sampling_run.txt" 2>&1
      "$ncu_bin" --import "$out/sampling.ncu-rep" --page details 2>&1 | grep -E "Duration|Registers Per|Achieved Occupancy|Theoretical Occ|Issue Slots Busy|Executed Ipc A|Memory Throughput|Warp Cycles Per Issued"
      "$ncu_bin" --import "$out/sampling.ncu-rep" --page source --csv --print-source sass > "$out/sampling_sass.csv" 2>/dev/null
      python3 scripts/ncu_stalls.py "$out/sampling_sass.csv" "${NCU_SAMPLING_LINES:-20}"
      ;;
    ncu-attention)
      # Nsight Compute (--set full, clocks left alone) on one eager launch each of decode attention
      # and of its copy floor (`bench attention --floors`) at NCU_ATTENTION_SEQS sequences (default 512)
      # x NCU_ATTENTION_CONTEXT keys (default 64): the headline sections, then where each one's warps
      # stall (scripts/ncu_stalls.py).
      ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
      if [ -z "$ncu_bin" ]; then echo "ncu not found on this machine"; continue; fi
      for kernel in attention_decode_kernel attention_decode_floor_kernel; do
        # Each variant launches 330 times eagerly, then 330 times from graphs; the copy floor comes after
        # the grid floor (the same kernel template). The first 40 launches of each warm up.
        skip=40; [ $kernel = attention_decode_floor_kernel ] && skip=$(( 660 + 40 ))
        echo "== $kernel"
        "$ncu_bin" --kernel-name regex:$kernel --launch-skip $skip --launch-count 1 --set full --import-source no \
          --clock-control none -o "$out/ncu_$kernel" -f \
          "$bin/slidesparse" bench attention --seqs 1 --seq-len 128 --no-cudnn --decode-seqs ${NCU_ATTENTION_SEQS:-512} \
          --decode-context ${NCU_ATTENTION_CONTEXT:-64} --floors > "$out/ncu_${kernel}_run.txt" 2>&1
        "$ncu_bin" --import "$out/ncu_$kernel.ncu-rep" --page details 2>&1 | grep -E "Duration|Registers Per|Achieved Occupancy|Theoretical Occ|Issue Slots Busy|Executed Ipc A|Memory Throughput|DRAM Throughput|Warp Cycles Per Issued|Eligible Warps"
        "$ncu_bin" --import "$out/ncu_$kernel.ncu-rep" --page source --csv --print-source sass > "$out/ncu_${kernel}_sass.csv" 2>/dev/null
        python3 scripts/ncu_stalls.py "$out/ncu_${kernel}_sass.csv" ${NCU_ATTENTION_LINES:-16}
      done
      ;;
    ncu-norm)
      # Nsight Compute on the fused norms of `bench norm` (NCU_NORM_ARGS), the first NCU_LAUNCHES
      # launches whose name matches NCU_KERNEL (a regex, e.g. Relu2MulStage): speed of light,
      # occupancy, warp stalls, pipe utilization, instruction mix.
      ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
      if [ -z "$ncu_bin" ]; then echo "ncu not found on this machine"; continue; fi
      "$ncu_bin" --kernel-name-base demangled --kernel-name "regex:${NCU_KERNEL:-rmsnorm_kernel}" --launch-count ${NCU_LAUNCHES:-12} \
        --section SpeedOfLight --section Occupancy --section WarpStateStats --section ComputeWorkloadAnalysis \
        --section InstructionStats --section LaunchStats --section MemoryWorkloadAnalysis \
        "$bin/slidesparse" bench norm ${NCU_NORM_ARGS:---dtype int8 --m-list 16384 --sparsity 2:4} --warmup 0 --repeat 1 \
        > "$out/ncu_norm.txt" 2>&1
      grep -E "rmsnorm_kernel|Stall|Duration|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per|Executed Ipc A|Issue Slots Busy" \
        "$out/ncu_norm.txt" | head -120
      ;;
    memcheck|racecheck|racecheck-attention)
      tool=${step%-attention}
      case $step in
        racecheck) filter=${MEMCHECK_FILTER:-*ActivationQuant*:*NormQuant*:RopeKv*:SharedMemory*:Embedding*:Argmax*} ;;
        racecheck-attention) filter=${MEMCHECK_FILTER:-Attention*-*Cudnn*} ;;
        memcheck) filter=${MEMCHECK_FILTER:--SparsePlans*} ;;
      esac
      /usr/local/cuda/bin/compute-sanitizer --tool $tool --print-limit 20 "$bin/gpu_tests" --gtest_brief=1 \
        --gtest_filter="$filter" > "$out/$step.txt" 2>&1
      echo "rc=$?"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|tests ran|PASSED|FAILED" "$out/$step.txt" | tail -8
      grep -m 12 -E "Invalid|out of bounds|hazard|Error" "$out/$step.txt" ;;
    decode-diag)
      # Where a decode fault with a tuning database comes from: a 2-layer INT8 2:4 model with the
      # database in $DIAG_DB, with and without graphs, launch-blocking, then under compute-sanitizer.
      work=/tmp/diag; mkdir -p $work; B="$bin/slidesparse"; db=${DIAG_DB:?set DIAG_DB}
      $B synth --preset bitnet-2b --layers 2 --output $work/bf16 >/dev/null &&
        $B prepare --input $work/bf16 --dtype int8 --output $work/int8 >/dev/null &&
        $B convert --input $work/int8 --sparsity 2:4 --source $work/bf16 >/dev/null
      C=$work/int8-SlideSparse-2_4
      for args in "--db $db" "--db $db --no-cuda-graphs" ""; do
        echo "== 2 layers, decode M=64,256,512 $args"
        timeout 120 $B bench throughput --model $C --stage decode --m-list 64,256,512 $args --out /tmp/r 2>&1 |
          grep -E "tok/s|error" | cut -c1-400
      done
      # Variants of the database, to tell its parts apart: no Segment-K GEMM entries, no cuSPARSELt
      # entries, no kernel launch shapes.
      python3 - "$db" "$work" <<'PY'
import json, sys
db = json.load(open(sys.argv[1]))
def save(name, d): json.dump(d, open(f"{sys.argv[2]}/{name}.json", "w"))
d = json.loads(json.dumps(db))
for g in d["gemms"]:
    g["by_m"] = {m: e for m, e in g["by_m"].items() if e["split_k"] != -1}
save("no_segment_k", d)
d = json.loads(json.dumps(db)); d["gemms"] = [g for g in d["gemms"] if g["backend"] != "cusparselt"]; save("no_sparse_gemms", d)
d = json.loads(json.dumps(db)); d["kernels"] = []; save("no_kernels", d)
PY
      for variant in no_segment_k no_sparse_gemms no_kernels; do
        echo "== 2 layers, decode M=64,256,512, database $variant"
        timeout 120 $B bench throughput --model $C --stage decode --m-list 64,256,512 --db $work/$variant.json --out /tmp/r 2>&1 |
          grep -E "tok/s|error" | cut -c1-300
      done
      echo "== CUDA_LAUNCH_BLOCKING=1, --db, M=256"
      CUDA_LAUNCH_BLOCKING=1 timeout 120 $B bench throughput --model $C --stage decode --m-list 256 --db $db --out /tmp/r 2>&1 |
        grep -E "tok/s|error" | cut -c1-600
      echo "== compute-sanitizer, --db, --no-cuda-graphs, M=256"
      timeout 200 /usr/local/cuda/bin/compute-sanitizer --print-limit 4 $B bench throughput --model $C --stage decode \
        --m-list 256 --db $db --no-cuda-graphs --out /tmp/r > "$out/diag_sanitizer.txt" 2>&1
      grep -E "=====.*(Invalid|Error|at |by thread|Access)|error" "$out/diag_sanitizer.txt" | head -24 | cut -c1-300
      ;;
    decode-tuned|ab)
      work=${AB_WORK:-/tmp/ab}
      mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      [ -d "$work/BitNet-2B-INT8" ] ||
        "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype int8 --output "$work/BitNet-2B-INT8" >/dev/null
      if [ $step = decode-tuned ]; then
        for s in 4 8; do
          [ -d "$work/BitNet-2B-INT8-SlideSparse-2_$s" ] || "$bin/slidesparse" convert --input "$work/BitNet-2B-INT8" \
            --sparsity 2:$s --source "$work/BitNet-2B-BF16" >/dev/null
        done
        if [ -n "${TUNED_DB:-}" ]; then cp "$TUNED_DB" "$work/tuning_db.json"; else
          "$bin/slidesparse" tune --db "$work/tuning_db.json" --dtype int8 --sparsity 2:4,2:8 2>&1 | grep -v ETA | tail -8
        fi
        for s in 4 8; do
          reps=${DECODE_REPEATS:-10}
          echo "== INT8 2:$s decode M=64,256,512 with the tuned database, $reps times in one process"
          "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8-SlideSparse-2_$s" --stage decode \
            --m-list "$(for i in $(seq $reps); do printf '64,256,512,'; done | sed 's/,$//')" \
            --db "$work/tuning_db.json" --out "$out/decode-tuned" 2>&1 | grep -E "tok/s|error" | cut -c1-300
          echo "== INT8 2:$s prefill M=512,2048,8192 with the tuned database, 3 times in one process"
          "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8-SlideSparse-2_$s" --stage prefill \
            --m-list 512,2048,8192,512,2048,8192,512,2048,8192 --db "$work/tuning_db.json" --out "$out/decode-tuned" 2>&1 |
            grep -E "tok/s|error" | cut -c1-300
        done
        cp "$work/tuning_db.json" "$out/" 2>/dev/null
      else
        ab_run() {  # label, model folder, stage, M, extra flags
          echo "== $1"
          # SM clock and power while it runs: a power-capped clock slows every phase alike.
          nvidia-smi --query-gpu=clocks.sm,power.draw --format=csv,noheader,nounits -lms 200 > "$out/clocks.csv" &
          local sampler=$!
          "$bin/slidesparse" bench throughput --model "$work/$2" --stage "$3" --m-list "$4" \
            --out "$out/ab" $5 2>&1 | grep -E "tok/s|error|warning|attention  |GEMM  |norm|rope|ceilings|linear-layer"
          kill $sampler 2>/dev/null; wait $sampler 2>/dev/null
          awk -F', ' '{n++; c+=$1; if (min == "" || $1 < min) min = $1; if ($2 > p) p = $2}
                      END {if (n) printf "  SM clock mean %.0f MHz, min %d MHz; power max %.0f W (%d samples)\n", c/n, min, p, n}' \
            "$out/clocks.csv"
        }
        for dtype in ${AB_DTYPES:-int8 fp8}; do
          D=$(echo $dtype | tr a-z A-Z)
          [ -d "$work/BitNet-2B-$D" ] ||
            "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype $dtype --output "$work/BitNet-2B-$D" >/dev/null
          [ "${AB_SPARSE:-1}" = 0 ] || [ -d "$work/BitNet-2B-$D-SlideSparse-2_4" ] ||
            "$bin/slidesparse" convert --input "$work/BitNet-2B-$D" --sparsity 2:4 --source "$work/BitNet-2B-BF16" >/dev/null
          for m in ${AB_DECODE_MS:-64 512}; do
            ab_run "$D dense decode M=$m, default (scaled GEMM on Hopper)" BitNet-2B-$D decode $m ""
            ab_run "$D dense decode M=$m, --cublaslt-dense" BitNet-2B-$D decode $m --cublaslt-dense
            [ "${AB_SPARSE:-1}" = 1 ] && ab_run "$D 2:4 decode M=$m" BitNet-2B-$D-SlideSparse-2_4 decode $m ""
          done
          ab_run "$D dense prefill M=32768, default" BitNet-2B-$D prefill 32768 --profile
          ab_run "$D dense prefill M=32768, --cublaslt-dense" BitNet-2B-$D prefill 32768 "--profile --cublaslt-dense"
          [ "${AB_SPARSE:-1}" = 1 ] && ab_run "$D 2:4 prefill M=32768" BitNet-2B-$D-SlideSparse-2_4 prefill 32768 --profile
        done
      fi
      ;;
    tuned)
      # The dense models and their 2:L twins (TUNED_SPARSITIES, default "2:4") with a database tuned
      # here for those patterns: prefill M=32768 profiled and decode M=64,512, as the pipeline
      # measures them.
      work=${AB_WORK:-/tmp/ab}
      dtypes=${TUNED_DTYPES:-int8 fp8}
      sparsities=${TUNED_SPARSITIES:-2:4}
      mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      for dtype in $dtypes; do
        D=$(echo $dtype | tr a-z A-Z)
        [ -d "$work/BitNet-2B-$D" ] ||
          "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype $dtype --output "$work/BitNet-2B-$D" >/dev/null
        for s in $sparsities; do
          [ -d "$work/BitNet-2B-$D-SlideSparse-${s/:/_}" ] || "$bin/slidesparse" convert --input "$work/BitNet-2B-$D" \
            --sparsity $s --source "$work/BitNet-2B-BF16" >/dev/null
          if [ "${TUNED_PRUNED_BASELINE:-0}" = 1 ] && [ ! -d "$work/BitNet-2B-$D-pruned-${s/:/_}" ]; then
            "$bin/slidesparse" convert --input "$work/BitNet-2B-$D" --sparsity $s --source "$work/BitNet-2B-BF16" \
              --pruned-dense >/dev/null
          fi
        done
      done
      cutlass_sparse=${TUNED_CUTLASS_SPARSE:-0}
      [ -f "$work/tuned.json" ] || { /usr/bin/time -f "tune: %e s" "$bin/slidesparse" tune --db "$work/tuned.json" \
        --dtype $(echo $dtypes | tr ' ' ',') --sparsity $(echo $sparsities | tr ' ' ',') \
        $( [ "$cutlass_sparse" = 1 ] && echo --cutlass-sparse) 2>&1 | grep -v ETA | tail -4; }
      for dtype in $dtypes; do
        D=$(echo $dtype | tr a-z A-Z)
        models="BitNet-2B-$D"
        for s in $sparsities; do
          models="$models BitNet-2B-$D-SlideSparse-${s/:/_}"
          # The dense model of the same pruned weights: what the 2:L model's data costs at the same kernels.
          [ "${TUNED_PRUNED_BASELINE:-0}" = 1 ] && models="$models BitNet-2B-$D-pruned-${s/:/_}"
        done
        for model in $models; do
          IFS=';' read -ra stages <<< "${TUNED_STAGES:-prefill --m-list 32768 --profile;decode --m-list 64,512}"
          for stage in "${stages[@]}"; do
            echo "== $model $stage, tuned"
            # A pruned dense model's results would land where the dense model's do: a folder of their own.
            with_clocks "$bin/slidesparse" bench throughput --model "$work/$model" --stage $stage \
              --db "$work/tuned.json" --out "$out/tuned$([[ $model == *-pruned-* ]] && echo -pruned)" 2>&1 |
              grep -E "tok/s|error|warning|dense fallback|step breakdown|^  "
            # The 2:L model once more without the dense fallback (the sparse GEMM at every row count).
            if [ "${TUNED_FALLBACK_AB:-0}" = 1 ] && [[ $model == *SlideSparse* ]]; then
              echo "== $model $stage, tuned, --no-dense-fallback"
              with_clocks "$bin/slidesparse" bench throughput --model "$work/$model" --stage $stage \
                --db "$work/tuned.json" --no-dense-fallback --out "$out/tuned-no-fallback" 2>&1 |
                grep -E "tok/s|error|under load"
            fi
            # The INT8 2:L model once more on the sparse scaled GEMM (CUTLASS, the fused epilogues).
            if [ "$cutlass_sparse" = 1 ] && [ "$dtype" = int8 ] && [[ $model == *SlideSparse* ]]; then
              echo "== $model $stage, tuned, --cutlass-sparse"
              "$bin/slidesparse" bench throughput --model "$work/$model" --stage $stage --db "$work/tuned.json" \
                --cutlass-sparse --out "$out/tuned-cutlass-sparse" 2>&1 |
                grep -E "tok/s|error|warning|dense fallback|step breakdown|^  "
            fi
          done
        done
      done
      cp "$work/tuned.json" "$out/" 2>/dev/null
      ;;
    sparse-probe)
      # CUTLASS's structured-sparse tiles, clusters, scheduler orders and fused epilogues against
      # cuSPARSELt's best plan (tools/sparse_gemm_probe at PROBE_MS), then cuSPARSELt's fastest kernel
      # per shape at PROBE_TRACE_MS, named through the kernel trace (the probe reruns each point's
      # fastest plan right after a 7-byte memset).
      if [ ! -x "$bin/sparse_gemm_probe" ]; then echo "sparse_gemm_probe not built (scripts/build_device.sh)"; continue; fi
      "$bin/sparse_gemm_probe" --m-list "${PROBE_MS:-512,4096,32768}" > "$out/sparse_probe.txt" 2>&1
      sed -E 's/ auto\/1.*\| best/ | best/' "$out/sparse_probe.txt"
      if [ -f "$bin/libkernel_trace.so" ]; then
        CUDA_INJECTION64_PATH="$PWD/$bin/libkernel_trace.so" KERNEL_TRACE_OUT="$out/sparse_probe_trace.csv" \
          "$bin/sparse_gemm_probe" --m-list "${PROBE_TRACE_MS:-32768}" > /dev/null 2>&1
        echo "== cuSPARSELt's fastest kernel per shape and M (in the probe's order)"
        python3 - "$out/sparse_probe_trace.csv" <<'PY'
import csv, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["start_ns"]))
for i, r in enumerate(rows):
    if r["what"] == "memset" and r["grid_or_bytes"] == "7":
        k = next((x for x in rows[i + 1:] if x["what"] == "kernel"), None)
        if k:
            us = (int(k["end_ns"]) - int(k["start_ns"])) / 1e3
            print(f'{us:9.1f} us  grid {k["grid_or_bytes"]:>4}  {k["name"][:160]}')
PY
      fi ;;
    ncu-sparse)
      # Nsight Compute on the first launch of each sparse GEMM tile in NCU_SPARSE_TILES (default the
      # plain and the relu2 * up 128x256 1x1 tiles) on one shape (NCU_SPARSE_SHAPE, default gate_up)
      # at NCU_SPARSE_M (default 32768): what a fused epilogue costs the transposed kernel.
      ncu_bin=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
      if [ -z "$ncu_bin" ]; then echo "ncu not found on this machine"; continue; fi
      if [ ! -x "$bin/sparse_gemm_probe" ]; then echo "sparse_gemm_probe not built (scripts/build_device.sh)"; continue; fi
      read -ra ncu_tiles <<< "${NCU_SPARSE_TILES:-coop-128x256x128-1x1 coop-128x256x128-1x1+relu2*up}"
      for tile in "${ncu_tiles[@]}"; do
        report="$out/ncu_sparse_${NCU_SPARSE_SHAPE:-gate_up}_${tile//[^a-z0-9x-]/_}.txt"  # one per shape and tile
        echo "== $tile"
        "$ncu_bin" --clock-control none --kernel-name-base mangled --kernel-name regex:WarpSpecializedSparse \
          --launch-count 1 --section SpeedOfLight --section WarpStateStats --section MemoryWorkloadAnalysis \
          --section SchedulerStats --section InstructionStats \
          "$bin/sparse_gemm_probe" --m-list "${NCU_SPARSE_M:-32768}" --shape "${NCU_SPARSE_SHAPE:-gate_up}" \
          --tile "$tile" --no-cusparselt > "$report" 2>&1
        grep -E "Stall|Duration|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Executed Ipc A|Issue Slots Busy|L2 Hit|Mem Busy|rror" \
          "$report" | head -40
      done ;;
    sampled)
      work=${AB_WORK:-/tmp/ab}
      ensure_bitnet_2b BitNet-2B-INT8
      echo "== greedy"
      "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8" --stage decode --m-list ${SAMPLED_MS:-64,512} \
        --out "$out/sampled-greedy" 2>&1 | grep -E "^decode M=[0-9]+:|[Ee]rror"
      for share in ${SAMPLED_SHARES:-1 0.1}; do
        echo "== temperature 0.8, top-p 0.95, sampled share $share"
        "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8" --stage decode --m-list ${SAMPLED_MS:-64,512} \
          --temperature 0.8 --top-p 0.95 --sampled-share "$share" --out "$out/sampled-$share" 2>&1 |
          grep -E "^decode M=[0-9]+:|[Ee]rror"
      done
      ;;
    fallback-order)
      # Whether a 2:4 checkpoint decodes slower than its dense model with the same GEMMs: the dense
      # model (FALLBACK_DTYPE, default fp8) and its 2:4 twin with a database tuned here (cuSPARSELt
      # and cuBLASLt at FALLBACK_M, default 512), and the twin again with a copy of that database in
      # which cuSPARSELt's times at FALLBACK_M are 1e6 us, so that every linear runs its dense
      # fallback. Decode at FALLBACK_M, FALLBACK_ROUNDS rounds (default 3), the order rotating each
      # round so that no model always runs first or last.
      work=${AB_WORK:-/tmp/ab}
      dtype=${FALLBACK_DTYPE:-fp8}
      D=$(echo $dtype | tr a-z A-Z)
      m=${FALLBACK_M:-512}
      ensure_bitnet_2b "BitNet-2B-$D-SlideSparse-2_4"
      db=$out/fallback-$dtype.json
      "$bin/slidesparse" tune --db "$db" --dtype $dtype --sparsity 2:4 --coarse-m $m --fine-m $m --decode-m $m 2>&1 | tail -1
      python3 - "$db" "$out/fallback-$dtype-all-dense.json" "$m" <<'PY'
import json, sys
db = json.load(open(sys.argv[1]))
for gemm in db["gemms"]:
    if gemm["backend"] == "cusparselt" and sys.argv[3] in gemm["by_m"]:
        gemm["by_m"][sys.argv[3]]["latency_us"] = 1e6
json.dump(db, open(sys.argv[2], "w"))
PY
      runs=("BitNet-2B-$D $db" "BitNet-2B-$D-SlideSparse-2_4 $db" "BitNet-2B-$D-SlideSparse-2_4 $out/fallback-$dtype-all-dense.json")
      for round in $(seq ${FALLBACK_ROUNDS:-3}); do
        for i in 0 1 2; do
          read -r model model_db <<< "${runs[$(( (i + round) % 3 ))]}"
          rate=$("$bin/slidesparse" bench throughput --model "$work/$model" --stage decode --m-list $m --db "$model_db" \
                   --out "$out/fallback" 2>&1 | grep -oE 'decode M=[0-9]+: [0-9]+ tok/s|[Ee]rror.*')
          echo "round $round $model $(basename "$model_db" .json): $rate"
        done
      done
      ;;
    peer)
      # transformers' BitNet (bf16) on the same prefill protocol, eager and torch.compile.
      timeout ${PEER_TIMEOUT:-420} python3 scripts/transformers_peer.py --m-list ${PEER_M:-32768} \
        --modes ${PEER_MODES:-eager,compile} 2>&1 |
        grep -E "^transformers"
      ;;
    eval)
      # Perplexity on the GPU engine against the CPU reference model (bitnet-tiny, dense INT8 and
      # 2:4), then on the BitNet-2B-shaped INT8 model (time only).
      work=${AB_WORK:-/tmp/ab}; mkdir -p "$work"; B="$bin/slidesparse"; text=tests/data/tokenizers/corpus.txt
      [ -d "$work/tiny-bf16" ] || $B synth --preset bitnet-tiny --output "$work/tiny-bf16" >/dev/null
      [ -d "$work/tiny-int8" ] || $B prepare --input "$work/tiny-bf16" --dtype int8 --output "$work/tiny-int8" >/dev/null
      [ -d "$work/tiny-int8-SlideSparse-2_4" ] ||
        $B convert --input "$work/tiny-int8" --sparsity 2:4 --source "$work/tiny-bf16" >/dev/null
      for m in tiny-int8 tiny-int8-SlideSparse-2_4; do
        for where in --cpu-reference ""; do
          echo "== eval $m ${where:-(GPU)}"
          $B eval --model "$work/$m" --text-file $text --context 128 --stride 64 $where 2>&1 | tail -2
        done
      done
      [ -d "$work/BitNet-2B-BF16" ] || $B synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      [ -d "$work/BitNet-2B-INT8" ] ||
        $B prepare --input "$work/BitNet-2B-BF16" --dtype int8 --output "$work/BitNet-2B-INT8" >/dev/null
      echo "== eval BitNet-2B-INT8 (GPU)"
      $B eval --model "$work/BitNet-2B-INT8" --text-file $text --context 1024 --stride 512 2>&1 | tail -2
      ;;
    serve|serve-prefix)
      # `serve` on the BitNet-2B-shaped INT8 model (synth's placeholder tokenizer: every id decodes to
      # distinct text) under SERVE_CLIENTS streaming clients for SERVE_SECONDS, then SIGTERM: exit 0.
      # serve-prefix: the server with --enable-prefix-caching and --batch-invariant, requests of 4
      # choices whose prompts all start with the same ~1,000-token text: every choice must still equal
      # the solo reply, and the cache's hits are printed. (Without --batch-invariant, contexts this long
      # are cut into decode-attention splits by batch size and long fresh prompts run cuDNN, so replies
      # under load differ from the solo one wherever two logits nearly tie.)
      work=${AB_WORK:-/tmp/ab}; mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      [ -d "$work/BitNet-2B-INT8" ] ||
        "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype int8 --output "$work/BitNet-2B-INT8" >/dev/null
      load_args=(); server_args=()
      if [ "$step" = serve-prefix ]; then
        server_args=(--enable-prefix-caching --batch-invariant)
        load_args=(--n 4 --system-prompt "$(python3 -c 'print("You are a careful assistant. " * 35, end="")')")
      fi
      "$bin/slidesparse" serve --model "$work/BitNet-2B-INT8" --port 8000 --max-model-len 2048 "${server_args[@]}" \
        ${SERVE_ARGS:-} > "$out/$step.log" 2>&1 &
      pid=$!
      for i in $(seq 120); do curl -sf http://127.0.0.1:8000/health >/dev/null && break; sleep 1; done
      python3 scripts/serve_load.py --url http://127.0.0.1:8000 --clients ${SERVE_CLIENTS:-64} \
        --seconds ${SERVE_SECONDS:-60} --max-tokens ${SERVE_MAX_TOKENS:-64} "${load_args[@]}" 2>&1 | tee "$out/${step}_load.txt"
      curl -s http://127.0.0.1:8000/metrics > "$out/${step}_metrics.txt"
      # Clients that drop their stream mid-way: every dropped request must leave the engine.
      python3 scripts/serve_load.py --url http://127.0.0.1:8000 --clients ${SERVE_CLIENTS:-64} --seconds 15 \
        --max-tokens ${SERVE_MAX_TOKENS:-64} --disconnect-share 0.25 "${load_args[@]}" 2>&1 | tee "$out/${step}_disconnect.txt"
      kill -TERM $pid; wait $pid; echo "serve exit status $?"
      tail -3 "$out/$step.log"
      if [ "$step" = serve-prefix ]; then
        # A conversation of three turns in the terminal: each turn's prompt repeats the earlier ones,
        # whose blocks the prefix cache must supply (hits printed per turn).
        echo "== chat, three turns, --enable-prefix-caching"
        printf '%s\n' "$(python3 -c 'print("Tell me a story. " * 20, end="")')" "And then?" "How does it end?" |
          "$bin/slidesparse" chat --model "$work/BitNet-2B-INT8" --max-model-len 2048 --max-tokens 64 \
            --enable-prefix-caching --stats 2>&1 | tail -6
      fi
      ;;
    serve-scale)
      # The server's throughput at the engine's decode Ms: `bench serve`'s C++ clients (Python's would
      # be the bottleneck at 512 streams), one connection per request, 16 prompt and 256 generated
      # tokens each (the decode protocol's shape).
      work=${AB_WORK:-/tmp/ab}; mkdir -p "$work"
      [ -d "$work/BitNet-2B-BF16" ] || "$bin/slidesparse" synth --preset bitnet-2b --output "$work/BitNet-2B-BF16" >/dev/null
      [ -d "$work/BitNet-2B-INT8" ] ||
        "$bin/slidesparse" prepare --input "$work/BitNet-2B-BF16" --dtype int8 --output "$work/BitNet-2B-INT8" >/dev/null
      "$bin/slidesparse" serve --model "$work/BitNet-2B-INT8" --port 8000 --max-model-len 2048 --max-num-seqs 512 \
        --max-connections 640 > "$out/serve-scale.log" 2>&1 &
      pid=$!
      for i in $(seq 120); do curl -sf http://127.0.0.1:8000/health >/dev/null && break; sleep 1; done
      for clients in ${SCALE_CLIENTS:-64 512}; do
        echo "== bench serve, $clients clients"
        "$bin/slidesparse" bench serve --url http://127.0.0.1:8000 --clients "$clients" --seconds 20 --input-len 16 \
          --output-len 256 --out "$out/serve-scale-$clients.json" 2>&1 | tee -a "$out/serve-scale.txt"
      done
      echo "== serve_bench (the server over a backend that computes nothing, on this machine's cores)"
      "$bin/serve_bench" --clients 512 --seconds 10 --step-us 5000 --max-tokens 256 2>&1 | tee -a "$out/serve-scale.txt"
      curl -s http://127.0.0.1:8000/metrics > "$out/serve-scale_metrics.txt"
      kill -TERM $pid; wait $pid; echo "serve exit status $?"
      echo "== bench throughput decode (the engine alone, the decode protocol)"
      "$bin/slidesparse" bench throughput --model "$work/BitNet-2B-INT8" --stage decode \
        --m-list "$(echo ${SCALE_CLIENTS:-64 512} | tr ' ' ,)" --out /tmp/scale-bench 2>&1 | tail -4
      ;;
    *) echo "unknown step $step" ;;
  esac
done
