#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian/Ubuntu machine: compilers and CMake, GoogleTest,
# nlohmann/json, libcurl, OpenSSL, PCRE2, utf8proc, cpp-httplib (Debian packages), the cuSPARSELt header and the
# header-only cuDNN frontend and CUTLASS from NVIDIA's PyPI wheels (cuSPARSELt and cuDNN are loaded at run time, so only
# headers are unpacked here). Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

need_packages=()
command -v cmake >/dev/null || need_packages+=(cmake)
command -v g++ >/dev/null || need_packages+=(g++)
command -v make >/dev/null || command -v ninja >/dev/null || need_packages+=(make)
[ -f /usr/include/nlohmann/json.hpp ] || need_packages+=(nlohmann-json3-dev)
[ -f /usr/include/gtest/gtest.h ] || need_packages+=(libgtest-dev)
# libcurl (the hub client of `slidesparse download`) and OpenSSL's libcrypto (its sha256 / sha1).
[ -f /usr/include/curl/curl.h ] || [ -f /usr/include/x86_64-linux-gnu/curl/curl.h ] ||
  [ -f /usr/include/aarch64-linux-gnu/curl/curl.h ] || need_packages+=(libcurl4-openssl-dev)
[ -f /usr/include/openssl/evp.h ] || need_packages+=(libssl-dev)
# PCRE2 and utf8proc (the tokenizer's Unicode pre-tokenizer regexes and NFC normalizer).
[ -f /usr/include/pcre2.h ] || need_packages+=(libpcre2-dev)
[ -f /usr/include/utf8proc.h ] || need_packages+=(libutf8proc-dev)
# cpp-httplib (header-only): the HTTP server of `slidesparse serve`.
[ -f /usr/include/httplib.h ] || need_packages+=(libcpp-httplib-dev)
if [ ${#need_packages[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${need_packages[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] ||
  { echo "setup: the CUDA toolkit (nvcc) is required; install CUDA 12.8+ or 13.x" >&2; exit 1; }

# cuSPARSELt header (pinned: the GPU machine runs 0.8.0; 0.8.x headers are interchangeable).
CUSPARSELT_VERSION=0.8.1
dest=third_party/cusparselt
if [ ! -f "$dest/include/cusparseLt.h" ]; then
  # A machine that already has the wheel installed (e.g. the GPU machine, which has no network).
  for h in /opt/*/.venv/lib/python3*/site-packages/nvidia/cusparselt/include/cusparseLt.h \
           /usr/local/lib/python3*/dist-packages/nvidia/cusparselt/include/cusparseLt.h; do
    if [ -f "$h" ]; then mkdir -p "$dest/include" && cp "$h" "$dest/include/" && echo "setup: using $h"; break; fi
  done
fi
if [ ! -f "$dest/include/cusparseLt.h" ]; then
  echo "setup: fetching the nvidia-cusparselt-cu13 $CUSPARSELT_VERSION wheel for cusparseLt.h"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --platform manylinux2014_x86_64 --python-version 3.12 -d "$tmp" "nvidia-cusparselt-cu13==$CUSPARSELT_VERSION"
  mkdir -p "$dest.partial"
  python3 - "$tmp" "$dest.partial" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if "/include/" in name and name.endswith(".h"):
            target = sys.argv[2] + "/include/" + name.rsplit("/include/", 1)[1]
            import os; os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "wb").write(z.read(name))
PY
  rm -rf "$dest" && mv "$dest.partial" "$dest"
fi
# cuDNN frontend (header-only graph API; the prefill attention builds its SDPA graphs with it and
# loads libcudnn.so.9 at run time). cudnn.h itself comes with the CUDA toolkit.
CUDNN_FRONTEND_VERSION=1.32.0
fe_dest=third_party/cudnn_frontend
if [ ! -f "$fe_dest/include/cudnn_frontend.h" ]; then
  echo "setup: fetching the nvidia-cudnn-frontend $CUDNN_FRONTEND_VERSION wheel for its headers"
  fe_tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux_2_28_x86_64 \
    --python-version 3.12 -d "$fe_tmp" "nvidia-cudnn-frontend==$CUDNN_FRONTEND_VERSION" ||
    { echo "setup: cannot fetch nvidia-cudnn-frontend from PyPI; on a machine without it, copy" \
        "third_party/cudnn_frontend from one that has run this script" >&2; exit 1; }
  rm -rf "$fe_dest.partial" && mkdir -p "$fe_dest.partial"
  python3 - "$fe_tmp" "$fe_dest.partial" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name.startswith("include/") and not name.endswith("/"):
            target = os.path.join(sys.argv[2], name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "wb").write(z.read(name))
PY
  rm -rf "$fe_tmp" "$fe_dest" && mv "$fe_dest.partial" "$fe_dest"
fi
# CUTLASS 3.x / CuTe headers (header-only; the Hopper INT8 GEMM with its scales in the epilogue,
# src/gemm/scaled_gemm_kernels.cuh). The nvidia-cutlass wheel carries them under
# cutlass_library/source/include and (cutlass/util) source/tools/util/include.
CUTLASS_VERSION=4.2.0.0
cutlass_dest=third_party/cutlass
if [ ! -f "$cutlass_dest/include/cutlass/util/packed_stride.hpp" ]; then
  echo "setup: fetching the nvidia-cutlass $CUTLASS_VERSION wheel for its headers"
  cutlass_tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: -d "$cutlass_tmp" "nvidia-cutlass==$CUTLASS_VERSION" ||
    { echo "setup: cannot fetch nvidia-cutlass from PyPI; on a machine without it, copy" \
        "third_party/cutlass from one that has run this script" >&2; exit 1; }
  rm -rf "$cutlass_dest.partial" && mkdir -p "$cutlass_dest.partial"
  python3 - "$cutlass_tmp" "$cutlass_dest.partial" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
prefixes = ("cutlass_library/source/include/", "cutlass_library/source/tools/util/include/")
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        for prefix in prefixes:
            if name.startswith(prefix) and not name.endswith("/"):
                target = os.path.join(sys.argv[2], "include", name[len(prefix):])
                os.makedirs(os.path.dirname(target), exist_ok=True)
                open(target, "wb").write(z.read(name))
PY
  rm -rf "$cutlass_tmp" "$cutlass_dest" && mv "$cutlass_dest.partial" "$cutlass_dest"
fi
echo "setup: ok"
