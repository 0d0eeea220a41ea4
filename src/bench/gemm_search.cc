#include "bench/gemm_search.h"

#include <algorithm>
#include <cstring>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

namespace slidesparse {

GemmSearcher::GemmSearcher(GemmBackend backend, const GemmShape& shape, int64_t max_m, cudaStream_t stream)
    : backend_(backend), shape_(shape), stream_(stream) {
  const int64_t rows = padded_rows(max_m);
  weight_ = DeviceBuffer(static_cast<size_t>(shape.n * shape.k), "benchmark weight");
  activations_ = DeviceBuffer(static_cast<size_t>(rows * shape.k), "benchmark activations");
  output_ = DeviceBuffer(static_cast<size_t>(rows * shape.n) * gemm_output_bytes(shape.output), "benchmark output");
  scale_w_ = DeviceBuffer(static_cast<size_t>(shape.n) * sizeof(float), "benchmark weight scales");
  scale_x_ = DeviceBuffer(static_cast<size_t>(rows) * sizeof(float), "benchmark activation scales");
  workspace_ = DeviceBuffer(SearchProtocol{}.max_workspace, "GEMM workspace");
  const bool sparse = backend == GemmBackend::CusparseLt;
  fill_random_codes_gpu(shape.kind, weight_.as<uint8_t>(), shape.n, shape.k, sparse, 0x5EED, stream);
  fill_random_codes_gpu(shape.kind, activations_.as<uint8_t>(), rows, shape.k, false, 0xAC7, stream);
  fill_random_f32_gpu(scale_w_.as<float>(), shape.n, 0.01f, 0.02f, 0x5CA1E, stream);
  fill_random_f32_gpu(scale_x_.as<float>(), rows, 0.001f, 0.01f, 0x5CA1F, stream);
  if (sparse) {
    sparse_ = std::make_unique<CusparseLtGemm>(shape);
    sparse_->compress(weight_.data(), stream);
  } else {
    dense_ = std::make_unique<CublasLtGemm>(shape);
  }
  CUDA_CHECK(cudaStreamSynchronize(stream));
}

GemmSearcher::~GemmSearcher() = default;

double GemmSearcher::time_current(int64_t m, int warmup, int repeat) {
  const int64_t rows = padded_rows(m);
  return time_launches_us(
      [&] {
        if (dense_)
          dense_->run(weight_.data(), activations_.data(), output_.data(), rows, scale_w_.as<float>(),
                      scale_x_.as<float>(), workspace_.data(), workspace_.bytes(), stream_);
        else
          sparse_->run(activations_.data(), output_.data(), rows, scale_w_.as<float>(), workspace_.data(),
                       workspace_.bytes(), stream_);
      },
      warmup, repeat, stream_);
}

bool GemmSearcher::apply(int64_t m, const GemmChoice& choice) {
  const int64_t rows = padded_rows(m);
  try {
    if (dense_) {
      cublasLtMatmulAlgo_t algo;
      std::memcpy(&algo, choice.cublaslt_algo.data(), sizeof algo);
      dense_->set_algorithm(rows, algo, choice.workspace_bytes);
      return dense_->workspace_bytes(rows) <= workspace_.bytes();
    }
    sparse_->set_algorithm(rows, choice.alg_id, choice.split_k);
    return sparse_->workspace_bytes(rows) <= workspace_.bytes();
  } catch (const Error&) {
    return false;
  }
}

SearchResult GemmSearcher::search(int64_t m, const SearchProtocol& protocol) {
  const int64_t rows = padded_rows(m);
  std::vector<GemmChoice> candidates;
  if (dense_) {
    for (const auto& h : dense_->heuristic_candidates(rows, protocol.max_cublaslt_candidates, protocol.max_workspace)) {
      GemmChoice c;
      c.cublaslt_algo.resize(sizeof h.algo);
      std::memcpy(c.cublaslt_algo.data(), &h.algo, sizeof h.algo);
      c.workspace_bytes = h.workspaceSize;
      candidates.push_back(c);
    }
  } else {
    const int algs = sparse_->algorithm_count(rows);
    const bool segment_k = query_device().cc_major >= 9;
    for (int alg = 0; alg < algs; ++alg)
      for (int split_k : {1, 2, 4, -1})
        if (split_k != -1 || segment_k) {
          GemmChoice c;
          c.alg_id = alg;
          c.split_k = split_k;
          candidates.push_back(c);
        }
  }
  SearchResult result;
  std::vector<GemmChoice> screened;
  for (auto& c : candidates) {
    if (!apply(m, c)) continue;
    try {
      c.latency_us = time_current(m, protocol.screen_warmup, protocol.screen_repeat);
    } catch (const Error&) {
      cudaGetLastError();
      continue;  // a configuration the library accepted at plan time but cannot run
    }
    c.workspace_bytes = dense_ ? dense_->workspace_bytes(rows) : sparse_->workspace_bytes(rows);
    screened.push_back(c);
    ++result.candidates;
  }
  require(!screened.empty(), std::string(gemm_backend_name(backend_)) + ": no algorithm ran for M=" +
                                 std::to_string(m) + " N=" + std::to_string(shape_.n) + " K=" + std::to_string(shape_.k));
  std::sort(screened.begin(), screened.end(), [](const auto& a, const auto& b) { return a.latency_us < b.latency_us; });
  screened.resize(std::min<size_t>(screened.size(), static_cast<size_t>(protocol.finalists)));
  for (auto& c : screened) {
    apply(m, c);
    c.latency_us = time_current(m, protocol.warmup, protocol.repeat);
  }
  std::sort(screened.begin(), screened.end(), [](const auto& a, const auto& b) { return a.latency_us < b.latency_us; });
  // Leave the winner applied so a following run uses it.
  apply(m, screened.front());
  result.ranked = std::move(screened);
  return result;
}

}  // namespace slidesparse
