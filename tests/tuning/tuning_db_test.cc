#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

#include "core/error.h"
#include "tuning/tuning_db.h"

namespace slidesparse {
namespace {

namespace fs = std::filesystem;

HardwareTag h100() { return {"NVIDIA H100 80GB HBM3", 90, 13000, 13000, 130100, 800}; }

GemmChoice sparse_choice(int alg, int split_k, double us) {
  GemmChoice c;
  c.alg_id = alg;
  c.split_k = split_k;
  c.latency_us = us;
  c.workspace_bytes = 1024;
  return c;
}

const GemmKey kSparse{"cusparselt", "int8", "bf16", 3840, 3840};
const std::vector<int64_t> kSearched = {64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768};

// A fresh directory per test, removed with its files at the end.
class TuningDbFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("slidesparse-tuning-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path file(const std::string& name, const std::string& contents) const {
    std::ofstream(dir_ / name) << contents;
    return dir_ / name;
  }
  // The message of the Error that loading `path` throws.
  static std::string load_error(const fs::path& path) {
    try {
      TuningDatabase::load(path, h100());
    } catch (const Error& e) {
      return e.what();
    }
    return "<no error thrown>";
  }
  fs::path dir_;
};

// A library configuration is only known to work at the row count it was searched and checked at.
TEST(TuningDb, GemmLookupIsExactInM) {
  TuningDatabase db(h100());
  for (size_t i = 0; i < kSearched.size(); ++i) db.record_gemm(kSparse, kSearched[i], sparse_choice(int(i), 1, 1.0));
  for (size_t i = 0; i < kSearched.size(); ++i) {
    const auto choice = db.lookup_gemm(kSparse, kSearched[i]);
    ASSERT_TRUE(choice.has_value()) << "M=" << kSearched[i];
    EXPECT_EQ(choice->alg_id, int(i)) << "M=" << kSearched[i];
  }
  for (int64_t m : {1, 16, 63, 65, 1000, 4097, 40000})
    EXPECT_FALSE(db.lookup_gemm(kSparse, m).has_value()) << "M=" << m;
  EXPECT_EQ(db.searched_ms(kSparse), kSearched);
}

TEST(TuningDb, RejectedCandidatesAreKeptPerM) {
  TuningDatabase db(h100());
  const std::vector<RejectedGemm> dropped = {{"alg 3 split-k 2", "wrong result: 12 of 4096 outputs wrong"},
                                             {"alg 5 segment-k", "crashed the search process (signal 6)"}};
  db.record_gemm(kSparse, 256, sparse_choice(1, 1, 1.0), dropped);
  db.record_gemm(kSparse, 512, sparse_choice(2, 1, 1.0));
  EXPECT_EQ(db.rejected_gemms(kSparse, 256), dropped);
  EXPECT_TRUE(db.rejected_gemms(kSparse, 512).empty());
  EXPECT_TRUE(db.rejected_gemms(kSparse, 64).empty());
  const TuningDatabase back = TuningDatabase::from_json(db.to_json(), "test");
  EXPECT_EQ(back.rejected_gemms(kSparse, 256), dropped);
  db.record_gemm(kSparse, 256, sparse_choice(1, 1, 1.0));  // searched again: the old rejections go
  EXPECT_TRUE(db.rejected_gemms(kSparse, 256).empty());
}

TEST(TuningDb, UnknownKeyIsNullopt) {
  TuningDatabase db(h100());
  db.record_gemm(kSparse, 64, sparse_choice(1, 1, 1.0));
  for (const GemmKey& other : {GemmKey{"cusparselt", "fp8", "bf16", 3840, 3840},
                               GemmKey{"cublaslt", "int8", "bf16", 3840, 3840},
                               GemmKey{"cusparselt", "int8", "int32", 3840, 3840},
                               GemmKey{"cusparselt", "int8", "bf16", 2560, 3840},
                               GemmKey{"cusparselt", "int8", "bf16", 3840, 2560}}) {
    EXPECT_FALSE(db.lookup_gemm(other, 64).has_value()) << other.str();
    EXPECT_TRUE(db.searched_ms(other).empty()) << other.str();
  }
  EXPECT_FALSE(db.lookup_kernel("quantize_slide_int8_L8", 2560, 64).has_value());
}

TEST(TuningDb, RecordingAgainReplacesAndMMustBePositive) {
  TuningDatabase db(h100());
  db.record_gemm(kSparse, 256, sparse_choice(1, 1, 9.0));
  db.record_gemm(kSparse, 256, sparse_choice(2, 4, 8.0));
  EXPECT_EQ(db.lookup_gemm(kSparse, 256)->alg_id, 2);
  EXPECT_EQ(db.searched_ms(kSparse), std::vector<int64_t>{256});
  EXPECT_THROW(db.record_gemm(kSparse, 0, sparse_choice(1, 1, 1.0)), Error);
  EXPECT_THROW(db.record_kernel("k", 2560, -1, {{"threads", 1}}), Error);
}

TEST(TuningDb, KernelConfigsUseTheSameBuckets) {
  TuningDatabase db(h100());
  db.record_kernel("quantize_slide_fp8_L8", 2560, 256, {{"threads", 128}});
  db.record_kernel("quantize_slide_fp8_L8", 2560, 4096, {{"threads", 512}});
  db.record_kernel("quantize_slide_fp8_L8", 6912, 256, {{"threads", 64}});
  EXPECT_EQ(db.lookup_kernel("quantize_slide_fp8_L8", 2560, 1)->at("threads"), 128);
  EXPECT_EQ(db.lookup_kernel("quantize_slide_fp8_L8", 2560, 257)->at("threads"), 512);
  EXPECT_EQ(db.lookup_kernel("quantize_slide_fp8_L8", 2560, 99999)->at("threads"), 512);
  EXPECT_EQ(db.lookup_kernel("quantize_slide_fp8_L8", 6912, 4096)->at("threads"), 64);
  EXPECT_FALSE(db.lookup_kernel("quantize_slide_fp8_L8", 3840, 256).has_value());
  EXPECT_FALSE(db.lookup_kernel("quantize_slide_int8_L8", 2560, 256).has_value());
}

TEST(TuningDb, KernelEntryAtExactlyItsM) {
  TuningDatabase db(h100());
  db.record_kernel("scaled_gemm_int8_n2560", 2560, 256, {{"tile", "coop-128x128"}, {"latency_us", 12.5}});
  EXPECT_EQ(db.lookup_kernel_at("scaled_gemm_int8_n2560", 2560, 256)->at("latency_us"), 12.5);
  EXPECT_FALSE(db.lookup_kernel_at("scaled_gemm_int8_n2560", 2560, 255).has_value());  // bucketed by lookup_kernel
  EXPECT_TRUE(db.lookup_kernel("scaled_gemm_int8_n2560", 2560, 255).has_value());
  EXPECT_FALSE(db.lookup_kernel_at("scaled_gemm_int8_n2560", 6912, 256).has_value());
}

TEST_F(TuningDbFiles, RoundTripKeepsEverything) {
  TuningDatabase db(h100());
  GemmChoice dense;
  for (int i = 0; i < 64; ++i) dense.cublaslt_algo.push_back(static_cast<uint8_t>(i * 7 + 3));
  dense.cublaslt_algo[5] = 0x00;
  dense.cublaslt_algo[6] = 0xff;
  dense.workspace_bytes = size_t{5} << 32;  // past 32 bits
  dense.latency_us = 123.0 / 7.0;           // not a short decimal
  db.record_gemm({"cublaslt", "int8", "int32", 13824, 2560}, 4096, dense);
  db.record_gemm(kSparse, 256, sparse_choice(17, -1, 42.5));
  db.record_kernel("quantize_slide_int8_L8", 2560, 1024, {{"threads", 512}, {"rows_per_block", 1}});
  const fs::path path = dir_ / "nested" / "tuning.json";
  db.save(path);
  EXPECT_EQ(std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()), 1);  // no temp left
  const TuningDatabase back = TuningDatabase::load(path, h100());
  EXPECT_EQ(back.tag(), h100());
  const auto d = back.lookup_gemm({"cublaslt", "int8", "int32", 13824, 2560}, 4096);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->cublaslt_algo, dense.cublaslt_algo);
  EXPECT_EQ(d->workspace_bytes, size_t{5} << 32);
  EXPECT_EQ(d->latency_us, 123.0 / 7.0);
  const auto s = back.lookup_gemm(kSparse, 256);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->alg_id, 17);
  EXPECT_EQ(s->split_k, -1);
  EXPECT_EQ(s->workspace_bytes, 1024u);
  EXPECT_TRUE(s->cublaslt_algo.empty());
  EXPECT_EQ(back.lookup_kernel("quantize_slide_int8_L8", 2560, 5),
            nlohmann::json({{"threads", 512}, {"rows_per_block", 1}}));
  EXPECT_EQ(back.to_json(), db.to_json());
}

TEST_F(TuningDbFiles, FileLayoutIsTheDocumentedOne) {
  TuningDatabase db(h100());
  GemmChoice dense;
  dense.cublaslt_algo = {0x01, 0xab, 0xff};
  db.record_gemm({"cublaslt", "fp8", "bf16", 2560, 6912}, 128, dense);
  const nlohmann::json j = db.to_json();
  EXPECT_EQ(j.at("format_version"), 2);
  EXPECT_EQ(j.at("hardware").at("cusparselt_version"), 800);
  const auto& g = j.at("gemms").at(0);
  EXPECT_EQ(g.at("backend"), "cublaslt");
  EXPECT_EQ(g.at("in"), "fp8");
  EXPECT_EQ(g.at("out"), "bf16");
  EXPECT_EQ(g.at("N"), 2560);
  EXPECT_EQ(g.at("K"), 6912);
  EXPECT_EQ(g.at("by_m").at("128").at("cublaslt_algo"), "01abff");
  EXPECT_EQ(g.at("by_m").at("128").at("rejected"), nlohmann::json::array());
  EXPECT_FALSE(g.contains("fast_accum"));  // the promoting mode: the layout of databases before the field
  EXPECT_TRUE(j.at("kernels").is_array());
}

TEST_F(TuningDbFiles, FastAccumulationChoicesAreKeptApartFromPromotingOnes) {
  TuningDatabase db(h100());
  GemmChoice precise, fast;
  precise.cublaslt_algo = {0x01};
  fast.cublaslt_algo = {0x02};
  const GemmKey precise_key{"cublaslt", "fp8", "bf16", 2560, 2560}, fast_key{"cublaslt", "fp8", "bf16", 2560, 2560, true};
  db.record_gemm(precise_key, 512, precise);
  db.record_gemm(fast_key, 512, fast);
  const fs::path path = dir_ / "modes.json";
  db.save(path);
  const TuningDatabase back = TuningDatabase::load(path, h100());
  EXPECT_EQ(back.lookup_gemm(precise_key, 512)->cublaslt_algo, std::vector<uint8_t>{0x01});
  EXPECT_EQ(back.lookup_gemm(fast_key, 512)->cublaslt_algo, std::vector<uint8_t>{0x02});
  EXPECT_EQ(back.to_json().at("gemms").at(1).at("fast_accum"), true);
}

TEST_F(TuningDbFiles, StaleHardwareOrLibrariesAreRefused) {
  TuningDatabase db(h100());
  db.record_gemm(kSparse, 64, sparse_choice(3, 1, 1.0));
  db.record_kernel("dequant", 2560, 64, {{"threads", 256}});
  const fs::path path = dir_ / "stale.json";
  db.save(path);
  const std::string made_for = "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800";
  // {one field changed, how the current machine then describes itself}
  const std::vector<std::pair<std::function<void(HardwareTag&)>, std::string>> changes = {
      {[](HardwareTag& t) { t.gpu = "NVIDIA H100 PCIe"; },
       "NVIDIA H100 PCIe, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800"},
      {[](HardwareTag& t) { t.compute_capability = 89; },
       "NVIDIA H100 80GB HBM3, cc 8.9, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800"},
      {[](HardwareTag& t) { t.driver_version = 12080; },
       "NVIDIA H100 80GB HBM3, cc 9.0, driver 12080, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800"},
      {[](HardwareTag& t) { t.cuda_runtime_version = 12090; },
       "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 12090, cuBLASLt 130100, cuSPARSELt 800"},
      {[](HardwareTag& t) { t.cublaslt_version = 130200; },
       "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130200, cuSPARSELt 800"},
      {[](HardwareTag& t) { t.cusparselt_version = 0; },
       "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 0"},
  };
  for (const auto& [change, described] : changes) {
    HardwareTag current = h100();
    change(current);
    try {
      TuningDatabase::load(path, current);
      ADD_FAILURE() << "no error for " << described;
    } catch (const Error& e) {
      EXPECT_EQ(std::string(e.what()), "tuning database " + path.string() + " was made for " + made_for +
                                           ", this machine is " + described +
                                           ": its choices were not searched and checked here; run slidesparse tune "
                                           "with a new --db file on this machine");
    }
  }
  EXPECT_EQ(TuningDatabase::load(path, h100()).tag(), h100());
}

TEST_F(TuningDbFiles, FormatVersionMismatchIsRefused) {
  const fs::path path = file("old.json", R"({"format_version": 1, "hardware": {}})");
  EXPECT_EQ(load_error(path), "tuning database " + path.string() +
                                  " has format version 1, this build reads version 2: its choices were not searched "
                                  "and checked here; run slidesparse tune with a new --db file on this machine");
}

TEST_F(TuningDbFiles, CorruptFilesThrowOneLineNamingTheFile) {
  const fs::path corrupt = file("corrupt.json", "{\"format_version\": 2, ");
  EXPECT_EQ(load_error(corrupt), corrupt.string() + ": not valid JSON");

  const fs::path no_version = file("no_version.json", R"({"hardware": {}})");
  EXPECT_EQ(load_error(no_version), no_version.string() + ": malformed tuning database (no integer format_version)");
  const fs::path not_object = file("array.json", "[1, 2]");
  EXPECT_EQ(load_error(not_object), not_object.string() + ": malformed tuning database (no integer format_version)");

  const std::string hw = R"("hardware": {"gpu": "NVIDIA H100 80GB HBM3", "compute_capability": 90,
      "driver_version": 13000, "cuda_runtime_version": 13000, "cublaslt_version": 130100, "cusparselt_version": 800})";
  const std::string entry = R"("alg_id": 1, "split_k": 1, "workspace_bytes": 0, "latency_us": 1.5, "rejected": [])";
  const std::string gemm = R"({"backend": "cublaslt", "in": "int8", "out": "int32", "N": 64, "K": 64, "by_m": )";
  // {file contents, the start of the message after "<file>: "}
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"format_version": 2, "hardware": {"gpu": "x"}})", "malformed tuning database ("},
      {"{\"format_version\": 2, " + hw + "}", "malformed tuning database ("},  // no "gemms"
      {"{\"format_version\": 2, " + hw + ", \"gemms\": [" + gemm + "{\"64\": {" + entry +
           ", \"cublaslt_algo\": \"0g\"}}}], \"kernels\": []}",
       "malformed tuning database (cublaslt_algo '0g' is not hex bytes)"},
      {"{\"format_version\": 2, " + hw + ", \"gemms\": [" + gemm + "{\"64\": {" + entry +
           ", \"cublaslt_algo\": \"abc\"}}}], \"kernels\": []}",
       "malformed tuning database (cublaslt_algo 'abc' is not hex bytes)"},
      {"{\"format_version\": 2, " + hw + ", \"gemms\": [" + gemm + "{\"64x\": {" + entry +
           ", \"cublaslt_algo\": \"\"}}}], \"kernels\": []}",
       "malformed tuning database (M key '64x' is not a positive integer)"},
      {"{\"format_version\": 2, " + hw + ", \"gemms\": [], \"kernels\": [{\"name\": \"k\", \"K\": 1, \"by_m\": {\"0\": {}}}]}",
       "malformed tuning database (M key '0' is not a positive integer)"},
      {"{\"format_version\": 2, " + hw + ", \"gemms\": [" + gemm + "{\"64\": {\"alg_id\": \"one\"}}}], \"kernels\": []}",
       "malformed tuning database ("},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const fs::path path = file("bad" + std::to_string(i) + ".json", cases[i].first);
    const std::string message = load_error(path);
    EXPECT_EQ(message.rfind(path.string() + ": " + cases[i].second, 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // The well-formed variant of the cases above loads.
  const fs::path good = file("good.json", "{\"format_version\": 2, " + hw + ", \"gemms\": [" + gemm + "{\"64\": {" +
                                              entry + ", \"cublaslt_algo\": \"0A\"}}}], \"kernels\": []}");
  EXPECT_EQ(TuningDatabase::load(good, h100()).lookup_gemm({"cublaslt", "int8", "int32", 64, 64}, 64)->cublaslt_algo,
            std::vector<uint8_t>{0x0a});
}

TEST_F(TuningDbFiles, MissingFileIsAnEmptyDatabase) {
  const TuningDatabase empty = TuningDatabase::load(dir_ / "does-not-exist.json", h100());
  EXPECT_EQ(empty.tag(), h100());
  EXPECT_FALSE(empty.lookup_gemm(kSparse, 64).has_value());
  EXPECT_FALSE(fs::exists(dir_ / "does-not-exist.json"));
}

TEST(TuningDb, NamesAndFolderTags) {
  EXPECT_EQ(kSparse.str(), "cusparselt/int8->bf16/N3840/K3840");
  EXPECT_EQ((GemmKey{"cublaslt", "fp8", "bf16", 13824, 2560}.str()), "cublaslt/fp8->bf16/N13824/K2560");
  EXPECT_EQ((GemmKey{"cublaslt", "fp8", "bf16", 13824, 2560, true}.str()),
            "cublaslt/fp8->bf16/N13824/K2560/fast-accum");
  EXPECT_EQ(h100().describe(),
            "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800");
  EXPECT_EQ(result_folder_tag("H100", 90, "INT8", 13000, "x86_64"), "H100_cc90_INT8_cu130_x86_64");
  EXPECT_EQ(result_folder_tag("A100", 80, "FP8E4M3", 12090, "x86_64"), "A100_cc80_FP8E4M3_cu129_x86_64");
  EXPECT_EQ(result_folder_tag("GH200", 90, "FP8E4M3", 12080, "aarch64"), "GH200_cc90_FP8E4M3_cu128_aarch64");
  EXPECT_EQ(result_folder_tag("B200", 100, "INT8", 13010, "x86_64"), "B200_cc100_INT8_cu131_x86_64");
}

}  // namespace
}  // namespace slidesparse
