#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "core/error.h"
#include "tuning/tuning_db.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

HardwareTag h100() { return {"NVIDIA H100 80GB HBM3", 90, 13000, 13000, 130100, 800}; }

fs::path scratch_file(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("slidesparse-tuning-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir / name;
}

GemmChoice sparse_choice(int alg, int split_k, double us) {
  GemmChoice c;
  c.alg_id = alg;
  c.split_k = split_k;
  c.latency_us = us;
  c.workspace_bytes = 1024;
  return c;
}

const GemmKey kSparse{"cusparselt", "int8", "bf16", 3840, 3840};

TEST(TuningDb, MBucketLookupTakesSmallestSearchedMAtLeastM) {
  TuningDatabase db(h100());
  int alg = 0;
  for (int64_t m : {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768}) db.record_gemm(kSparse, m, sparse_choice(alg++, 1, 1.0));
  const std::vector<std::pair<int64_t, int>> cases = {{1, 0}, {64, 0}, {65, 1}, {128, 1}, {1000, 4},
                                                      {4096, 6}, {4097, 7}, {32768, 9}, {40000, 9}};
  for (const auto& [m, want] : cases) EXPECT_EQ(db.lookup_gemm(kSparse, m)->alg_id, want) << "M=" << m;
  EXPECT_FALSE(db.lookup_gemm({"cusparselt", "fp8", "bf16", 3840, 3840}, 64).has_value());
  EXPECT_EQ(db.searched_ms(kSparse).size(), 10u);
}

TEST(TuningDb, RoundTripKeepsEverything) {
  TuningDatabase db(h100());
  GemmChoice dense;
  for (int i = 0; i < 64; ++i) dense.cublaslt_algo.push_back(static_cast<uint8_t>(i * 7 + 3));
  dense.workspace_bytes = 4 << 20;
  dense.latency_us = 123.25;
  db.record_gemm({"cublaslt", "int8", "int32", 13824, 2560}, 4096, dense);
  db.record_gemm(kSparse, 256, sparse_choice(17, -1, 42.5));
  db.record_kernel("quantize_slide_int8_L8", 2560, 1024, {{"threads", 512}, {"rows_per_block", 1}});
  const fs::path file = scratch_file("round_trip.json");
  db.save(file);
  std::string warning;
  const TuningDatabase back = TuningDatabase::load(file, h100(), &warning);
  EXPECT_EQ(warning, "");
  const auto d = back.lookup_gemm({"cublaslt", "int8", "int32", 13824, 2560}, 3000);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->cublaslt_algo, dense.cublaslt_algo);
  EXPECT_EQ(d->workspace_bytes, size_t{4} << 20);
  EXPECT_DOUBLE_EQ(d->latency_us, 123.25);
  const auto s = back.lookup_gemm(kSparse, 1);
  EXPECT_EQ(s->alg_id, 17);
  EXPECT_EQ(s->split_k, -1);
  EXPECT_EQ(back.lookup_kernel("quantize_slide_int8_L8", 2560, 5)->at("threads"), 512);
  EXPECT_FALSE(back.lookup_kernel("quantize_slide_int8_L8", 6912, 5).has_value());
  EXPECT_EQ(back.to_json(), db.to_json());
}

TEST(TuningDb, StaleHardwareOrLibrariesAreIgnoredWithAWarning) {
  TuningDatabase db(h100());
  db.record_gemm(kSparse, 64, sparse_choice(3, 1, 1.0));
  const fs::path file = scratch_file("stale.json");
  db.save(file);
  HardwareTag other = h100();
  other.cusparselt_version = 801;
  std::string warning;
  const TuningDatabase loaded = TuningDatabase::load(file, other, &warning);
  EXPECT_FALSE(loaded.lookup_gemm(kSparse, 64).has_value());
  EXPECT_EQ(loaded.tag(), other);
  EXPECT_EQ(warning, "tuning database " + file.string() +
                         " was made for NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, "
                         "cuSPARSELt 800, this machine is NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, "
                         "cuBLASLt 130100, cuSPARSELt 801: ignoring it; run slidesparse tune");
  for (auto change : {+[](HardwareTag& t) { t.gpu = "NVIDIA A100"; }, +[](HardwareTag& t) { t.driver_version = 1; },
                      +[](HardwareTag& t) { t.cublaslt_version = 1; }, +[](HardwareTag& t) { t.compute_capability = 80; }}) {
    HardwareTag t = h100();
    change(t);
    warning.clear();
    TuningDatabase::load(file, t, &warning);
    EXPECT_NE(warning, "");
  }
}

TEST(TuningDb, FormatVersionMismatchAndCorruptFiles) {
  const fs::path old_format = scratch_file("old.json");
  std::ofstream(old_format) << R"({"format_version": 0, "hardware": {}})";
  std::string warning;
  TuningDatabase::load(old_format, h100(), &warning);
  EXPECT_EQ(warning, "tuning database " + old_format.string() + " has another format version: ignoring it; run slidesparse tune");

  const fs::path corrupt = scratch_file("corrupt.json");
  std::ofstream(corrupt) << "{\"format_version\": 1, ";
  try {
    TuningDatabase::load(corrupt, h100(), &warning);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), corrupt.string() + ": not valid JSON");
  }
  const fs::path missing_fields = scratch_file("fields.json");
  std::ofstream(missing_fields) << R"({"format_version": 1, "hardware": {"gpu": "x"}})";
  try {
    TuningDatabase::load(missing_fields, h100(), &warning);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(missing_fields.string() + ": malformed tuning database", 0), 0u) << e.what();
  }
  warning.clear();
  const TuningDatabase empty = TuningDatabase::load(scratch_file("does-not-exist.json"), h100(), &warning);
  EXPECT_EQ(warning, "");
  EXPECT_EQ(empty.tag(), h100());
}

TEST(TuningDb, NamesAndFolderTags) {
  EXPECT_EQ(kSparse.str(), "cusparselt/int8->bf16/N3840/K3840");
  EXPECT_EQ(result_folder_tag("H100", 90, "INT8", 13000, "x86_64"), "H100_cc90_INT8_cu130_x86_64");
  EXPECT_EQ(result_folder_tag("A100", 80, "FP8E4M3", 12090, "x86_64"), "A100_cc80_FP8E4M3_cu129_x86_64");
}

}  // namespace
}  // namespace slidesparse
