// What the GEMM probes (tools/scaled_gemm_probe, tools/sparse_gemm_probe) share: their row-count
// list and the bit comparison of two bf16 outputs.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench/random_fill.h"
#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "math/weight_code.h"

namespace slidesparse::probe {

// `--m-list 64,512,...` (the only option), else default_list.
inline std::vector<int64_t> parse_m_list(int argc, char** argv, const std::string& default_list,
                                         const std::string& usage) {
  std::string list = default_list;
  for (int i = 1; i < argc; ++i) {
    require(std::string(argv[i]) == "--m-list" && i + 1 < argc, "usage: " + usage);
    list = argv[++i];
  }
  std::vector<int64_t> ms;
  for (size_t at = 0; at <= list.size();) {
    const size_t comma = std::min(list.find(',', at), list.size());
    ms.push_back(std::stoll(list.substr(at, comma - at)));
    at = comma + 1;
  }
  return ms;
}

// How many of the bf16 values of two equal-sized device buffers differ in any bit.
inline size_t differing_bf16(const DeviceBuffer& a, const DeviceBuffer& b) {
  std::vector<uint16_t> ha(a.bytes() / 2), hb(b.bytes() / 2);
  CUDA_CHECK(cudaMemcpy(ha.data(), a.data(), a.bytes(), cudaMemcpyDeviceToHost));
  CUDA_CHECK(cudaMemcpy(hb.data(), b.data(), b.bytes(), cudaMemcpyDeviceToHost));
  size_t count = 0;
  for (size_t i = 0; i < ha.size(); ++i) count += ha[i] != hb[i];
  return count;
}

// The activations of one probe point: random codes of `kind` [m, k] (no 2:4 pattern) and token
// scales in [1e-4, 1e-2], the same seeds in every probe.
struct Activations {
  DeviceBuffer x, scale_x;
  Activations(QuantKind kind, int64_t m, int64_t k, cudaStream_t stream)
      : x(static_cast<size_t>(m * k), "x"), scale_x(static_cast<size_t>(m) * 4, "scale_x") {
    fill_random_codes_gpu(kind, x.as<uint8_t>(), m, k, false, 1, stream);
    fill_random_f32_gpu(scale_x.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
  }
};

// A probe's main: runs body, returns 0; on an exception prints "tool: what" to stderr, returns 1.
template <class Body>
int guarded_main(const char* tool, Body&& body) {
  try {
    body();
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    return 1;
  }
}

}  // namespace slidesparse::probe
