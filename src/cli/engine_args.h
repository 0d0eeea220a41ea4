// The engine options, declared once for `generate`, `serve`, `eval` and `bench throughput`.
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
// "auto" picks cuSPARSELt for a SlideSparse checkpoint and cuBLASLt otherwise.
GemmBackend resolve_backend(const std::string& name, const std::filesystem::path& model);
double parse_double(const std::string& option, const std::string& text);

}  // namespace slidesparse
