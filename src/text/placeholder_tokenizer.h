// The tokenizer files `synth` writes next to its random weights, so that the text commands
// (`generate --text`, `serve`, `eval`) run on a synthetic checkpoint: a byte-level BPE whose
// vocabulary is the 256 byte symbols, then one placeholder token "<tN>" per remaining id (every id
// the model can sample decodes to text naming it), the config's bos / eos ids as special tokens
// (BOS prepended by the post-processor), no merges, and a ChatML chat template. Text encodes
// byte by byte. prepare and convert carry the files over like every side file.
#pragma once

#include <cstdint>
#include <filesystem>

namespace slidesparse {

// Writes tokenizer.json, tokenizer_config.json and generation_config.json into `dir`. A bos or eos
// id outside [256, vocab_size) is left out (no BOS, no stop token).
void write_placeholder_tokenizer(const std::filesystem::path& dir, int64_t vocab_size, int64_t bos_id, int64_t eos_id);

}  // namespace slidesparse
