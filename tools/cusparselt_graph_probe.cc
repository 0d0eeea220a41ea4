// A standalone reproducer for the cuSPARSELt faults the engine met on the H100 (docs/PERF.md,
// "open cuSPARSELt faults"): one BitNet-2B linear shape on the sparse backend, `layers` weights
// sharing one plan (as the engine's layers do), driven through a sequence of steps:
//   E  one eager pass over all layers
//   C  capture one pass into a CUDA graph (the capture itself launches nothing)
//   R  replay the captured graph
//   X  one eager pass on other buffers (a copy of the activations, another output allocation)
//   B  a cuBLASLt GEMM that writes the shared workspace (the engine's lm_head does this)
// After every step it synchronizes and compares every layer's output with the first eager pass
// (INT8 is deterministic), printing "step i X: ok", "... MISMATCH layer l" or "... FAULT <error>".
//
//   cusparselt_graph_probe --shape down --m 16 --db tuning_db.json --steps ECRERE
#include <cuda_bf16.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "gemm/bf16_gemm.h"
#include "gemm/hardware_tag.h"
#include "gemm/w8a8_linear.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "math/prune.h"
#include "tuning/tuning_db.h"

using namespace slidesparse;

namespace {

struct Args {
  std::string shape = "down", steps = "ECRERE", db;
  int64_t m = 16;
  int layers = 30;
  int alg = -1, split_k = 1;  // alg >= 0: pin this algorithm (and split-K) instead of --db / the default
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    require(i + 1 < argc, "option " + flag + " needs a value");
    const std::string value = argv[++i];
    if (flag == "--shape") a.shape = value;
    else if (flag == "--steps") a.steps = value;
    else if (flag == "--db") a.db = value;
    else if (flag == "--m") a.m = std::stoll(value);
    else if (flag == "--layers") a.layers = std::stoi(value);
    else if (flag == "--alg") a.alg = std::stoi(value);
    else if (flag == "--split-k") a.split_k = std::stoi(value);
    else fail("unknown option " + flag + " (--shape qkv|o|gate_up|down, --m ROWS, --layers N, --db FILE | --alg ID [--split-k S], --steps ECRXB...)");
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    const std::map<std::string, std::pair<int64_t, int64_t>> shapes = {
        {"qkv", {3840, 2560}}, {"o", {2560, 2560}}, {"gate_up", {13824, 2560}}, {"down", {2560, 6912}}};
    require(shapes.count(a.shape), "unknown --shape " + a.shape);
    const auto [n, k] = shapes.at(a.shape);
    const int64_t rows = padded_rows(a.m);

    // Random INT8 weights pruned to 2:4 (L = 4: the slid weight is the pruned one).
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> int8(-127, 127);
    std::vector<DeviceBuffer> codes;
    std::vector<LinearWeight> weights;
    std::vector<float> scales(static_cast<size_t>(n), 0.01f);
    DeviceBuffer scale_w(scales.size() * sizeof(float), "weight scales");
    CUDA_CHECK(cudaMemcpy(scale_w.data(), scales.data(), scale_w.bytes(), cudaMemcpyHostToDevice));
    std::vector<uint8_t> w(static_cast<size_t>(n * k));
    for (auto& c : w) c = static_cast<uint8_t>(static_cast<int8_t>(int8(rng)));
    PruneOptions prune;
    prune.group = 4;
    prune_rows(QuantKind::Int8, w.data(), n, k, prune);
    for (int l = 0; l < a.layers; ++l) {
      // Each layer: the same rows in another order (distinct outputs, no second random draw).
      std::rotate(w.begin(), w.begin() + 7 * k, w.end());
      codes.emplace_back(w.size(), "weight");
      CUDA_CHECK(cudaMemcpy(codes.back().data(), w.data(), w.size(), cudaMemcpyHostToDevice));
      weights.push_back({codes.back().data(), scale_w.as<float>()});
    }
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    W8A8Linear linear(default_linear_config(QuantKind::Int8, n, k, Sparsity::two_of(4), rows), weights, stream);
    codes.clear();  // compressed copies are what run

    std::optional<TuningDatabase> db;
    if (!a.db.empty()) db = TuningDatabase::load(a.db, current_hardware_tag());
    if (a.alg >= 0) {  // a one-entry database pins the algorithm
      db = TuningDatabase(current_hardware_tag());
      GemmChoice choice;
      choice.alg_id = a.alg;
      choice.split_k = a.split_k;
      db->record_gemm(linear_tuning_key(linear.config(), linear.gemm_k()), rows, choice);
    }
    linear.prepare(rows, db ? &*db : nullptr);
    std::printf("%s N=%lld K=%lld rows=%lld layers=%d plan: %s, %s, workspace %zu bytes\n", a.shape.c_str(),
                static_cast<long long>(n), static_cast<long long>(k), static_cast<long long>(rows), a.layers,
                a.alg >= 0 ? "pinned" : db ? "tuned (database)" : "library default", linear.describe_plan(rows).c_str(),
                linear.workspace_bytes(rows));

    // Activations: random bf16, quantized once; every pass reuses the codes.
    std::vector<__nv_bfloat16> x(static_cast<size_t>(rows * k));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (auto& v : x) v = __float2bfloat16(normal(rng));
    DeviceBuffer x_dev(x.size() * 2, "activations");
    CUDA_CHECK(cudaMemcpy(x_dev.data(), x.data(), x_dev.bytes(), cudaMemcpyHostToDevice));
    linear.quantize(x_dev.as<__nv_bfloat16>(), a.m, stream);

    const size_t out_bytes = static_cast<size_t>(rows * n) * 2;
    DeviceBuffer out(out_bytes * a.layers, "outputs"), workspace(size_t{128} << 20, "workspace");
    DeviceBuffer alt_out(out.bytes(), "other outputs"), alt_codes(static_cast<size_t>(rows * linear.gemm_k()), "other codes");
    CUDA_CHECK(cudaMemcpyAsync(alt_codes.data(), linear.activation_codes(), alt_codes.bytes(), cudaMemcpyDeviceToDevice,
                               stream));
    auto pass = [&](bool other_buffers) {
      const uint8_t* in = other_buffers ? alt_codes.as<uint8_t>() : linear.activation_codes();
      uint8_t* d = other_buffers ? alt_out.as<uint8_t>() : out.as<uint8_t>();
      for (int l = 0; l < a.layers; ++l)
        linear.gemm(a.m, in, linear.activation_scales(), d + l * out_bytes, workspace.data(), workspace.bytes(), stream, l);
    };
    Bf16Gemm lm_head(32000, k);  // the workspace's other writer in the engine
    DeviceBuffer lm_w(static_cast<size_t>(32000) * k * 2, "lm_head weight"), lm_out(static_cast<size_t>(rows) * 32000 * 4, "logits");
    CUDA_CHECK(cudaMemsetAsync(lm_w.data(), 0x3c, lm_w.bytes(), stream));

    std::vector<uint8_t> first, now(out.bytes());
    cudaGraphExec_t exec = nullptr;
    for (size_t i = 0; i < a.steps.size(); ++i) {
      const char step = a.steps[i];
      try {
        CUDA_CHECK(cudaMemsetAsync(out.data(), 0xFF, out.bytes(), stream));  // poison
        CUDA_CHECK(cudaMemsetAsync(alt_out.data(), 0xFF, alt_out.bytes(), stream));
        if (step == 'E' || step == 'X') {
          pass(step == 'X');
        } else if (step == 'C') {
          cudaGraph_t graph;
          CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
          pass(false);
          CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
          CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
          CUDA_CHECK(cudaGraphDestroy(graph));
        } else if (step == 'R') {
          require(exec, "R before C");
          CUDA_CHECK(cudaGraphLaunch(exec, stream));
        } else if (step == 'B') {
          lm_head.prepare(rows, workspace.bytes());
          lm_head.run(lm_w.as<__nv_bfloat16>(), x_dev.as<__nv_bfloat16>(), lm_out.as<float>(), rows, workspace.data(),
                      workspace.bytes(), stream);
        } else {
          fail(std::string("unknown step '") + step + "'");
        }
        CUDA_CHECK(cudaStreamSynchronize(stream));
      } catch (const Error& e) {
        std::printf("step %zu %c: FAULT %s\n", i, step, e.what());
        return 2;
      }
      if (step == 'C' || step == 'B') {
        std::printf("step %zu %c: ok\n", i, step);
        continue;
      }
      CUDA_CHECK(cudaMemcpy(now.data(), (step == 'X' ? alt_out : out).data(), now.size(), cudaMemcpyDeviceToHost));
      if (first.empty()) first = now;
      int bad = -1;
      for (int l = 0; l < a.layers && bad < 0; ++l)
        if (std::memcmp(now.data() + l * out_bytes, first.data() + l * out_bytes, static_cast<size_t>(a.m * n) * 2))
          bad = l;
      if (bad >= 0) std::printf("step %zu %c: MISMATCH layer %d\n", i, step, bad);
      else std::printf("step %zu %c: ok\n", i, step);
    }
    if (exec) cudaGraphExecDestroy(exec);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "cusparselt_graph_probe: %s\n", e.what());
    return 1;
  }
}
