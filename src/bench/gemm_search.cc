#include "bench/gemm_search.h"

#include <algorithm>
#include <cstring>

#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

namespace slidesparse {

std::string describe_gemm_choice(GemmBackend backend, const GemmChoice& c, int index) {
  if (backend == GemmBackend::CublasLt)
    return "cuBLASLt heuristic" + (index >= 0 ? " " + std::to_string(index) : std::string()) + " (workspace " +
           std::to_string(c.workspace_bytes) + ")";
  return "alg " + std::to_string(c.alg_id) + (c.split_k == -1 ? " segment-k" : " split-k " + std::to_string(c.split_k));
}

GemmSearcher::GemmSearcher(GemmBackend backend, const GemmShape& shape, int64_t max_m, cudaStream_t stream)
    : backend_(backend), shape_(shape), stream_(stream) {
  const int64_t rows = padded_rows(max_m);
  weight_ = DeviceBuffer(static_cast<size_t>(shape.n * shape.k), "benchmark weight");
  activations_ = DeviceBuffer(static_cast<size_t>(rows * shape.k), "benchmark activations");
  output_ = DeviceBuffer(static_cast<size_t>(rows * shape.n) * gemm_output_bytes(shape.output), "benchmark output");
  scale_w_ = DeviceBuffer(static_cast<size_t>(shape.n) * sizeof(float), "benchmark weight scales");
  scale_x_ = DeviceBuffer(static_cast<size_t>(rows) * sizeof(float), "benchmark activation scales");
  workspace_ = DeviceBuffer(SearchProtocol{}.max_workspace, "GEMM workspace");
  reference_ = DeviceBuffer(static_cast<size_t>(rows * shape.n) * 4, "reference GEMM accumulator");
  const bool sparse = backend == GemmBackend::CusparseLt;
  // Weights as BitNet's are (ternary; 2:4 groups with 0, 1 or 2 non-zeros): the compressed layout
  // of groups with fewer than two non-zeros is where some cuSPARSELt configurations fail
  // (docs/PERF.md), so every candidate is checked on them.
  fill_ternary_codes_gpu(shape.kind, weight_.as<uint8_t>(), shape.n, shape.k, sparse, 0x5EED, stream);
  fill_random_codes_gpu(shape.kind, activations_.as<uint8_t>(), rows, shape.k, false, 0xAC7, stream);
  fill_random_f32_gpu(scale_w_.as<float>(), shape.n, 0.01f, 0.02f, 0x5CA1E, stream);
  fill_random_f32_gpu(scale_x_.as<float>(), rows, 0.001f, 0.01f, 0x5CA1F, stream);
  copies_ = cold_weight_copies(weight_.bytes());
  if (sparse) {
    sparse_ = std::make_unique<CusparseLtGemm>(shape);
    for (int c = 0; c < copies_; ++c) sparse_->compress(weight_.data(), stream);
  } else {
    dense_ = std::make_unique<CublasLtGemm>(shape);
    for (int c = 1; c < copies_; ++c) {
      weight_copies_.emplace_back(weight_.bytes(), "benchmark weight copy");
      CUDA_CHECK(cudaMemcpyAsync(weight_copies_.back().data(), weight_.data(), weight_.bytes(),
                                 cudaMemcpyDeviceToDevice, stream));
    }
  }
  CUDA_CHECK(cudaStreamSynchronize(stream));
}

GemmSearcher::~GemmSearcher() = default;

void GemmSearcher::run_current(int64_t rows, int copy) {
  if (dense_)
    dense_->run(copy == 0 ? weight_.data() : weight_copies_[static_cast<size_t>(copy - 1)].data(), activations_.data(),
                output_.data(), rows, scale_w_.as<float>(), scale_x_.as<float>(), workspace_.data(), workspace_.bytes(),
                stream_);
  else
    sparse_->run(activations_.data(), output_.data(), rows, scale_w_.as<float>(), workspace_.data(), workspace_.bytes(),
                 stream_, copy);
}

double GemmSearcher::time_current(int64_t m, int warmup, int repeat) {
  const int64_t rows = padded_rows(m);
  // Timed as the engine's decode steps run it, replayed from a CUDA graph: eager launches of the
  // small decode GEMMs measured the host's launch rate (~10 us per cuBLASLt call) more than the
  // kernels (~4-8 us at M=64), docs/PERF.md. Each launch takes the next copy of the weight.
  int launch = 0;
  return time_graph_us([&] { run_current(rows, launch++ % copies_); }, warmup, repeat, stream_);
}

GemmCheck GemmSearcher::check_current(int64_t rows, bool in_graph) {
  if (reference_rows_ != rows) {
    // The sparse weight buffer still holds the uncompressed 2:4 codes (zeros included).
    reference_gemm_gpu(shape_.kind, activations_.as<uint8_t>(), weight_.as<uint8_t>(), rows, shape_.n, shape_.k,
                       reference_.data(), stream_);
    reference_rows_ = rows;
  }
  const size_t out_bytes = static_cast<size_t>(rows * shape_.n) * gemm_output_bytes(shape_.output);
  CUDA_CHECK(cudaMemsetAsync(output_.data(), 0xFF, out_bytes, stream_));  // NaN / -1: unwritten shows
  if (in_graph) {
    const CapturedGraph graph([&] { run_current(rows); }, stream_);
    graph.launch(stream_);
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  } else {
    run_current(rows);
  }
  return check_gemm_output_gpu(shape_, output_.data(), reference_.data(), rows, scale_w_.as<float>(),
                               scale_x_.as<float>(), stream_);
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

std::vector<GemmChoice> GemmSearcher::candidates(int64_t rows, const SearchProtocol& protocol) {
  std::vector<GemmChoice> list;
  if (dense_) {
    for (const auto& h : dense_->heuristic_candidates(rows, protocol.max_cublaslt_candidates, protocol.max_workspace)) {
      GemmChoice c;
      c.cublaslt_algo.resize(sizeof h.algo);
      std::memcpy(c.cublaslt_algo.data(), &h.algo, sizeof h.algo);
      c.workspace_bytes = h.workspaceSize;
      list.push_back(c);
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
          list.push_back(c);
        }
  }
  return list;
}

SearchResult GemmSearcher::search(int64_t m, const SearchProtocol& protocol, const std::set<int>& skip,
                                  const std::function<void(int, const std::string&)>& before_candidate) {
  const int64_t rows = padded_rows(m);
  std::vector<GemmChoice> list = candidates(rows, protocol);
  SearchResult result;
  auto reject = [&](int index, const std::string& reason) {
    result.rejected.push_back({index, describe_gemm_choice(backend_, list[index], index), reason});
  };
  // A kernel fault leaves the process's CUDA context unusable: no later candidate could run, so the
  // search ends here (`tune` runs it in a process of its own and goes on in a new one).
  auto fail_if_context_broken = [&](int index, const Error& e) {
    if (cuda_context_broken())
      fail(describe_gemm_choice(backend_, list[index], index) + " broke the CUDA context: " + e.what());
  };
  struct Screened {
    int index;
    GemmChoice choice;
  };
  std::vector<Screened> screened;
  for (int i = 0; i < static_cast<int>(list.size()); ++i) {
    if (skip.count(i)) continue;
    if (before_candidate) before_candidate(i, describe_gemm_choice(backend_, list[i], i));
    GemmChoice& c = list[i];
    if (!apply(m, c)) {
      reject(i, "refused by the library (or needs more than the workspace)");
      continue;
    }
    try {
      const GemmCheck check = check_current(rows, false);
      if (!check.ok()) {
        reject(i, "wrong result: " + check.describe());
        continue;
      }
      c.latency_us = time_current(m, protocol.screen_warmup, protocol.screen_repeat);
    } catch (const Error& e) {
      fail_if_context_broken(i, e);
      reject(i, std::string("failed to run: ") + e.what());
      continue;  // a configuration the library accepted at plan time but cannot run
    }
    c.workspace_bytes = dense_ ? dense_->workspace_bytes(rows) : sparse_->workspace_bytes(rows);
    screened.push_back({i, c});
  }
  std::sort(screened.begin(), screened.end(),
            [](const auto& a, const auto& b) { return a.choice.latency_us < b.choice.latency_us; });
  // Finalists: the full timing, then the check once more from a CUDA graph. Further candidates
  // step in for any that fail it.
  for (const Screened& s : screened) {
    if (static_cast<int>(result.ranked.size()) >= protocol.finalists) break;
    if (before_candidate) before_candidate(s.index, describe_gemm_choice(backend_, list[s.index], s.index));
    GemmChoice c = s.choice;
    apply(m, c);
    try {
      const GemmCheck check = check_current(rows, true);
      if (!check.ok()) {
        reject(s.index, "wrong result replayed from a CUDA graph: " + check.describe());
        continue;
      }
    } catch (const Error& e) {
      fail_if_context_broken(s.index, e);
      reject(s.index, std::string("failed in a CUDA graph: ") + e.what());
      continue;
    }
    c.latency_us = time_current(m, protocol.warmup, protocol.repeat);
    result.ranked.push_back(c);
  }
  result.candidates = static_cast<int>(screened.size());
  require(!result.ranked.empty(), std::string(gemm_backend_name(backend_)) + ": no algorithm ran correctly for M=" +
                                      std::to_string(m) + " N=" + std::to_string(shape_.n) +
                                      " K=" + std::to_string(shape_.k) + " (" + std::to_string(list.size()) +
                                      " candidates, " + std::to_string(result.rejected.size()) + " rejected)");
  std::sort(result.ranked.begin(), result.ranked.end(),
            [](const auto& a, const auto& b) { return a.latency_us < b.latency_us; });
  // Leave the winner applied so a following run uses it.
  apply(m, result.ranked.front());
  return result;
}

}  // namespace slidesparse
