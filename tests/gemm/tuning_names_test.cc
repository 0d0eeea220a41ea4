// The names under which `slidesparse tune` records our kernels' launch shapes and the runtime looks
// them up: a tuning database written by one build must be read by the next, so they change only
// with what they name.
#include <gtest/gtest.h>

#include "core/error.h"
#include "gemm/w8a8_linear.h"
#include "kernels/attention_prefill_tuning.h"
#include "kernels/norm_quant.h"

namespace slidesparse {
namespace {

TEST(TuningNames, PlainQuantizers) {
  EXPECT_EQ(quant_kernel_name(QuantKind::Int8, Sparsity::dense()), "quantize_int8");
  EXPECT_EQ(quant_kernel_name(QuantKind::Fp8E4M3, Sparsity::two_of(8)), "quantize_slide_fp8_L8");
}

TEST(TuningNames, FusedNorms) {
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Int8, Sparsity::dense()), "norm_quant_int8_L0");
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Fp8E4M3, Sparsity::two_of(8)),
            "norm_quant_fp8_L8");
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Residual, QuantKind::Fp8E4M3, Sparsity::two_of(6), "bf16+sx+sw"),
            "residual_norm_quant_fp8_L6_bf16+sx+sw");
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Relu2Mul, QuantKind::Int8, Sparsity::two_of(10), "bf16+sx"),
            "relu2_norm_quant_int8_L10_bf16+sx");
}

// 2:4 codes are the plain codes' layout: a 2:4 model's norms are the dense model's kernels, and share
// their tuned launches (the accumulator-fed ones where the accumulator's form is the same).
TEST(TuningNames, TwoOfFourNormsShareTheDenseNames) {
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Int8, Sparsity::two_of(4)),
            fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Int8, Sparsity::dense()));
  EXPECT_EQ(fused_norm_kernel_name(FusedNormKernel::Relu2Mul, QuantKind::Fp8E4M3, Sparsity::two_of(4), "bf16+sx+sw"),
            "relu2_norm_quant_fp8_L0_bf16+sx+sw");
  EXPECT_NE(fused_norm_kernel_name(FusedNormKernel::Residual, QuantKind::Int8, Sparsity::two_of(4), "bf16+sx"),
            fused_norm_kernel_name(FusedNormKernel::Residual, QuantKind::Int8, Sparsity::dense(), "bf16"));
}

TEST(TuningNames, FusedNormsNameAFormExactlyWhenFedByAnAccumulator) {
  try {
    fused_norm_kernel_name(FusedNormKernel::Relu2Mul, QuantKind::Int8, Sparsity::dense());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "fused_norm_kernel_name: the accumulator-fed norms, and only they, name an accumulator form");
  }
  EXPECT_THROW(fused_norm_kernel_name(FusedNormKernel::Tensor, QuantKind::Int8, Sparsity::dense(), "bf16"), Error);
}

TEST(TuningNames, AccumulatorForms) {
  LinearConfig c;
  c.output = GemmOutput::BFloat16;
  c.scales = ScaleMode::BothInGemm;
  EXPECT_EQ(accumulator_form(c), "bf16");
  c.scales = ScaleMode::WeightInGemm;
  EXPECT_EQ(accumulator_form(c), "bf16+sx");
  c.scales = ScaleMode::Epilogue;
  EXPECT_EQ(accumulator_form(c), "bf16+sx+sw");
  c.output = GemmOutput::Int32;
  EXPECT_EQ(accumulator_form(c), "int32+sx+sw");
  // A 2:L INT8 linear on cuSPARSELt applies the weight scale as an alpha vector.
  EXPECT_EQ(accumulator_form(default_linear_config(QuantKind::Int8, 3840, 2560, Sparsity::two_of(4), 512)), "bf16+sx");
}

TEST(TuningNames, GemmKeysTellTheFp8AccumulationModesApart) {
  LinearConfig c;
  c.kind = QuantKind::Fp8E4M3;
  c.n = 2560;
  c.k = 6912;
  c.output = GemmOutput::BFloat16;
  EXPECT_EQ(linear_tuning_key(c, 6912).str(), "cublaslt/fp8->bf16/N2560/K6912");
  c.fast_accum = true;
  EXPECT_EQ(linear_tuning_key(c, 6912).str(), "cublaslt/fp8->bf16/N2560/K6912/fast-accum");
  const LinearConfig sparse = default_linear_config(QuantKind::Int8, 3840, 2560, Sparsity::two_of(6), 512);
  EXPECT_EQ(linear_tuning_key(sparse, linear_gemm_k(2560, Sparsity::two_of(6))).str(),
            "cusparselt/int8->bf16/N3840/K" + std::to_string(linear_gemm_k(2560, Sparsity::two_of(6))));
}

TEST(TuningNames, TunedLatencyOfEachGemmKind) {
  TuningDatabase db(HardwareTag{"GPU", 90, 1, 1, 1, 1});
  LinearConfig scaled;  // the INT8 scaled GEMM: its tile entry holds the latency
  scaled.kind = QuantKind::Int8;
  scaled.n = 3840;
  scaled.k = 2560;
  scaled.output = GemmOutput::BFloat16;
  scaled.scales = ScaleMode::BothInGemm;
  ASSERT_TRUE(runs_scaled_gemm(scaled));
  db.record_kernel(scaled_gemm_kernel_name(3840), 2560, 64, {{"tile", "coop-128x128"}, {"latency_us", 21.5}});
  db.record_kernel(scaled_gemm_kernel_name(3840), 2560, 512, {{"tile", "coop-128x128"}});  // before the field
  EXPECT_EQ(tuned_gemm_latency_us(db, scaled, 2560, 64), 21.5);
  EXPECT_EQ(tuned_gemm_latency_us(db, scaled, 2560, 128), std::nullopt);  // not searched at exactly 128 rows
  EXPECT_EQ(tuned_gemm_latency_us(db, scaled, 2560, 512), std::nullopt);

  LinearConfig fp8 = scaled;  // FP8 dense with both scales in the GEMM is cuBLASLt's
  fp8.kind = QuantKind::Fp8E4M3;
  fp8.fast_accum = true;
  EXPECT_FALSE(runs_scaled_gemm(fp8));
  GemmChoice choice;
  choice.latency_us = 18.25;
  db.record_gemm(linear_tuning_key(fp8, 2560), 64, choice);
  EXPECT_EQ(tuned_gemm_latency_us(db, fp8, 2560, 64), 18.25);
  fp8.fast_accum = false;  // the other accumulation mode was not searched
  EXPECT_EQ(tuned_gemm_latency_us(db, fp8, 2560, 64), std::nullopt);

  LinearConfig sparse = default_linear_config(QuantKind::Fp8E4M3, 3840, 2560, Sparsity::two_of(4), 512);
  EXPECT_FALSE(runs_scaled_gemm(sparse));
  choice.latency_us = 20.0;
  db.record_gemm(linear_tuning_key(sparse, 2560), 64, choice);
  EXPECT_EQ(tuned_gemm_latency_us(db, sparse, 2560, 64), 20.0);
}

TEST(TuningNames, DenseFallbackRunsOnlyWhereBothWereTimedAndDenseWasFaster) {
  TuningDatabase db(HardwareTag{"GPU", 90, 1, 1, 1, 1});
  const LinearConfig sparse = default_linear_config(QuantKind::Fp8E4M3, 2560, 6912, Sparsity::two_of(4), 512);
  LinearConfig dense = sparse;  // FP8 dense as the engine runs it: cuBLASLt, fast accumulation
  dense.sparsity = Sparsity::dense();
  dense.fast_accum = true;
  auto record = [&](const LinearConfig& c, int64_t rows, double us) {
    GemmChoice choice;
    choice.latency_us = us;
    db.record_gemm(linear_tuning_key(c, linear_gemm_k(c.k, c.sparsity)), rows, choice);
  };
  record(sparse, 64, 10.1), record(dense, 64, 8.2);    // dense faster
  record(sparse, 128, 9.0), record(dense, 128, 9.0);   // a tie keeps cuSPARSELt
  record(sparse, 512, 17.8), record(dense, 512, 19.0);  // cuSPARSELt faster
  record(sparse, 256, 12.9);                            // dense not timed at 256
  const auto at64 = dense_fallback_choice(db, sparse, dense, 64);
  ASSERT_TRUE(at64.has_value());
  EXPECT_EQ(at64->dense_us, 8.2);
  EXPECT_EQ(at64->sparse_us, 10.1);
  EXPECT_FALSE(dense_fallback_choice(db, sparse, dense, 128).has_value());
  EXPECT_FALSE(dense_fallback_choice(db, sparse, dense, 512).has_value());
  EXPECT_FALSE(dense_fallback_choice(db, sparse, dense, 256).has_value());
  EXPECT_FALSE(dense_fallback_choice(db, sparse, dense, 1024).has_value());  // neither timed
  EXPECT_TRUE(dense_fallback_ever_runs(db, sparse, dense));  // at 64 rows
  EXPECT_FALSE(dense_fallback_always_runs(db, sparse, dense));  // not at 128 or 512 (256: dense not timed)

  TuningDatabase sparse_wins(HardwareTag{"GPU", 90, 1, 1, 1, 1});
  for (int64_t rows : {64, 512}) {
    GemmChoice faster, slower;
    faster.latency_us = 9.0, slower.latency_us = 11.0;
    sparse_wins.record_gemm(linear_tuning_key(sparse, 6912), rows, faster);
    sparse_wins.record_gemm(linear_tuning_key(dense, 6912), rows, slower);
  }
  EXPECT_FALSE(dense_fallback_ever_runs(sparse_wins, sparse, dense));  // no need to keep the plain weight
  EXPECT_FALSE(dense_fallback_ever_runs(TuningDatabase(HardwareTag{}), sparse, dense));
  EXPECT_FALSE(dense_fallback_always_runs(sparse_wins, sparse, dense));
  EXPECT_FALSE(dense_fallback_always_runs(TuningDatabase(HardwareTag{}), sparse, dense));  // nothing searched
}

TEST(TuningNames, DenseFallbackRunsAtEveryRowCountOnlyWhereDenseWonWhereverBothWereTimed) {
  // INT8 2:8 on Hopper: the sparse GEMM on K' = 3840, its fallback on the dense scaled GEMM's tiles.
  const LinearConfig sparse = default_linear_config(QuantKind::Int8, 2560, 2560, Sparsity::two_of(8), 32768);
  LinearConfig dense = default_linear_config(QuantKind::Int8, 2560, 2560, Sparsity::dense(), 32768);
  ASSERT_EQ(linear_gemm_k(sparse.k, sparse.sparsity), 3840);
  TuningDatabase db(HardwareTag{"GPU", 90, 1, 1, 1, 1});
  auto record = [&](int64_t rows, double sparse_us, double dense_us) {
    GemmChoice choice;
    choice.latency_us = sparse_us;
    db.record_gemm(linear_tuning_key(sparse, 3840), rows, choice);
    if (runs_scaled_gemm(dense)) {
      db.record_kernel(scaled_gemm_kernel_name(dense.n), 2560, rows,
                       {{"tile", "coop-128x256"}, {"latency_us", dense_us}});
    } else {
      choice.latency_us = dense_us;
      db.record_gemm(linear_tuning_key(dense, 2560), rows, choice);
    }
  };
  EXPECT_FALSE(dense_fallback_always_runs(db, sparse, dense));  // nothing timed
  GemmChoice sparse_only;
  sparse_only.latency_us = 50.0;
  db.record_gemm(linear_tuning_key(sparse, 3840), 2048, sparse_only);  // the dense GEMM not timed there
  EXPECT_FALSE(dense_fallback_always_runs(db, sparse, dense));  // nothing compared
  record(64, 9.8, 8.6), record(512, 12.0, 11.2), record(32768, 371.8, 334.3);
  EXPECT_TRUE(dense_fallback_always_runs(db, sparse, dense));  // 2048 rows decide nothing
  EXPECT_TRUE(dense_fallback_ever_runs(db, sparse, dense));
  record(256, 10.0, 10.5);  // the sparse GEMM wins at one searched row count: the fallback is per row count
  EXPECT_FALSE(dense_fallback_always_runs(db, sparse, dense));
  EXPECT_TRUE(dense_fallback_ever_runs(db, sparse, dense));
}

TEST(TuningNames, AttentionPrefillVariant) {
  EXPECT_STREQ(kAttentionPrefillKernelName, "attention_prefill");
  const AttentionPrefillConfig c{2, 32, false};
  const nlohmann::json j = attention_prefill_config_json(c, false);
  EXPECT_EQ(j, (nlohmann::json{{"heads_per_cta", 2}, {"key_tile", 32}, {"q_in_registers", false}, {"cudnn", false}}));
  EXPECT_FALSE(attention_prefill_prefers_cudnn(j));
  EXPECT_TRUE(attention_prefill_prefers_cudnn(attention_prefill_config_json(c, true)));
  // cuDNN not timed: no verdict recorded, cuDNN stays the default.
  EXPECT_EQ(attention_prefill_config_json(c),
            (nlohmann::json{{"heads_per_cta", 2}, {"key_tile", 32}, {"q_in_registers", false}}));
  EXPECT_TRUE(attention_prefill_prefers_cudnn(attention_prefill_config_json(c)));
  const AttentionPrefillConfig back = attention_prefill_config_from_json(j);
  EXPECT_EQ(back.heads_per_cta, 2);
  EXPECT_EQ(back.key_tile, 32);
  EXPECT_FALSE(back.q_in_registers);
  const AttentionPrefillConfig defaults = attention_prefill_config_from_json(nlohmann::json::object());
  EXPECT_EQ(defaults.heads_per_cta, 0);
  EXPECT_EQ(defaults.key_tile, 0);
  EXPECT_TRUE(defaults.q_in_registers);
  // An entry from before the cuDNN path leaves cuDNN the default.
  EXPECT_TRUE(attention_prefill_prefers_cudnn(nlohmann::json{{"heads_per_cta", 2}}));
}

}  // namespace
}  // namespace slidesparse
