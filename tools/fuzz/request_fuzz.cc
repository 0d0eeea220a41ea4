// The server's request bodies (serve/openai_protocol.h): any bytes a client sends to /v1/completions,
// /v1/chat/completions, /tokenize or /detokenize become a request or an API error to answer with;
// the parsers throw nothing.
#include <cstdint>
#include <string>

#include "fuzz_support.h"
#include "serve/openai_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slidesparse;
  const std::string body(reinterpret_cast<const char*>(data), size);
  using fuzz::expect_no_exception;
  expect_no_exception("completions", [&] { (void)parse_generation_request(Endpoint::Completions, body, "m"); });
  expect_no_exception("chat completions",
                      [&] { (void)parse_generation_request(Endpoint::ChatCompletions, body, "m"); });
  expect_no_exception("tokenize", [&] { (void)parse_tokenize_request(body, "m"); });
  expect_no_exception("detokenize", [&] { (void)parse_detokenize_request(body, "m"); });
  return 0;
}
