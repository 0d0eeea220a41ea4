// Offline tuning results: per hardware tag, per GEMM (backend, types, N, K) and per searched M, the
// chosen algorithm and the candidates dropped with their reasons; per kernel and K, the chosen
// launch configuration. A GEMM algorithm is looked up only at the row count it was searched and
// checked at (library configurations need not be valid at other row counts); our kernels' launch
// shapes, valid at any size, take the entry of the smallest searched M >= the actual M. A database
// written on other hardware or library versions is refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace slidesparse {

struct HardwareTag {
  std::string gpu;  // full device name
  int compute_capability = 0;
  int driver_version = 0;
  int cuda_runtime_version = 0;
  int cublaslt_version = 0;
  int cusparselt_version = 0;  // 0 when cuSPARSELt is not loaded

  bool operator==(const HardwareTag&) const = default;
  std::string describe() const;  // "NVIDIA H100 80GB HBM3, cc 9.0, driver 13000, CUDA 13000, cuBLASLt 130100, cuSPARSELt 800"
};

// A GEMM the tuner searched, e.g. {"cusparselt", "int8", "bf16", 3840, 2560}.
struct GemmKey {
  std::string backend;   // "cublaslt" | "cusparselt"
  std::string in_type;   // "int8" | "fp8"
  std::string out_type;  // "int32" | "bf16" | "fp32"
  int64_t n = 0, k = 0;
  // FP8 cuBLASLt with the tensor core's fast accumulation: other kernels than the promoting mode,
  // so choices searched in one mode are not used in the other.
  bool fast_accum = false;

  std::string str() const;  // "cusparselt/int8->bf16/N3840/K2560", "cublaslt/fp8->bf16/N2560/K2560/fast-accum"
  auto operator<=>(const GemmKey&) const = default;
};

struct GemmChoice {
  // cuBLASLt: the opaque cublasLtMatmulAlgo_t (64 bytes); cuSPARSELt: alg_id + split_k (-1 = Segment-K).
  std::vector<uint8_t> cublaslt_algo;
  int alg_id = 0;
  int split_k = 1;
  size_t workspace_bytes = 0;
  double latency_us = 0;
};

// A candidate the search dropped: "alg 3 split-k 2" and why ("wrong result: ...", "crashed ...").
struct RejectedGemm {
  std::string choice, reason;
  bool operator==(const RejectedGemm&) const = default;
};

// One choice as the database file spells it (also what `tune`'s search processes hand back).
nlohmann::json gemm_choice_json(const GemmChoice& choice);
GemmChoice gemm_choice_from_json(const nlohmann::json& json, const std::string& source);  // throws Error

class TuningDatabase {
 public:
  TuningDatabase() = default;
  explicit TuningDatabase(HardwareTag tag) : tag_(std::move(tag)) {}

  // Loads `file` if it exists; a missing file gives an empty database for `current`. Throws Error
  // naming the file if it cannot be read, is malformed, has another format version, or was made
  // for another hardware tag than `current` (one line saying what differs).
  static TuningDatabase load(const std::filesystem::path& file, const HardwareTag& current);
  // Atomic write (temporary file + rename).
  void save(const std::filesystem::path& file) const;

  const HardwareTag& tag() const { return tag_; }

  // m > 0 (Error otherwise); recording the same key and m again replaces the entry and its
  // rejected candidates.
  void record_gemm(const GemmKey& key, int64_t m, const GemmChoice& choice,
                   const std::vector<RejectedGemm>& rejected = {});
  // The choice searched at exactly m; nullopt for any other m.
  std::optional<GemmChoice> lookup_gemm(const GemmKey& key, int64_t m) const;
  std::vector<RejectedGemm> rejected_gemms(const GemmKey& key, int64_t m) const;
  std::vector<int64_t> searched_ms(const GemmKey& key) const;  // ascending; empty if never searched

  // Our own kernels: name (e.g. "quantize_slide_fp8_L8"), the K they run on, per M an opaque config.
  void record_kernel(const std::string& kernel, int64_t k, int64_t m, const nlohmann::json& config);
  std::optional<nlohmann::json> lookup_kernel(const std::string& kernel, int64_t k, int64_t m) const;
  // The config searched at exactly m (for what holds only there, such as a measured latency).
  std::optional<nlohmann::json> lookup_kernel_at(const std::string& kernel, int64_t k, int64_t m) const;

  nlohmann::json to_json() const;
  static TuningDatabase from_json(const nlohmann::json& json, const std::string& source);  // throws Error

  // 2: GEMM entries hold only at their own M, with the rejected candidates; sparse K is K' rounded
  // up to cuSPARSELt's K tile.
  static constexpr int kFormatVersion = 2;

 private:
  HardwareTag tag_;
  std::map<GemmKey, std::map<int64_t, GemmChoice>> gemms_;
  std::map<GemmKey, std::map<int64_t, std::vector<RejectedGemm>>> rejected_;
  std::map<std::pair<std::string, int64_t>, std::map<int64_t, nlohmann::json>> kernels_;
};

// Result folders are tagged like the reference's: "{GPU}_cc{XY}_{INT8|FP8E4M3}_cu{XY}_{arch}",
// e.g. "H100_cc90_INT8_cu130_x86_64" (cu = CUDA runtime major and minor digit).
std::string result_folder_tag(const std::string& gpu_short_name, int compute_capability, const std::string& dtype,
                              int cuda_runtime_version, const std::string& arch);

}  // namespace slidesparse
