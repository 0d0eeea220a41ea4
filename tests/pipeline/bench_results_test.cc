// Benchmark CSVs rebuilt from the per-point JSONs: one row per point, ordered by M, never duplicated.
#include "bench/bench_results.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/results_layout.h"
#include "io/staged_directory.h"
#include "test_support.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

void write_json(const fs::path& file, const nlohmann::json& j) {
  fs::create_directories(file.parent_path());
  write_file_atomic(file, j.dump(2) + "\n");
}

nlohmann::json decode_point(int64_t m, double elapsed) {
  return {{"M", m},
          {"stage", "decode"},
          {"prompt_len", 16},
          {"max_num_seqs", m},
          {"num_requests", m},
          {"steps", 256},
          {"output_len", 256},
          {"requests_per_second", m / elapsed},
          {"tokens_per_second", m * 272 / elapsed},
          {"elapsed_time", elapsed}};
}

TEST(BenchResults, ThroughputCsvIsRebuiltFromThePointJsons) {
  testing::ScratchDir dir;
  write_json(results_layout::throughput_point_json(dir.path(), 256), decode_point(256, 4.0));
  write_json(results_layout::throughput_point_json(dir.path(), 64), decode_point(64, 2.0));
  write_throughput_csv(dir.path(), "decode");
  write_json(results_layout::throughput_point_json(dir.path(), 64), decode_point(64, 1.0));  // a rerun of one point replaces it
  write_throughput_csv(dir.path(), "decode");
  EXPECT_EQ(testing::read_text(dir / "BitNet-2B_decode.csv"),
            "M_decode,prompt_len,max_num_seqs,num_prompts,N_decode,output_len,requests_per_s,tokens_per_s,"
            "elapsed_time_s\n"
            "64,16,64,64,256,256,64.000000,17408.000000,1.000000\n"
            "256,16,256,256,256,256,64.000000,17408.000000,4.000000\n");

  write_file_atomic(results_layout::throughput_point_json(dir.path(), 512), "{\"M\": 512}\n");
  try {
    write_throughput_csv(dir.path(), "decode");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), results_layout::throughput_point_json(dir.path(), 512).string() + ": missing field 'prompt_len'");
  }
}

nlohmann::json kernel_point(const std::string& backend, int64_t m, double qkv_us, double o_us) {
  return {{"backend", backend},
          {"M", m},
          {"mode", "model"},
          {"layers",
           {{{"layer", "qkv"},
             {"N", 3840},
             {"K", 2560},
             {"K_gemm", 2560},
             {"latency_us", qkv_us},
             {"tops", 100.0},
             {"algorithm", "alg 1"},
             {"candidates", 4}},
            {{"layer", "o"},
             {"N", 2560},
             {"K", 2560},
             {"K_gemm", 2560},
             {"latency_us", o_us},
             {"tops", 50.0},
             {"algorithm", "alg, 2"},
             {"candidates", 4}}}}};
}

TEST(BenchResults, KernelCsvsHoldEveryBackendAndM) {
  testing::ScratchDir dir;
  write_json(results_layout::kernel_point_json(dir.path(), "model", "cusparselt_2_inf", 64),
             kernel_point("cusparselt_2_inf", 64, 4, 4));
  write_json(results_layout::kernel_point_json(dir.path(), "model", "cusparselt_2_4", 64), kernel_point("cusparselt_2_4", 64, 3, 2));
  write_json(results_layout::kernel_point_json(dir.path(), "model", "cublaslt", 64), kernel_point("cublaslt", 64, 6, 4));
  write_json(results_layout::kernel_point_json(dir.path(), "model", "cublaslt", 128), kernel_point("cublaslt", 128, 10, 6));
  write_kernel_csvs(dir.path(), "model");
  EXPECT_EQ(testing::read_text(dir / "totals_model.csv"),
            "M,cublaslt_us,cusparselt_2_4_us,cusparselt_2_inf_us,cusparselt_2_4_speedup,cusparselt_2_inf_speedup\n"
            "64,10.00,5.00,8.00,2.000,1.250\n"
            "128,16.00,,,,\n");
  EXPECT_EQ(testing::read_text(dir / "cublaslt_layers.csv"),
            "M,N,K,K_gemm,layer,latency_us,tops,algorithm,candidates\n"
            "64,3840,2560,2560,qkv,6.00,100.0,alg 1,4\n"
            "64,2560,2560,2560,o,4.00,50.0,\"alg, 2\",4\n"
            "128,3840,2560,2560,qkv,10.00,100.0,alg 1,4\n"
            "128,2560,2560,2560,o,6.00,50.0,\"alg, 2\",4\n");
}

}  // namespace
}  // namespace slidesparse
