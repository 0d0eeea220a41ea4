# Sourced on the GPU machine: CUDA libraries first, then — only for the shared libraries the machine
# cannot resolve itself — the copies scripts/build_device.sh carried in .devbin/lib.
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
_bin=${SLIDESPARSE_BIN_DIR:-.devbin}
_missing=$(ldd "$_bin/slidesparse" $(ls "$_bin"/libkernel_trace.so 2>/dev/null) 2>/dev/null |
  awk '/not found/ {print $1}' | sort -u)
if [ -n "$_missing" ]; then
  _fallback=$(mktemp -d /tmp/slidesparse-libs.XXXXXX)
  for _lib in $_missing; do [ -e "$PWD/$_bin/lib/$_lib" ] && ln -sf "$PWD/$_bin/lib/$_lib" "$_fallback/$_lib"; done
  export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$_fallback
  echo "device_env: using carried copies of: $_missing" >&2
fi
