#!/usr/bin/env bash
# On the GPU machine (~4 min): where does the cuSPARSELt decode fault of docs/PERF.md ("Session 4") come
# from? The standalone probe over the four BitNet linear shapes, then the engine on a 2-layer model with
# and without CUDA graphs and the tuning database, then compute-sanitizer. Binaries: scripts/build_device.sh.
cd "$(dirname "$0")/.."
set -u
source scripts/device_env.sh
DB=docs/results/h100-bitnet-2b/results/tuning/tuning_db.json
P=.devbin/cusparselt_graph_probe
B=.devbin/slidesparse
echo "##### probe: one linear shape, 30 layers, steps E(ager) C(apture) R(eplay) B(cuBLASLt on the workspace)"
for m in 16 256; do for shape in qkv o gate_up down; do for db in "" "--db $DB"; do
  echo "== $shape m=$m ${db:+tuned}"; timeout 60 $P --shape $shape --m $m $db --steps ECRERXRBRE 2>&1 | grep -v "^step.*ok$"
done; done; done
echo "##### probe: rows 256 pinned to alg 0 without split-K (is split-K / Segment-K the trigger?)"
for shape in qkv o gate_up down; do
  echo "== $shape m=256 alg 0 split-k 1"; timeout 60 $P --shape $shape --m 256 --alg 0 --split-k 1 --steps ECRERXRBRE 2>&1 | grep -v "^step.*ok$"
done
echo "##### engine: 2-layer BitNet-2B-shaped INT8 2:4, decode M=256 (the pipeline's fault)"
W=/tmp/d2; mkdir -p $W
$B synth --preset bitnet-2b --layers 2 --output $W/BitNet-2B-BF16 > /dev/null
$B prepare --input $W/BitNet-2B-BF16 --dtype int8 --output $W/BitNet-2B-INT8 > /dev/null
$B convert --input $W/BitNet-2B-INT8 --sparsity 2:4 --source $W/BitNet-2B-BF16 > /dev/null
C=$W/BitNet-2B-INT8-SlideSparse-2_4
for args in "--db $DB" "--db $DB --no-cuda-graphs" "" ; do
  echo "== decode M=256 $args"; timeout 60 $B bench throughput --model $C --stage decode --m-list 256 $args --out /tmp/r 2>&1 | grep -E "tok/s|error"
done
echo "== decode M=64,128,256,512 --db (one process)"; timeout 90 $B bench throughput --model $C --stage decode --m-list 64,128,256,512 --db $DB --out /tmp/r 2>&1 | grep -E "tok/s|error"
echo "##### engine switches (runtime/model_runner.h): which plans the decode graphs replay, whose workspace"
for env in SLIDESPARSE_SPARSE_GRAPH_PLANS=tuned SLIDESPARSE_SPARSE_GRAPH_PLANS=tuned-no-segment-k \
           SLIDESPARSE_SPARSE_OWN_WORKSPACE=1; do
  echo "== decode M=128,256,512 --db, $env"
  env $env timeout 90 $B bench throughput --model $C --stage decode --m-list 128,256,512 --db $DB --out /tmp/r 2>&1 |
    grep -E "tok/s|error"
done
echo "##### CUDA_LAUNCH_BLOCKING=1: the error surfaces at the faulting launch's call site"
CUDA_LAUNCH_BLOCKING=1 timeout 120 $B bench throughput --model $C --stage decode --m-list 256 --db $DB --out /tmp/r 2>&1 | grep -E "tok/s|error"
echo "##### compute-sanitizer on the faulting run"
timeout 240 /usr/local/cuda/bin/compute-sanitizer --print-limit 3 $B bench throughput --model $C --stage decode --m-list 256 --db $DB --out /tmp/r 2>&1 | grep -v ETA | grep -E "=====|error" | head -40
