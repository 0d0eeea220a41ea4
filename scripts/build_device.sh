#!/usr/bin/env bash
# Builds Hopper-only (sm_90a) binaries here for the GPU machine and stages them in .devbin/ (git-
# ignored, carried to the device with the run). Usage: scripts/build_device.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build-device -DCMAKE_BUILD_TYPE=Release -DSLIDESPARSE_CUDA_ARCHS=90a >/dev/null
cmake --build build-device -j"$(nproc)" --target slidesparse gpu_tests cusparselt_graph_probe scaled_gemm_probe \
  sparse_gemm_probe fp8_gemm_probe cublaslt_fp8_probe cusparselt_token_scale_probe norm_timeline kernel_trace serve_bench sparse_fp8_probe
mkdir -p .devbin
cp build-device/src/slidesparse build-device/tests/gpu_tests build-device/tools/cusparselt_graph_probe \
  build-device/tools/scaled_gemm_probe build-device/tools/sparse_gemm_probe build-device/tools/fp8_gemm_probe \
  build-device/tools/cublaslt_fp8_probe build-device/tools/norm_timeline build-device/tools/libkernel_trace.so \
  build-device/tools/serve_bench build-device/tools/cusparselt_token_scale_probe build-device/tools/sparse_fp8_probe \
  .devbin/
strip .devbin/slidesparse .devbin/gpu_tests .devbin/cusparselt_graph_probe .devbin/scaled_gemm_probe \
  .devbin/sparse_gemm_probe .devbin/fp8_gemm_probe .devbin/cublaslt_fp8_probe .devbin/norm_timeline .devbin/serve_bench \
  .devbin/cusparselt_token_scale_probe .devbin/sparse_fp8_probe
# The download client links libcurl and OpenSSL; the GPU machine may lack them (and has no network to
# install them). Their shared libraries travel along in .devbin/lib, used only where the machine has
# none of its own (scripts/device_env.sh).
rm -rf .devbin/lib && mkdir -p .devbin/lib
ldd .devbin/slidesparse | awk '/=> \/(usr\/)?lib/ {print $3}' |
  grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|ld-linux|libpthread|libdl|librt|libresolv)[.-]' |
  xargs -r cp -L -t .devbin/lib
# The kernel tracer's CUPTI, in case the GPU machine's toolkit lacks it.
ldd .devbin/libkernel_trace.so | awk '/libcupti/ {print $3}' | xargs -r cp -L -t .devbin/lib
du -sh .devbin
