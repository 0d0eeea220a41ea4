#include "gemm/w8a8_linear.h"

#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"

namespace slidesparse {

namespace {

// Whether cuBLASLt returns any algorithm for the shape (probed once per shape and mode).
bool cublaslt_supports(const GemmShape& shape) {
  static std::map<std::tuple<int, int, int, int64_t, int64_t>, bool> cache;
  const auto key = std::make_tuple(int(shape.kind), int(shape.output), int(shape.scales), shape.n, shape.k);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  CublasLtGemm gemm(shape);
  return cache[key] = !gemm.heuristic_candidates(kRowAlignment * 64, 1, size_t{64} << 20).empty();
}

}  // namespace

int64_t scale_run(std::span<const float> scale) {
  if (scale.empty()) return 0;
  const auto equal = [](float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  const int64_t n = static_cast<int64_t>(scale.size());
  int64_t run = 1;
  while (run < n && equal(scale[static_cast<size_t>(run)], scale[0])) ++run;
  for (int64_t c = run; c < n; ++c)
    if (!equal(scale[static_cast<size_t>(c)], scale[static_cast<size_t>(c - c % run)])) return 0;
  return run;
}

GemmKey linear_tuning_key(const LinearConfig& c, int64_t gemm_k) {
  return {std::string(gemm_backend_name(c.backend())), std::string(quant_kind_name(c.kind)),
          std::string(gemm_output_name(c.output)), c.n, gemm_k, c.fast_accum};
}

std::string quant_kernel_name(QuantKind kind, Sparsity sparsity) {
  return sparsity.is_dense() ? "quantize_" + std::string(quant_kind_name(kind))
                             : "quantize_slide_" + std::string(quant_kind_name(kind)) + "_L" +
                                   std::to_string(sparsity.group());
}

std::string accumulator_form(const LinearConfig& c) {
  std::string form(gemm_output_name(c.output));
  if (c.scales != ScaleMode::BothInGemm) form += "+sx";
  if (c.scales == ScaleMode::Epilogue) form += "+sw";
  return form;
}

LinearConfig default_linear_config(QuantKind kind, int64_t n, int64_t k, Sparsity sparsity, int64_t max_m,
                                   const LinearPreferences& preferences) {
  require(!sparsity.is_inf(), "a linear layer's weight is dense or 2:L with a finite L, not 2:inf");
  LinearConfig c;
  c.kind = kind;
  c.n = n;
  c.k = k;
  c.sparsity = sparsity;
  c.max_m = max_m;
  const GemmBackend backend = c.backend();
  c.fast_accum = backend == GemmBackend::CublasLt && kind == QuantKind::Fp8E4M3 && preferences.fp8_fast_accum;
  // INT8 dense on Hopper: the scaled GEMM (CUTLASS) applies both scales in its own epilogue and
  // writes bf16, the bits of cuBLASLt's int32 + epilogue with half the output traffic and faster
  // GEMMs at small M (docs/PERF.md, "A dense GEMM that applies both scales"; FP8 measured slower on
  // it than on cuBLASLt, which already writes bf16).
  const bool scaled = backend == GemmBackend::CublasLt && kind == QuantKind::Int8 && preferences.scaled_gemm &&
                      scaled_gemm_available() && n % 8 == 0 && k % 16 == 0;
  // INT8 2:L on Hopper, where asked for: the sparse scaled GEMM, both scales in its epilogue and
  // bf16 out, so the engine fuses around it as around the dense one (docs/PERF.md).
  const bool sparse_scaled = backend == GemmBackend::CusparseLt && kind == QuantKind::Int8 &&
                             preferences.sparse_scaled_gemm && sparse_scaled_gemm_available() &&
                             sparse_scaled_gemm_takes(n, linear_gemm_k(k, sparsity));
  if (scaled || sparse_scaled) {
    c.output = GemmOutput::BFloat16;
    c.scales = ScaleMode::BothInGemm;
  } else if (backend == GemmBackend::CublasLt && kind == QuantKind::Int8) {
    // cuBLASLt's INT8 IMMA only writes int32: the scales go to the epilogue.
    c.output = GemmOutput::Int32;
    c.scales = ScaleMode::Epilogue;
  } else if (backend == GemmBackend::CublasLt) {
    // FP8: the cheapest scale placement this cuBLASLt offers for the shape (both scales as outer
    // vectors, else the weight scale as an alpha vector, else a bf16 accumulator and the epilogue).
    c.output = GemmOutput::BFloat16;
    c.scales = ScaleMode::Epilogue;
    for (ScaleMode mode : {ScaleMode::BothInGemm, ScaleMode::WeightInGemm})
      if (cublaslt_supports({kind, GemmOutput::BFloat16, mode, n, k})) {  // probed in the precise mode
        c.scales = mode;
        break;
      }
  } else {
    // cuSPARSELt 0.8 scales by an alpha vector for INT8 only (FP8 answers NOT_SUPPORTED): FP8 keeps
    // a bf16 accumulator and both scales go to the epilogue.
    c.output = GemmOutput::BFloat16;
    c.scales = kind == QuantKind::Int8 ? ScaleMode::WeightInGemm : ScaleMode::Epilogue;
  }
  return c;
}

int64_t linear_gemm_k(int64_t k, Sparsity sparsity) {
  // Dense GEMMs run on K itself (it must be a multiple of 32); sparse ones on K' rounded up to
  // cuSPARSELt's K tile (gemm/gemm_types.h).
  if (sparsity.is_dense()) return k;
  return sparse_gemm_k(sparsity.is_inf() ? (2 * k + 31) / 32 * 32 : make_slide_geometry(k, sparsity.group()).k_slid);
}

W8A8Linear::W8A8Linear(const LinearConfig& config, const void* weight, const float* scale_w, cudaStream_t stream)
    : W8A8Linear(config, std::vector<LinearWeight>{{weight, scale_w}}, stream) {}

bool runs_scaled_gemm(const LinearConfig& c) {
  // Both scales in the GEMM: INT8 on a scaled GEMM (cuSPARSELt takes only the weight's for INT8);
  // FP8 dense on cuBLASLt's outer-vector scale modes (where offered).
  return c.scales == ScaleMode::BothInGemm && c.kind == QuantKind::Int8;
}

int64_t native_gate_up_block(const LinearConfig& c) {
  return c.backend() == GemmBackend::CusparseLt ? kSparseGateUpBlock : 1;
}

namespace {

// The name `tune` stores a scaled GEMM's tile under.
std::string scaled_gemm_tuning_name(const LinearConfig& c) {
  return c.backend() == GemmBackend::CusparseLt ? sparse_scaled_gemm_kernel_name(c.n) : scaled_gemm_kernel_name(c.n);
}

}  // namespace

std::optional<double> tuned_gemm_latency_us(const TuningDatabase& db, const LinearConfig& config, int64_t gemm_k,
                                            int64_t rows) {
  if (runs_scaled_gemm(config)) {
    const auto entry = db.lookup_kernel_at(scaled_gemm_tuning_name(config), gemm_k, rows);
    if (!entry || !entry->contains("latency_us")) return std::nullopt;  // databases before the field
    return entry->value("latency_us", 0.0);
  }
  const auto choice = db.lookup_gemm(linear_tuning_key(config, gemm_k), rows);
  if (!choice) return std::nullopt;
  return choice->latency_us;
}

std::optional<TunedLatencies> dense_fallback_choice(const TuningDatabase& db, const LinearConfig& sparse,
                                                    const LinearConfig& dense, int64_t rows) {
  const auto sparse_us = tuned_gemm_latency_us(db, sparse, linear_gemm_k(sparse.k, sparse.sparsity), rows);
  const auto dense_us = tuned_gemm_latency_us(db, dense, linear_gemm_k(dense.k, dense.sparsity), rows);
  if (!sparse_us || !dense_us || !(*dense_us < *sparse_us)) return std::nullopt;
  return TunedLatencies{*dense_us, *sparse_us};
}

bool dense_fallback_ever_runs(const TuningDatabase& db, const LinearConfig& sparse, const LinearConfig& dense) {
  for (int64_t rows : db.searched_ms(linear_tuning_key(sparse, linear_gemm_k(sparse.k, sparse.sparsity))))
    if (dense_fallback_choice(db, sparse, dense, rows)) return true;
  return false;
}

bool dense_fallback_always_runs(const TuningDatabase& db, const LinearConfig& sparse, const LinearConfig& dense) {
  bool compared = false;
  for (int64_t rows : db.searched_ms(linear_tuning_key(sparse, linear_gemm_k(sparse.k, sparse.sparsity)))) {
    if (!tuned_gemm_latency_us(db, dense, linear_gemm_k(dense.k, dense.sparsity), rows)) continue;
    if (!dense_fallback_choice(db, sparse, dense, rows)) return false;
    compared = true;
  }
  return compared;
}

W8A8Linear::W8A8Linear(const LinearConfig& config, const std::vector<LinearWeight>& weights, cudaStream_t stream,
                       const std::optional<DenseFallback>& dense_fallback)
    : config_(config), weights_(weights) {
  fallback_only_ = dense_fallback && dense_fallback->every_row_count;
  // A fallback for every row count with weights of its own needs no sparse ones: its weights (and
  // their scales) stand in for them.
  if (fallback_only_ && weights_.empty()) weights_ = dense_fallback->weights;
  require(!weights_.empty(), "linear layer without weights");
  const bool sparse = config.backend() == GemmBackend::CusparseLt;
  require(config.max_m > 0, "linear layer: max_m must be positive");
  geometry_ = make_slide_geometry(config.k, config.sparsity.slide_group());  // throws for 2:inf
  gemm_k_ = linear_gemm_k(config.k, config.sparsity);
  const GemmShape shape{config.kind, config.output, config.scales, config.n, gemm_k_, !sparse && config.fast_accum};
  const bool scaled = runs_scaled_gemm(config);
  require(!config.relu2_mul_epilogue || scaled,
          "the relu2*up epilogue runs on the INT8 scaled GEMMs alone (an INT8 weight on Hopper)");
  require(!config.residual_epilogue || (scaled && !config.relu2_mul_epilogue),
          "the residual epilogue runs on the INT8 scaled GEMMs alone (an INT8 weight on Hopper)");
  require(!(sparse && config.relu2_mul_epilogue) || config.gate_up_block == kSparseGateUpBlock,
          "the sparse scaled GEMM's relu2*up epilogue takes gate_up rows in blocks of " +
              std::to_string(kSparseGateUpBlock));
  // (A fallback for every row count never runs this linear's own GEMM.)
  if (!scaled && !fallback_only_) validate_gemm_shape(config.backend(), shape, query_device().compute_capability());
  if (dense_fallback) {
    const LinearConfig& f = dense_fallback->config;
    const bool own_weights = dense_fallback->weights.empty();
    require(sparse, "a dense fallback belongs to a 2:L linear, not to a dense one");
    require(!own_weights || (config.sparsity == Sparsity::two_of(4) && geometry_.k_slid == config.k),
            "a dense fallback of a " + config.sparsity.str() + " linear with K=" + std::to_string(config.k) +
                " (K'=" + std::to_string(geometry_.k_slid) +
                ") runs its pruned weights un-slid to [n, K] (unslide_weight_rows), which it was not given");
    require(own_weights || dense_fallback->weights.size() == weights_.size(),
            "a dense fallback needs one un-slid weight per weight of the linear (" +
                std::to_string(dense_fallback->weights.size()) + " for " + std::to_string(weights_.size()) + ")");
    require(f.sparsity.is_dense() && f.kind == config.kind && f.n == config.n && f.k == config.k &&
                f.max_m >= config.max_m,
            "a dense fallback must be the same layer's dense configuration");
    require(gemm_output_bytes(f.output) <= gemm_output_bytes(config.output),
            "a dense fallback writing " + std::string(gemm_output_name(f.output)) + " does not fit the " +
                std::string(gemm_output_name(config.output)) + " output of the sparse GEMM");
    // Its fused epilogues may differ from the sparse GEMM's (callers follow running_config()); on
    // the linear's own weights it must read their rows in their order.
    require(!own_weights || (f.relu2_mul_epilogue == config.relu2_mul_epilogue &&
                             (!f.relu2_mul_epilogue || f.gate_up_block == config.gate_up_block)),
            "a dense fallback on the linear's own weights must take their gate_up row order");
    LinearConfig fallback = f;
    fallback.standalone = false;  // it runs on this linear's quantized activations and buffers
    dense_fallback_ = std::make_unique<W8A8Linear>(fallback, own_weights ? weights_ : dense_fallback->weights, stream);
  }
  if (fallback_only_) {
    // Nothing of the sparse GEMM: no compressed copy, no plans, no library calls at any row count.
  } else if (sparse) {
    if (scaled) {
      require(config.output == GemmOutput::BFloat16, "the sparse GEMM with both scales in its epilogue writes bf16");
      sparse_scaled_ = std::make_unique<SparseScaledGemm>(config.n, gemm_k_);
    } else {
      sparse_ = std::make_unique<CusparseLtGemm>(shape);
    }
    // The stored weight is [N, K']; the GEMM's is [N, gemm_k] with zero columns past K'.
    DeviceBuffer padded;
    if (gemm_k_ != geometry_.k_slid) {
      padded = DeviceBuffer(static_cast<size_t>(config.n * gemm_k_), "zero-padded sparse weight");
      CUDA_CHECK(cudaMemsetAsync(padded.data(), 0, padded.bytes(), stream));
    }
    for (auto& w : weights_) {
      const void* weight = w.codes;
      if (padded.data()) {
        CUDA_CHECK(cudaMemcpy2DAsync(padded.data(), static_cast<size_t>(gemm_k_), w.codes,
                                     static_cast<size_t>(geometry_.k_slid), static_cast<size_t>(geometry_.k_slid),
                                     static_cast<size_t>(config.n), cudaMemcpyDeviceToDevice, stream));
        weight = padded.data();
      }
      // Both synchronize: the padded copy can be reused.
      if (sparse_scaled_)
        sparse_scaled_->add_weight(weight, stream);
      else
        sparse_->compress(weight, stream);
      w.codes = nullptr;  // the compressed copy is what runs
    }
  } else if (scaled) {
    require(config.output == GemmOutput::BFloat16, "the dense GEMM with both scales in its epilogue writes bf16");
    scaled_ = std::make_unique<ScaledGemm>(config.n, gemm_k_);
  } else {
    dense_ = std::make_unique<CublasLtGemm>(shape);
  }
  if (!config.standalone) return;
  const int64_t rows = padded_rows(config.max_m);
  codes_ = DeviceBuffer(static_cast<size_t>(rows * gemm_k_), "quantized activations");
  scale_x_ = DeviceBuffer(static_cast<size_t>(rows) * sizeof(float), "activation scales");
  if (config.scales == ScaleMode::Epilogue ||
      (dense_fallback_ && dense_fallback_->config_.scales == ScaleMode::Epilogue))
    accumulator_ = DeviceBuffer(static_cast<size_t>(rows * config.n) * gemm_output_bytes(config.output),
                                "GEMM accumulator");
}

bool W8A8Linear::runs_dense_fallback(int64_t m) const {
  return fallback_only_ || fallback_rows_.count(padded_rows(m)) > 0;
}

const SlideGeometry* W8A8Linear::input_slide(int64_t m) const {
  return running_config(m).sparsity.is_dense() ? nullptr : &geometry_;
}

int64_t W8A8Linear::input_k(int64_t m) const { return runner(m).gemm_k_; }

std::string W8A8Linear::describe() const {
  std::string s =
      scaled_ || sparse_scaled_ ? std::string("cutlass") : std::string(gemm_backend_name(config_.backend()));
  if (!config_.sparsity.is_dense()) s += " " + config_.sparsity.str();
  s += " " + std::string(quant_kind_name(config_.kind)) + " -> " + std::string(gemm_output_name(config_.output)) +
       " (" + std::string(scale_mode_name(config_.scales)) + ") N=" + std::to_string(config_.n) +
       " K=" + std::to_string(config_.k);
  if (!config_.sparsity.is_dense()) s += " K'=" + std::to_string(gemm_k_);
  if (fallback_only_) s += ", runs its dense fallback at every row count";
  if (config_.relu2_mul_epilogue) s += ", relu2*up epilogue writes N/2=" + std::to_string(config_.output_n());
  if (config_.residual_epilogue) s += ", adds to the residual stream in its epilogue";
  return s;
}

void W8A8Linear::prepare(int64_t m, const TuningDatabase* db) {
  require(m > 0 && m <= config_.max_m, "linear layer prepared for M=" + std::to_string(m) +
                                           " outside 1.." + std::to_string(config_.max_m));
  const int64_t rows = padded_rows(m);
  fallback_rows_.erase(rows);
  if (dense_fallback_) {
    // Both GEMMs timed by `tune` at these rows: the faster one runs (cuSPARSELt's FP8 plans lose to
    // cuBLASLt's at decode row counts on Hopper; docs/PERF.md); a fallback for every row count runs
    // them whatever was timed.
    const auto timed = db ? dense_fallback_choice(*db, config_, dense_fallback_->config_, rows) : std::nullopt;
    if (timed || fallback_only_) {
      dense_fallback_->prepare(m, db);
      fallback_rows_[rows] = timed;
      return;  // the fallback quantizes and multiplies these rows with its own plan and launch shape
    }
  }
  // Only a configuration searched and checked at exactly these rows; else the library's default.
  const auto choice = db ? db->lookup_gemm(linear_tuning_key(config_, gemm_k_), rows) : std::nullopt;
  if (scaled_ || sparse_scaled_) {
    const std::string name = scaled_gemm_tuning_name(config_);
    if (auto tuned = db ? db->lookup_kernel(name, gemm_k_, rows) : std::nullopt) {
      try {
        if (scaled_) {
          scaled_->set_tile(rows, parse_scaled_gemm_tile(tuned->value("tile", std::string())));
        } else {
          sparse_scaled_->set_schedule(
              rows, {parse_sparse_scaled_gemm_tile(tuned->value("tile", std::string())),
                     parse_sparse_tile_raster(tuned->value("raster", std::string("weight-rows"))),
                     tuned->value("swizzle", 1)});
        }
      } catch (const Error& e) {
        fail(std::string(e.what()) + " in the tuning database's " + name + " entry for M=" + std::to_string(rows) +
             " (written by another build: run tune again)");
      }
    }
  } else if (dense_) {
    constexpr size_t kMaxWorkspace = size_t{64} << 20;
    if (choice && choice->cublaslt_algo.size() == sizeof(cublasLtMatmulAlgo_t)) {
      cublasLtMatmulAlgo_t algo;
      std::memcpy(&algo, choice->cublaslt_algo.data(), sizeof algo);
      try {
        dense_->set_algorithm(rows, algo, choice->workspace_bytes);
      } catch (const Error&) {
        // Refused although it was searched here (e.g. less workspace now): the heuristic decides.
      }
    }
    dense_->prepare(rows, kMaxWorkspace);
  } else if (choice) {
    sparse_->set_algorithm(rows, choice->alg_id, choice->split_k);
  } else {
    sparse_->prepare(rows);
  }
  QuantLaunchConfig quant;
  if (db)
    if (auto tuned = db->lookup_kernel(quant_kernel_name(config_.kind, config_.sparsity), config_.k, m))
      quant = {tuned->value("threads", 256), tuned->value("rows_per_block", 1)};
  quant_configs_[rows] = quant;
}

size_t W8A8Linear::workspace_bytes(int64_t m) const {
  if (runs_dense_fallback(m)) return dense_fallback_->workspace_bytes(m);
  const int64_t rows = padded_rows(m);
  return scaled_ || sparse_scaled_ ? 0 : dense_ ? dense_->workspace_bytes(rows) : sparse_->workspace_bytes(rows);
}

std::string W8A8Linear::describe_plan(int64_t m) const {
  if (const auto it = fallback_rows_.find(padded_rows(m)); it != fallback_rows_.end() || fallback_only_) {
    std::string why = " (not timed at these rows: the dense GEMM won wherever both were timed)";
    if (it != fallback_rows_.end() && it->second) {
      char latencies[96];
      std::snprintf(latencies, sizeof latencies, " (tuned %.1f us, %s %.1f us)", it->second->dense_us,
                    runs_scaled_gemm(config_) ? "sparse CUTLASS" : "cuSPARSELt", it->second->sparse_us);
      why = latencies;
    }
    return dense_fallback_->describe_plan(m) + " on the " + config_.sparsity.str() + " weight" + why;
  }
  const std::string epilogue = config_.relu2_mul_epilogue  ? " + relu2*up"
                               : config_.residual_epilogue ? " + residual"
                                                           : "";
  if (scaled_) return "CUTLASS " + std::string(scaled_gemm_tile_name(scaled_->tile(padded_rows(m)))) + epilogue;
  if (sparse_scaled_)
    return "CUTLASS sparse " + describe_sparse_scaled_gemm_schedule(sparse_scaled_->schedule(padded_rows(m))) +
           epilogue;
  return sparse_ ? sparse_->describe_plan(padded_rows(m)) : "cuBLASLt";
}

void W8A8Linear::quantize(const __nv_bfloat16* x, int64_t m, cudaStream_t stream) {
  require(config_.standalone, "linear layer without its own activation buffers cannot quantize");
  const int64_t rows = padded_rows(m);
  const QuantLaunchConfig launch = quant_launch_config(m);
  if (const SlideGeometry* slide = input_slide(m))
    quantize_slide_rows_gpu(config_.kind, *slide, x, m, rows, gemm_k_, codes_.as<uint8_t>(), scale_x_.as<float>(),
                            stream, launch);
  else
    quantize_rows_gpu(config_.kind, x, m, config_.k, rows, input_k(m), codes_.as<uint8_t>(), scale_x_.as<float>(),
                      stream, launch);
}

void W8A8Linear::gemm(int64_t m, void* d, void* workspace, size_t workspace_size, cudaStream_t stream) {
  require(config_.standalone, "linear layer without its own activation buffers: pass the codes to gemm()");
  gemm(m, codes_.as<uint8_t>(), scale_x_.as<float>(), d, workspace, workspace_size, stream);
}

void W8A8Linear::gemm(int64_t m, const uint8_t* codes, const float* scale_x, void* d, void* workspace,
                      size_t workspace_size, cudaStream_t stream, int index) const {
  if (runs_dense_fallback(m))
    return dense_fallback_->gemm(m, codes, scale_x, d, workspace, workspace_size, stream, index);
  const int64_t rows = padded_rows(m);
  const LinearWeight& w = weights_.at(static_cast<size_t>(index));
  if (scaled_ && config_.relu2_mul_epilogue)
    scaled_->run_relu2_mul(w.codes, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream,
                           config_.gate_up_block);
  else if (scaled_ && config_.residual_epilogue)
    scaled_->run_residual_add(w.codes, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream);
  else if (scaled_)
    scaled_->run(w.codes, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream);
  else if (sparse_scaled_ && config_.relu2_mul_epilogue)
    sparse_scaled_->run_relu2_mul(index, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream);
  else if (sparse_scaled_ && config_.residual_epilogue)
    sparse_scaled_->run_residual_add(index, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream);
  else if (sparse_scaled_)
    sparse_scaled_->run(index, codes, w.scale, scale_x, static_cast<__nv_bfloat16*>(d), rows, stream);
  else if (dense_)
    dense_->run(w.codes, codes, d, rows, w.scale, scale_x, workspace, workspace_size, stream);
  else
    sparse_->run(codes, d, rows, w.scale, workspace, workspace_size, stream, index);
}

AccumulatorType accumulator_type(GemmOutput output) {
  return output == GemmOutput::Int32     ? AccumulatorType::Int32
         : output == GemmOutput::Float32 ? AccumulatorType::Float32
                                         : AccumulatorType::BFloat16;
}

AccumulatorType W8A8Linear::output_type() const { return accumulator_type(config_.output); }

AccView W8A8Linear::output_view(int64_t m, const void* d, const float* scale_x, int index) const {
  if (runs_dense_fallback(m)) return dense_fallback_->output_view(m, d, scale_x, index);
  AccView view;
  view.type = output_type();
  view.data = d;
  view.ld = config_.output_n();
  view.scale_x = config_.scales == ScaleMode::BothInGemm ? nullptr : scale_x;
  if (config_.scales == ScaleMode::Epilogue) {
    view.scale_w = weights_.at(static_cast<size_t>(index)).scale;
    view.scale_w_run = weights_.at(static_cast<size_t>(index)).scale_run;
  }
  return view;
}

QuantLaunchConfig W8A8Linear::quant_launch_config(int64_t m) const {
  const auto& configs = runner(m).quant_configs_;  // the fallback quantizes plain codes with its own
  const auto it = configs.find(padded_rows(m));
  require(it != configs.end(), "linear layer used with M=" + std::to_string(m) + " before prepare()");
  return it->second;
}

void W8A8Linear::finish_scales(const void* d, int64_t m, __nv_bfloat16* y, cudaStream_t stream) {
  const LinearConfig& ran = runner(m).config_;  // the GEMM that wrote d
  switch (ran.scales) {
    case ScaleMode::Epilogue:
      dequantize_rows_gpu(accumulator_type(ran.output), d, m, config_.n, scale_x_.as<float>(), weights_[0].scale, y,
                          stream);
      break;
    case ScaleMode::WeightInGemm:
      dequantize_rows_gpu(AccumulatorType::BFloat16, d, m, config_.n, scale_x_.as<float>(), nullptr, y, stream);
      break;
    case ScaleMode::BothInGemm:
      break;
  }
}

void W8A8Linear::forward(const __nv_bfloat16* x, int64_t m, __nv_bfloat16* y, void* workspace,
                         size_t workspace_size, cudaStream_t stream) {
  quantize(x, m, stream);
  void* d = runner(m).config_.scales == ScaleMode::Epilogue ? accumulator_.data() : static_cast<void*>(y);
  gemm(m, d, workspace, workspace_size, stream);
  finish_scales(d, m, y, stream);
}

}  // namespace slidesparse
