// The engine options, declared once for `generate`, `chat`, `serve`, `eval` and `bench throughput`,
// and the sampling options of the commands that generate (`generate`, `chat`).
#pragma once

#include <string>

#include "cli/args.h"
#include "gemm/gemm_types.h"
#include "runtime/llm_engine.h"

namespace slidesparse {

// Who sizes the engine (sequences and tokens per step, context, KV-cache blocks, chunked prefill):
// the user through options, or a benchmark protocol that sets them per point itself (then those
// options are not offered).
enum class EngineSizing { FromOptions, SetByProtocol };

void add_engine_options(ArgParser& p, EngineSizing sizing = EngineSizing::FromOptions);
// The sizing fields keep EngineOptions' defaults where the parser does not declare them.
EngineOptions engine_options_from(const ArgParser& p);
// --max-tokens (default `default_max_tokens`), --temperature, --top-k, --top-p, --seed, --ignore-eos.
void add_sampling_options(ArgParser& p, const std::string& default_max_tokens);
// Throws Error for values the engine would refuse (checked before any model loads).
SamplingParams sampling_params_from(const ArgParser& p);
// "auto" picks cuSPARSELt for a SlideSparse checkpoint and cuBLASLt otherwise.
GemmBackend resolve_backend(const std::string& name, const std::filesystem::path& model);
double parse_double(const std::string& option, const std::string& text);

}  // namespace slidesparse
