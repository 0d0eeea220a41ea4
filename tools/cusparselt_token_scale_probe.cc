// Can cuSPARSELt apply the per-token activation scale and add the residual in its own epilogue?
// Its alpha vector scales the rows of D. The engine makes the weight the structured operand A, so
// D's rows are the weight's N and the vector carries the weight scale; the per-token scale and the
// residual are left to the next kernel. With the weight as the structured operand B and the
// activations as A, D's rows are the tokens: alpha[t] = scale_x[t] * scale_w (a BitNet linear has
// one weight scale), and beta = 1 with C = the residual stream gives
//   d[t, n] = bf16(alpha[t] * acc[t, n] + residual[t, n]),
// the dense path's residual epilogue. For the four BitNet-2B shapes and a list of row counts this
// measures the engine's form (weight scale as the vector, beta 0) and the token form in each operand
// order the library may accept, best of every algorithm and split-K mode; every token-form output
// is checked on sampled rows against the exact product (bf16 rounding allowed). INT8 and FP8.
//
//   cusparselt_token_scale_probe [--m-list 512,4096,32768]
#include <cuda_bf16.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/kernel_bench.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gemm/cusparselt_library.h"
#include "gemm/gemm_types.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "math/numeric_formats.h"
#include "tools/probe_support.h"

using namespace slidesparse;

namespace {

// How the operands are described to the library; the memory is the same in every form:
// x [m, k] row-major, w [n, k] row-major, d and the residual [m, n] row-major.
struct Form {
  const char* name;
  bool weight_is_a;        // the engine's form: D col-major [n, m], vector over n
  cusparseOrder_t x_order, w_order;
};

constexpr Form kForms[] = {
    {"engine (W=A, vector=scale_w)", true, CUSPARSE_ORDER_COL, CUSPARSE_ORDER_COL},
    {"token, x row, w col", false, CUSPARSE_ORDER_ROW, CUSPARSE_ORDER_COL},
    {"token, x row, w row", false, CUSPARSE_ORDER_ROW, CUSPARSE_ORDER_ROW},
    {"token, x col, w col", false, CUSPARSE_ORDER_COL, CUSPARSE_ORDER_COL},
};

// A matrix stored row-major [rows, cols] described in `order`, with the op that yields `rows x
// cols` (order row, op N) or its transpose (order col: col-major [cols, rows], op T) as wanted.
struct Described {
  int64_t rows, cols, ld;
  cusparseOperation_t op;
};

// Stored row-major [r, c]; `want_transposed`: the GEMM needs [c, r].
Described describe(cusparseOrder_t order, int64_t r, int64_t c, bool want_transposed) {
  if (order == CUSPARSE_ORDER_ROW)
    return {r, c, c, want_transposed ? CUSPARSE_OPERATION_TRANSPOSE : CUSPARSE_OPERATION_NON_TRANSPOSE};
  return {c, r, c, want_transposed ? CUSPARSE_OPERATION_NON_TRANSPOSE : CUSPARSE_OPERATION_TRANSPOSE};
}

struct Problem {
  QuantKind kind;
  int64_t m, n, k;
};

// One form of one problem: descriptors, compressed weight, and the best plan over every algorithm.
class FormRun {
 public:
  FormRun(const CusparseLt& lib, const Form& form, const Problem& p) : lib_(lib), form_(form) {
    const auto& api = lib_.api;
    const cudaDataType in = cuda_input_type(p.kind);
    const cusparseComputeType compute = p.kind == QuantKind::Int8 ? CUSPARSE_COMPUTE_32I : CUSPARSE_COMPUTE_32F;
    cusparseOperation_t op_a, op_b;
    if (form.weight_is_a) {  // as CusparseLtGemm: W' col-major [K, N] op T; X col-major [K, M] op N; D col [N, M]
      CUSPARSELT_CHECK(api.cusparseLtStructuredDescriptorInit(&lib.handle, &w_, p.k, p.n, p.k, 16, in,
                                                              CUSPARSE_ORDER_COL, CUSPARSELT_SPARSITY_50_PERCENT));
      CUSPARSELT_CHECK(
          api.cusparseLtDenseDescriptorInit(&lib.handle, &x_, p.k, p.m, p.k, 16, in, CUSPARSE_ORDER_COL));
      CUSPARSELT_CHECK(api.cusparseLtDenseDescriptorInit(&lib.handle, &d_, p.n, p.m, p.n, 16, CUDA_R_16BF,
                                                         CUSPARSE_ORDER_COL));
      op_a = CUSPARSE_OPERATION_TRANSPOSE, op_b = CUSPARSE_OPERATION_NON_TRANSPOSE;
      weight_op_ = op_a;
    } else {  // A = x [m, k], B = w^T [k, n], D = [m, n] row-major
      const Described x = describe(form.x_order, p.m, p.k, false), w = describe(form.w_order, p.n, p.k, true);
      CUSPARSELT_CHECK(api.cusparseLtDenseDescriptorInit(&lib.handle, &x_, x.rows, x.cols, x.ld, 16, in, form.x_order));
      CUSPARSELT_CHECK(api.cusparseLtStructuredDescriptorInit(&lib.handle, &w_, w.rows, w.cols, w.ld, 16, in,
                                                              form.w_order, CUSPARSELT_SPARSITY_50_PERCENT));
      CUSPARSELT_CHECK(api.cusparseLtDenseDescriptorInit(&lib.handle, &d_, p.m, p.n, p.n, 16, CUDA_R_16BF,
                                                         CUSPARSE_ORDER_ROW));
      op_a = x.op, op_b = w.op;
      weight_op_ = w.op;
    }
    const cusparseLtMatDescriptor_t* a = form.weight_is_a ? &w_ : &x_;
    const cusparseLtMatDescriptor_t* b = form.weight_is_a ? &x_ : &w_;
    CUSPARSELT_CHECK(api.cusparseLtMatmulDescriptorInit(&lib.handle, &matmul_, op_a, op_b, a, b, &d_, &d_, compute));
    const int on = 1;
    CUSPARSELT_CHECK(api.cusparseLtMatmulDescSetAttribute(&lib.handle, &matmul_, CUSPARSELT_MATMUL_ALPHA_VECTOR_SCALING,
                                                          &on, sizeof on));
  }
  ~FormRun() {
    destroy_plan();
    lib_.api.cusparseLtMatDescriptorDestroy(&w_);
    lib_.api.cusparseLtMatDescriptorDestroy(&x_);
    lib_.api.cusparseLtMatDescriptorDestroy(&d_);
  }

  void compress(const void* w, cudaStream_t stream) {
    const auto& api = lib_.api;
    const int sparse_a = form_.weight_is_a ? 1 : 0;
    size_t size = 0, scratch = 0;
    CUSPARSELT_CHECK(api.cusparseLtSpMMACompressedSize2(&lib_.handle, &w_, &size, &scratch));
    compressed_ = DeviceBuffer(size, "compressed");
    DeviceBuffer buffer(scratch, "compression scratch");
    CUSPARSELT_CHECK(api.cusparseLtSpMMACompress2(&lib_.handle, &w_, sparse_a, weight_op_, w, compressed_.data(),
                                                  buffer.data(), stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
  }

  int algorithm_count() {
    cusparseLtMatmulAlgSelection_t s{};
    CUSPARSELT_CHECK(
        lib_.api.cusparseLtMatmulAlgSelectionInit(&lib_.handle, &s, &matmul_, CUSPARSELT_MATMUL_ALG_DEFAULT));
    int max_id = 0;
    const auto status = lib_.api.cusparseLtMatmulAlgGetAttribute(&lib_.handle, &s, CUSPARSELT_MATMUL_ALG_CONFIG_MAX_ID,
                                                                 &max_id, sizeof max_id);
    lib_.api.cusparseLtMatmulAlgSelectionDestroy(&s);
    CUSPARSELT_CHECK(status);
    return max_id;
  }

  // False when the library refuses this algorithm / split-K for the problem.
  bool plan(int alg, int split_k) {
    const auto& api = lib_.api;
    destroy_plan();
    CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSelectionInit(&lib_.handle, &selection_, &matmul_,
                                                          CUSPARSELT_MATMUL_ALG_DEFAULT));
    selection_ready_ = true;
    CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSetAttribute(&lib_.handle, &selection_, CUSPARSELT_MATMUL_ALG_CONFIG_ID,
                                                         &alg, sizeof alg));
    CUSPARSELT_CHECK(api.cusparseLtMatmulAlgSetAttribute(&lib_.handle, &selection_, CUSPARSELT_MATMUL_SPLIT_K,
                                                         &split_k, sizeof split_k));
    if (api.cusparseLtMatmulPlanInit(&lib_.handle, &plan_, &matmul_, &selection_) != CUSPARSE_STATUS_SUCCESS)
      return false;
    plan_ready_ = true;
    CUSPARSELT_CHECK(api.cusparseLtMatmulGetWorkspace(&lib_.handle, &plan_, &workspace_));
    return true;
  }
  size_t workspace() const { return workspace_; }

  void run(const void* x, const float* alpha, float beta, const void* c, void* d, void* workspace,
           cudaStream_t stream) {
    const void* a = form_.weight_is_a ? compressed_.data() : x;
    const void* b = form_.weight_is_a ? x : compressed_.data();
    CUSPARSELT_CHECK(lib_.api.cusparseLtMatmul(&lib_.handle, &plan_, alpha, a, b, &beta, c, d, workspace, &stream, 1));
  }

 private:
  void destroy_plan() {
    if (plan_ready_) lib_.api.cusparseLtMatmulPlanDestroy(&plan_);
    if (selection_ready_) lib_.api.cusparseLtMatmulAlgSelectionDestroy(&selection_);
    plan_ready_ = selection_ready_ = false;
  }

  const CusparseLt& lib_;
  Form form_;
  cusparseLtMatDescriptor_t w_{}, x_{}, d_{};
  DeviceBuffer compressed_;
  cusparseLtMatmulDescriptor_t matmul_{};
  cusparseLtMatmulAlgSelection_t selection_{};
  cusparseLtMatmulPlan_t plan_{};
  cusparseOperation_t weight_op_ = CUSPARSE_OPERATION_NON_TRANSPOSE;
  size_t workspace_ = 0;
  bool plan_ready_ = false, selection_ready_ = false;
};

float code_value(QuantKind kind, uint8_t code) {
  return kind == QuantKind::Int8 ? float(static_cast<int8_t>(code)) : e4m3_to_float(code);
}

// What the token form's output matches, on `kSampledRows` sampled token rows against the host's
// exact product acc = x . w^T (double): the worst |d - e| / (|e| + 1e-3 * rms(e)) for
//   e = alpha[t] * acc + residual   (the intended form),  alpha[n] * acc + residual,
//       alpha[t] * acc,  alpha[n] * acc   (the vector read along the weight's rows, C not added).
// The first is the verdict; the others say what the library did instead.
constexpr int kSampledRows = 8;
constexpr int kHypotheses = 4;
constexpr const char* kHypothesisNames[kHypotheses] = {"a[t]*acc+C", "a[n]*acc+C", "a[t]*acc", "a[n]*acc"};

std::vector<double> token_form_errors(const Problem& p, const DeviceBuffer& x, const DeviceBuffer& w,
                                      const DeviceBuffer& alpha, const DeviceBuffer& residual, const DeviceBuffer& d) {
  std::vector<uint8_t> hw(size_t(p.n * p.k));
  CUDA_CHECK(cudaMemcpy(hw.data(), w.data(), hw.size(), cudaMemcpyDeviceToHost));
  std::vector<float> wv(hw.size()), ha(size_t(p.m));
  for (size_t i = 0; i < hw.size(); ++i) wv[i] = code_value(p.kind, hw[i]);
  CUDA_CHECK(cudaMemcpy(ha.data(), alpha.data(), ha.size() * 4, cudaMemcpyDeviceToHost));
  std::vector<double> worst(kHypotheses, 0.0);
  const int64_t rows = std::min<int64_t>(p.m, kSampledRows);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r * (p.m - 1) / std::max<int64_t>(rows - 1, 1);
    std::vector<uint8_t> hx(size_t(p.k));
    std::vector<uint16_t> hr(size_t(p.n)), hd(size_t(p.n));
    CUDA_CHECK(cudaMemcpy(hx.data(), x.as<uint8_t>() + t * p.k, hx.size(), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(hr.data(), residual.as<uint16_t>() + t * p.n, hr.size() * 2, cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(hd.data(), d.as<uint16_t>() + t * p.n, hd.size() * 2, cudaMemcpyDeviceToHost));
    std::vector<double> acc(size_t(p.n));
    for (int64_t n = 0; n < p.n; ++n)
      for (int64_t j = 0; j < p.k; ++j)
        acc[size_t(n)] += double(code_value(p.kind, hx[size_t(j)])) * wv[size_t(n * p.k + j)];
    for (int h = 0; h < kHypotheses; ++h) {
      if ((h == 1 || h == 3) && p.n > p.m) {  // alpha has m entries
        worst[size_t(h)] = INFINITY;
        continue;
      }
      std::vector<double> e(size_t(p.n));
      double sum_sq = 0;
      for (int64_t n = 0; n < p.n; ++n) {
        const double a = (h == 0 || h == 2) ? ha[size_t(t)] : ha[size_t(n)];
        e[size_t(n)] = a * acc[size_t(n)] + (h < 2 ? double(bf16_to_float(hr[size_t(n)])) : 0.0);
        sum_sq += e[size_t(n)] * e[size_t(n)];
      }
      const double rms = std::sqrt(sum_sq / double(p.n));
      for (int64_t n = 0; n < p.n; ++n) {
        const double got = bf16_to_float(hd[size_t(n)]), want = e[size_t(n)];
        worst[size_t(h)] = std::max(worst[size_t(h)], std::abs(got - want) / (std::abs(want) + 1e-3 * rms));
      }
    }
  }
  return worst;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "512,4096,32768", "cusparselt_token_scale_probe [--m-list 512,...]");
  const CusparseLt& lib = cusparselt();
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const TensorPeaks peaks = device_ceilings(stream).peaks;
  DeviceBuffer workspace(size_t{256} << 20, "workspace");
  std::printf("cuSPARSELt %s; us best over algorithms and split-K (dense-equivalent TOPS; dense peak INT8 %.0f, "
              "FP8 %.0f); per token form, the worst relative error of sampled rows (bf16 rounding ~0.004) for "
              "what the output may be\n",
              lib.version_string().c_str(), peaks.int8_tops, peaks.fp8_tops);
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3}) {
    for (const LayerShape& s : bitnet_layer_shapes()) {
      DeviceBuffer w(size_t(s.n * s.k), "w"), sw(size_t(s.n) * 4, "sw");
      fill_ternary_codes_gpu(kind, w.as<uint8_t>(), s.n, s.k, true, 2, stream);
      fill_random_f32_gpu(sw.as<float>(), s.n, 0.5f, 2.0f, 4, stream);
      for (int64_t m : ms) {
        const Problem p{kind, m, s.n, s.k};
        DeviceBuffer x(size_t(m * s.k), "x"), alpha(size_t(m) * 4, "alpha");
        DeviceBuffer residual(size_t(m * s.n) * 2, "residual"), d(size_t(m * s.n) * 2, "d");
        fill_random_codes_gpu(kind, x.as<uint8_t>(), m, s.k, false, 1, stream);
        fill_random_f32_gpu(alpha.as<float>(), m, 1e-4f, 1e-2f, 3, stream);
        fill_random_bf16_gpu(residual.data(), m * s.n, 5, stream);
        const double flops = 2.0 * double(m) * double(s.n) * double(s.k);
        std::printf("%s %-8s M=%-6lld", kind == QuantKind::Int8 ? "int8" : "fp8 ", s.name.c_str(), (long long)m);
        for (const Form& form : kForms) {
          double best = std::numeric_limits<double>::infinity();
          int best_alg = -1, best_split = 0, tried = 0;
          std::vector<double> errors;
          std::string refused;
          try {
            FormRun f(lib, form, p);
            f.compress(w.data(), stream);
            const int count = f.algorithm_count();
            const float* vec = form.weight_is_a ? sw.as<float>() : alpha.as<float>();
            const float beta = form.weight_is_a ? 0.0f : 1.0f;
            for (int alg = 0; alg < count; ++alg) {
              for (int split_k : {1, -1}) {
                if (!f.plan(alg, split_k) || f.workspace() > workspace.bytes()) continue;
                auto run = [&] { f.run(x.data(), vec, beta, residual.data(), d.data(), workspace.data(), stream); };
                try {
                  run();
                  CUDA_CHECK(cudaStreamSynchronize(stream));
                } catch (const Error&) {
                  continue;
                }
                ++tried;
                const double us = time_launches_us(run, 2, 10, stream);
                if (us < best) best = us, best_alg = alg, best_split = split_k;
              }
            }
            if (!form.weight_is_a && best_alg >= 0) {
              CUDA_CHECK(cudaMemsetAsync(d.data(), 0xff, d.bytes(), stream));  // poisoned
              f.plan(best_alg, best_split);
              f.run(x.data(), vec, beta, residual.data(), d.data(), workspace.data(), stream);
              CUDA_CHECK(cudaStreamSynchronize(stream));
              errors = token_form_errors(p, x, w, alpha, residual, d);
            }
          } catch (const Error& e) {
            refused = e.what();
          }
          if (best_alg >= 0) {
            std::printf(" | %s: %.1f us (%.0f) alg %d split %d of %d", form.name, best, flops / best * 1e-6, best_alg,
                        best_split, tried);
            for (size_t h = 0; h < errors.size(); ++h) std::printf(" %s %.4g", kHypothesisNames[h], errors[h]);
          }
          else
            std::printf(" | %s: refused%s%.80s", form.name, refused.empty() ? "" : ": ", refused.c_str());
        }
        std::printf("\n");
        std::fflush(stdout);
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "cusparselt_token_scale_probe: %s\n", e.what());
  return 1;
}
