#!/usr/bin/env bash
# Every CPU test under AddressSanitizer (leaks included) and UndefinedBehaviorSanitizer: a Debug build
# of the host code with -fsanitize=address,undefined in its own folder (default /tmp/slidesparse-asan),
# the CLI binary the tests run included; the GPU kernels are compiled as usual and not run. CPU only;
# from scratch it builds the whole project once more. Usage: scripts/asan_cpu.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-/tmp/slidesparse-asan}
flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DSLIDESPARSE_CUDA_ARCHS=90a >/dev/null
cmake --build "$B" -j"$(nproc)" >/dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$B" -LE gpu -j"$(nproc)" --output-on-failure 2>&1 | grep -vE '^ *(Start|[0-9]+/[0-9]+ Test)' | tail -12
