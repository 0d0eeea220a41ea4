// Several plans of one cuSPARSELt weight alive together, each pinned to another algorithm: what the
// engine holds with a tuning database (one plan per decode and prefill row count, all on the same
// compressed weights). `tune` checks every candidate alone, in a fresh plan. When the plans shared
// one sparse-matrix descriptor, the first GEMM here never returned on the H200 (cuSPARSELt 0.8.0)
// and the engine faulted at decode; every plan now has a descriptor of its own. Every plan is
// checked against the reference GEMM after the others were built and run, eagerly and replayed
// from one CUDA graph, on the BitNet o-projection shape with ternary 2:4 weights. Run in a process
// of its own with a time limit (scripts/gpu_check.sh): a library fault poisons the CUDA context for
// every later test, and a hang would stop the rest of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "bench/gemm_reference.h"
#include "core/error.h"
#include "gemm/cusparselt_gemm.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu_test_util.h"

namespace slidesparse {
namespace {

using testing::upload;

constexpr int64_t kN = 2560, kK = 2560;

// Ternary codes, each group of four along K holding 0, 1 or 2 non-zeros (as BitNet weights do).
std::vector<uint8_t> ternary_2of4(std::mt19937& rng) {
  std::vector<uint8_t> w(static_cast<size_t>(kN * kK), 0);
  std::uniform_int_distribution<int> count(0, 2), position(0, 3), sign(0, 1);
  for (int64_t i = 0; i < kN * kK; i += 4) {
    const int nonzeros = count(rng);
    int first = position(rng), second = (first + 1 + position(rng) % 3) % 4;
    for (int z = 0; z < nonzeros; ++z)
      w[static_cast<size_t>(i + (z ? second : first))] = static_cast<uint8_t>(sign(rng) ? 1 : -1);
  }
  return w;
}

// Where the test is, on stderr at once: a library kernel that never finishes would otherwise leave
// no trace of which plan it belongs to.
template <typename... Args>
void progress(const char* format, Args... args) {
  std::fprintf(stderr, "[sparse plans] ");
  std::fprintf(stderr, format, args...);
  std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

TEST(SparsePlans, PlansOfOneWeightPinnedToDifferentAlgorithmsStayCorrect) {
  SKIP_WITHOUT_GPU();
  std::mt19937 rng(11);
  const GemmShape shape{QuantKind::Int8, GemmOutput::BFloat16, ScaleMode::WeightInGemm, kN, kK};
  const DeviceBuffer w = upload(ternary_2of4(rng), "ternary weight");
  std::vector<float> scale_w(kN);
  std::uniform_real_distribution<float> scale(0.5f, 2.0f);
  for (float& s : scale_w) s = scale(rng);
  const DeviceBuffer scale_w_d = upload(scale_w, "weight scales");
  cudaStream_t stream = nullptr;
  CUDA_CHECK(cudaStreamCreate(&stream));
  {
    CusparseLtGemm gemm(shape);
    const int weight = gemm.compress(w.data(), stream);

    // The engine's decode row counts and one prefill row count, each pinned to its own algorithm
    // (spread over the ids the library offers; one it refuses at plan time is skipped).
    const std::vector<int64_t> ms{64, 128, 256, 512, 4096};
    std::map<int64_t, std::string> pinned;
    size_t workspace = 0;
    for (size_t i = 0; i < ms.size(); ++i) {
      const int count = gemm.algorithm_count(ms[i]);
      for (int tried = 0; tried < count && !pinned.count(ms[i]); ++tried) {
        const int alg = 1 + static_cast<int>((i * 5 + static_cast<size_t>(tried)) % static_cast<size_t>(count - 1));
        try {
          gemm.set_algorithm(ms[i], alg, 1);
          pinned[ms[i]] = gemm.describe_plan(ms[i]);
        } catch (const Error&) {
        }
      }
      ASSERT_TRUE(pinned.count(ms[i])) << "no algorithm other than the default for M=" << ms[i];
      progress("M=%lld of %d algorithms: %s", static_cast<long long>(ms[i]), count, pinned[ms[i]].c_str());
      workspace = std::max(workspace, gemm.workspace_bytes(ms[i]));
    }
    DeviceBuffer ws(std::max<size_t>(workspace, 256), "workspace");

    struct Point {
      DeviceBuffer x, d, acc;
    };
    std::map<int64_t, Point> points;
    for (int64_t m : ms) {
      std::vector<uint8_t> x(static_cast<size_t>(m * kK));
      std::uniform_int_distribution<int> code(-127, 127);
      for (auto& c : x) c = static_cast<uint8_t>(static_cast<int8_t>(code(rng)));
      Point p{upload(x, "activations"), DeviceBuffer(static_cast<size_t>(m * kN * 2), "output"),
              DeviceBuffer(static_cast<size_t>(m * kN * 4), "reference accumulators")};
      reference_gemm_gpu(QuantKind::Int8, p.x.as<uint8_t>(), w.as<uint8_t>(), m, kN, kK, p.acc.data(), stream);
      points.emplace(m, std::move(p));
    }
    auto check_all = [&](const char* how) {
      for (int64_t m : ms) {
        const GemmCheck c = check_gemm_output_gpu(shape, points.at(m).d.data(), points.at(m).acc.data(), m,
                                                  scale_w_d.as<float>(), nullptr, stream);
        EXPECT_TRUE(c.ok()) << how << ", M=" << m << " (" << pinned.at(m) << "): " << c.describe();
      }
    };
    auto poison = [&] {
      for (auto& [m, p] : points) CUDA_CHECK(cudaMemsetAsync(p.d.data(), 0xFF, p.d.bytes(), stream));
    };
    auto run_all = [&](const std::vector<int64_t>& order) {
      for (int64_t m : order) {
        progress("  run M=%lld", static_cast<long long>(m));
        gemm.run(points.at(m).x.data(), points.at(m).d.data(), m, scale_w_d.as<float>(), ws.data(), ws.bytes(),
                 stream, weight);
      }
    };

    // Eagerly, in ascending and in shuffled order, three times.
    for (int round = 0; round < 3; ++round) {
      std::vector<int64_t> order = ms;
      if (round) std::shuffle(order.begin(), order.end(), rng);
      progress("eager round %d", round);
      poison();
      run_all(order);
      CUDA_CHECK(cudaStreamSynchronize(stream));
      check_all(round ? "eager, shuffled" : "eager");
    }
    // All five in one CUDA graph, replayed twice.
    progress("graph capture");
    cudaGraph_t graph = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
    run_all(ms);
    CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    cudaGraphExec_t exec = nullptr;
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    for (int replay = 0; replay < 2; ++replay) {
      poison();
      CUDA_CHECK(cudaGraphLaunch(exec, stream));
      CUDA_CHECK(cudaStreamSynchronize(stream));
      check_all("graph replay");
    }
    CUDA_CHECK(cudaGraphExecDestroy(exec));
    CUDA_CHECK(cudaGraphDestroy(graph));
  }
  CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace
}  // namespace slidesparse
