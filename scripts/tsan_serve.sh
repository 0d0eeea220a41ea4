#!/usr/bin/env bash
# The server's tests under ThreadSanitizer (the request hub's engine thread, the HTTP worker pool,
# cancellation and shutdown): the serve and text sources built with -fsanitize=thread, linked with the
# other libraries of an existing build (default build-device). CPU only. Usage: scripts/tsan_serve.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-device}
cmake --build "$B" -j"$(nproc)" --target slidesparse slidesparse_sequences slidesparse_reference slidesparse_checkpoint slidesparse_test_support >/dev/null
out=$(mktemp -d /tmp/slidesparse-tsan.XXXXXX)
g++ -std=c++20 -O1 -g -fsanitize=thread $(pkg-config --cflags cpp-httplib) -Isrc -Itests/support \
  src/serve/*.cc src/text/*.cc tests/serve/server_test.cc tests/serve/server_connections_test.cc \
  tests/serve/request_hub_test.cc tests/serve/worker_pool_test.cc tests/serve/load_client_test.cc -o "$out/serve_tsan" \
  "$B/src/libslidesparse_sequences.a" "$B/src/libslidesparse_reference.a" "$B/src/libslidesparse_checkpoint.a" "$B/src/libslidesparse_io.a" \
  "$B/src/libslidesparse_math.a" "$B/src/libslidesparse_core.a" "$B/tests/libslidesparse_test_support.a" \
  $(pkg-config --libs cpp-httplib) -lpcre2-8 -lutf8proc -lgtest -lgtest_main -lpthread
# The SIGTERM test forks the real binary, which is not instrumented.
SLIDESPARSE_BINARY=$PWD/$B/src/slidesparse TSAN_OPTIONS="halt_on_error=0 exitcode=66" \
  "$out/serve_tsan" --gtest_brief=1 --gtest_filter='ServeTest*:RequestHub*:WorkerPool*:LoadClient.Option*:-*Sigterm*' 2>&1 | tee "$out/log.txt" | tail -3
echo "ThreadSanitizer warnings: $(grep -c 'WARNING: ThreadSanitizer' "$out/log.txt" || true)"
