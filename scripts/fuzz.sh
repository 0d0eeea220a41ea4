#!/usr/bin/env bash
# Fuzzes the readers of untrusted input with libFuzzer under AddressSanitizer, UndefinedBehavior-
# Sanitizer and LeakSanitizer (tools/fuzz): the server's request bodies, chat templates, text given to
# the tokenizers, safetensors files, the JSON files the tool reads and the result CSVs. CPU only;
# needs clang++ with libFuzzer (Debian: clang) and the build's libraries (scripts/setup.sh). The host
# sources are compiled once into FUZZ_DIR (default /tmp/slidesparse-fuzz); each target then runs
# SECONDS from seeds taken from tests/data and docs/results, keeping what it finds in
# FUZZ_DIR/<target>/corpus. A finding stops that target, leaves crash-* / leak-* / timeout-* inputs
# in FUZZ_DIR/<target> and makes the script exit 1 after the remaining targets.
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]   targets: request chat_template tokenizer safetensors
#                                                 json_configs csv (default: all, 60 s each)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request chat_template tokenizer safetensors json_configs csv)
dir=${FUZZ_DIR:-/tmp/slidesparse-fuzz}
cxx=${CXX_FUZZ:-clang++}
command -v "$cxx" >/dev/null || { echo "fuzz.sh: $cxx not found (Debian: apt-get install clang)" >&2; exit 2; }
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$root/src" -I"$root/tools/fuzz")
libs=(-lpthread -lpcre2-8 -lutf8proc)

# The host code the targets reach: no CUDA in any of it.
sources=("$root"/src/core/*.cc "$root"/src/io/*.cc "$root"/src/text/*.cc "$root"/src/tuning/*.cc
         "$root"/src/math/sparsity.cc "$root"/src/serve/openai_protocol.cc "$root"/src/pipeline/pipeline_status.cc)
mkdir -p "$dir/obj"
newest_header=$(find "$root/src" "$root/tools/fuzz" -name '*.h' -printf '%T@\n' | sort -n | tail -1)
compile() {  # a source into its object, again when it or any header is newer than the object
  local obj="$dir/obj/$(echo "${1#"$root"/src/}" | tr / _).o"
  if [ -f "$obj" ] && [ "$obj" -nt "$1" ] && [ "$(stat -c %Y "$obj")" -ge "${newest_header%.*}" ]; then return 0; fi
  "$cxx" -fsanitize=fuzzer-no-link,address,undefined "${flags[@]}" -c "$1" -o "$obj" || { touch "$dir/obj/FAILED"; return 1; }
}
rm -f "$dir/obj/FAILED"
echo "fuzz.sh: compiling the host sources into $dir/obj"
for src in "${sources[@]}"; do
  compile "$src" &
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do sleep 0.2; done
done
wait
[ ! -f "$dir/obj/FAILED" ] || { echo "fuzz.sh: compilation failed" >&2; exit 2; }

# Seeds per target.
seed() {
  local target=$1 corpus="$dir/$1/corpus"
  mkdir -p "$corpus"
  case $target in
    request)
      printf '%s' '{"model":"m","prompt":"hello","max_tokens":16,"temperature":0.7,"top_p":0.9,"stream":true,"stop":["a"],"n":2,"seed":3}' >"$corpus/seed_completion"
      printf '%s' '{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}],"chat_template_kwargs":{"a":1},"stop_token_ids":[1],"truncate_prompt_tokens":-1,"stream_options":{"include_usage":true}}' >"$corpus/seed_chat"
      printf '%s' '{"tokens":[1,2,3],"prompt":[[1,2],[3]],"echo":true,"logprobs":null,"top_k":-1}' >"$corpus/seed_ids" ;;
    chat_template) cp "$root"/tests/data/chat_templates/*.jinja "$corpus/" ;;
    tokenizer) head -c 4000 "$root/tests/data/tokenizers/corpus.txt" >"$corpus/seed_text" ;;
    safetensors)
      python3 - "$corpus" <<'PY'
import json, struct, sys
def write(name, tensors):
    header, data = {}, b""
    for key, (dtype, shape, raw) in tensors.items():
        header[key] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    open(f"{sys.argv[1]}/{name}", "wb").write(struct.pack("<Q", len(text)) + text + data)
write("seed_a", {"w": ("F32", [2, 2], b"\0" * 16), "b": ("BF16", [3], b"\1" * 6), "e": ("I8", [0], b"")})
write("seed_b", {"x": ("F8_E4M3", [4, 1], b"\2" * 4), "y": ("I32", [1], b"\3" * 4)})
PY
      ;;
    csv)
      mapfile -t files < <(find "$root/docs/results" -name '*.csv' -size -16k | sort)
      for f in "${files[@]:0:20}"; do cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-12).csv"; done ;;
    json_configs)
      mapfile -t files < <(find "$root/tests/data" "$root/docs/results" -name '*.json' -size -16k | sort)
      for f in "${files[@]:0:40}"; do cp "$f" "$corpus/$(echo "$f" | md5sum | cut -c1-12).json"; done ;;
  esac
}

failed=0
for target in "${targets[@]}"; do
  [ -f "$root/tools/fuzz/${target}_fuzz.cc" ] || { echo "fuzz.sh: unknown target '$target'" >&2; exit 2; }
  mkdir -p "$dir/$target"
  "$cxx" -fsanitize=fuzzer,address,undefined "${flags[@]}" "$root/tools/fuzz/${target}_fuzz.cc" "$dir"/obj/*.o \
    "${libs[@]}" -o "$dir/$target/fuzz"
  seed "$target"
  echo "fuzz.sh: $target for $seconds s"
  if (cd "$dir/$target" && SLIDESPARSE_TOKENIZER_DATA="$root/tests/data/tokenizers" \
      ./fuzz -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 corpus >log.txt 2>&1); then
    echo "fuzz.sh: $target: $(grep -o 'Done [0-9]* runs' "$dir/$target/log.txt" | tail -1), nothing found"
  else
    failed=1
    echo "fuzz.sh: $target found a fault; its input and log are in $dir/$target:" >&2
    grep -E 'threw|exception|ERROR|SUMMARY' "$dir/$target/log.txt" | head -5 >&2
  fi
done
exit $failed
