// The JSON files the tool reads besides safetensors headers: config.json, tokenizer.json,
// tokenizer_config.json, generation_config.json, the tuning database and the pipeline's status. Any
// JSON value gives the parsed object or one Error, never a JSON library exception.
#include <cstdint>

#include "fuzz_support.h"
#include "io/model_config.h"
#include "pipeline/pipeline_status.h"
#include "text/tokenizer.h"
#include "text/tokenizer_config.h"
#include "tuning/tuning_db.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slidesparse;
  const auto json = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return 0;
  fuzz::expect_only_errors("config.json", [&] { (void)parse_model_config(json, "f"); });
  fuzz::expect_only_errors("tokenizer_config.json", [&] { (void)parse_tokenizer_config(json, "f"); });
  fuzz::expect_only_errors("generation_config.json", [&] { (void)parse_generation_config(json, "f"); });
  fuzz::expect_only_errors("tokenizer.json", [&] { (void)Tokenizer::from_json(json, "f"); });
  fuzz::expect_only_errors("tuning database", [&] { (void)TuningDatabase::from_json(json, "f"); });
  fuzz::expect_only_errors("tuning entry", [&] { (void)gemm_choice_from_json(json, "f"); });
  fuzz::expect_only_errors("pipeline status", [&] { (void)status_from_json(json, "f"); });
  return 0;
}
