#include "tuning/tuning_db.h"

#include <charconv>
#include <iterator>
#include <system_error>

#include "core/error.h"
#include "io/model_config.h"
#include "io/staged_directory.h"

namespace slidesparse {

namespace {

std::string to_hex(const std::vector<uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) out += digits[b >> 4], out += digits[b & 15];
  return out;
}

std::vector<uint8_t> from_hex(const std::string& text, const std::string& source) {
  const std::string bad = source + ": malformed tuning database (cublaslt_algo '" + text + "' is not hex bytes)";
  require(text.size() % 2 == 0, bad);
  std::vector<uint8_t> out;
  for (size_t i = 0; i < text.size(); i += 2) {
    auto nibble = [&](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      fail(bad);
    };
    out.push_back(static_cast<uint8_t>(nibble(text[i]) * 16 + nibble(text[i + 1])));
  }
  return out;
}

// The "by_m" keys: decimal, positive, nothing else ("64", not "64x" or "-1").
int64_t parse_m(const std::string& text, const std::string& source) {
  int64_t m = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), m);
  require(ec == std::errc() && end == text.data() + text.size() && m > 0,
          source + ": malformed tuning database (M key '" + text + "' is not a positive integer)");
  return m;
}

nlohmann::json tag_json(const HardwareTag& t) {
  return {{"gpu", t.gpu},
          {"compute_capability", t.compute_capability},
          {"driver_version", t.driver_version},
          {"cuda_runtime_version", t.cuda_runtime_version},
          {"cublaslt_version", t.cublaslt_version},
          {"cusparselt_version", t.cusparselt_version}};
}

template <typename Map>
auto bucket(const Map& by_m, int64_t m) {
  auto it = by_m.lower_bound(m);  // smallest searched M >= m
  if (it == by_m.end()) it = std::prev(by_m.end());
  return it;
}

}  // namespace

nlohmann::json gemm_choice_json(const GemmChoice& c) {
  return {{"alg_id", c.alg_id},
          {"split_k", c.split_k},
          {"workspace_bytes", c.workspace_bytes},
          {"latency_us", c.latency_us},
          {"cublaslt_algo", to_hex(c.cublaslt_algo)}};
}

GemmChoice gemm_choice_from_json(const nlohmann::json& e, const std::string& source) {
  try {
    GemmChoice c;
    c.alg_id = e.at("alg_id").get<int>();
    c.split_k = e.at("split_k").get<int>();
    c.workspace_bytes = e.at("workspace_bytes").get<size_t>();
    c.latency_us = e.at("latency_us").get<double>();
    c.cublaslt_algo = from_hex(e.at("cublaslt_algo").get<std::string>(), source);
    return c;
  } catch (const nlohmann::json::exception& ex) {
    fail(source + ": malformed tuning database (" + ex.what() + ")");
  }
}

std::string HardwareTag::describe() const {
  return gpu + ", cc " + std::to_string(compute_capability / 10) + "." + std::to_string(compute_capability % 10) +
         ", driver " + std::to_string(driver_version) + ", CUDA " + std::to_string(cuda_runtime_version) +
         ", cuBLASLt " + std::to_string(cublaslt_version) + ", cuSPARSELt " + std::to_string(cusparselt_version);
}

std::string GemmKey::str() const {
  return backend + "/" + in_type + "->" + out_type + "/N" + std::to_string(n) + "/K" + std::to_string(k) +
         (fast_accum ? "/fast-accum" : "");
}

void TuningDatabase::record_gemm(const GemmKey& key, int64_t m, const GemmChoice& choice,
                                 const std::vector<RejectedGemm>& rejected) {
  require(m > 0, "tuning: " + key.str() + " recorded at M=" + std::to_string(m) + " (M must be positive)");
  gemms_[key][m] = choice;
  if (rejected.empty()) {
    if (auto it = rejected_.find(key); it != rejected_.end()) it->second.erase(m);
  } else {
    rejected_[key][m] = rejected;
  }
}

std::optional<GemmChoice> TuningDatabase::lookup_gemm(const GemmKey& key, int64_t m) const {
  const auto it = gemms_.find(key);
  if (it == gemms_.end()) return std::nullopt;
  const auto at = it->second.find(m);
  if (at == it->second.end()) return std::nullopt;
  return at->second;
}

std::vector<RejectedGemm> TuningDatabase::rejected_gemms(const GemmKey& key, int64_t m) const {
  const auto it = rejected_.find(key);
  if (it == rejected_.end()) return {};
  const auto at = it->second.find(m);
  return at == it->second.end() ? std::vector<RejectedGemm>{} : at->second;
}

std::vector<int64_t> TuningDatabase::searched_ms(const GemmKey& key) const {
  std::vector<int64_t> ms;
  if (const auto it = gemms_.find(key); it != gemms_.end())
    for (const auto& [m, c] : it->second) ms.push_back(m);
  return ms;
}

void TuningDatabase::record_kernel(const std::string& kernel, int64_t k, int64_t m, const nlohmann::json& config) {
  require(m > 0, "tuning: kernel " + kernel + " recorded at M=" + std::to_string(m) + " (M must be positive)");
  kernels_[{kernel, k}][m] = config;
}

std::optional<nlohmann::json> TuningDatabase::lookup_kernel(const std::string& kernel, int64_t k, int64_t m) const {
  const auto it = kernels_.find({kernel, k});
  if (it == kernels_.end() || it->second.empty()) return std::nullopt;
  return bucket(it->second, m)->second;
}

std::optional<nlohmann::json> TuningDatabase::lookup_kernel_at(const std::string& kernel, int64_t k, int64_t m) const {
  const auto it = kernels_.find({kernel, k});
  if (it == kernels_.end()) return std::nullopt;
  const auto entry = it->second.find(m);
  if (entry == it->second.end()) return std::nullopt;
  return entry->second;
}

nlohmann::json TuningDatabase::to_json() const {
  nlohmann::json gemms = nlohmann::json::array(), kernels = nlohmann::json::array();
  for (const auto& [key, by_m] : gemms_) {
    nlohmann::json entries = nlohmann::json::object();
    const auto rejected = rejected_.find(key);
    for (const auto& [m, c] : by_m) {
      nlohmann::json entry = gemm_choice_json(c);
      entry["rejected"] = nlohmann::json::array();
      if (rejected != rejected_.end())
        if (const auto r = rejected->second.find(m); r != rejected->second.end())
          for (const RejectedGemm& x : r->second) entry["rejected"].push_back({{"choice", x.choice}, {"reason", x.reason}});
      entries[std::to_string(m)] = entry;
    }
    nlohmann::json gemm = {{"backend", key.backend}, {"in", key.in_type}, {"out", key.out_type}, {"N", key.n},
                           {"K", key.k}, {"by_m", entries}};
    if (key.fast_accum) gemm["fast_accum"] = true;  // absent: the promoting mode (databases before the field)
    gemms.push_back(std::move(gemm));
  }
  for (const auto& [key, by_m] : kernels_) {
    nlohmann::json entries = nlohmann::json::object();
    for (const auto& [m, config] : by_m) entries[std::to_string(m)] = config;
    kernels.push_back({{"name", key.first}, {"K", key.second}, {"by_m", entries}});
  }
  return {{"format_version", kFormatVersion}, {"hardware", tag_json(tag_)}, {"gemms", gemms}, {"kernels", kernels}};
}

TuningDatabase TuningDatabase::from_json(const nlohmann::json& j, const std::string& source) {
  try {
    TuningDatabase db;
    const auto& h = j.at("hardware");
    db.tag_ = {h.at("gpu").get<std::string>(),        h.at("compute_capability").get<int>(),
               h.at("driver_version").get<int>(),      h.at("cuda_runtime_version").get<int>(),
               h.at("cublaslt_version").get<int>(),    h.at("cusparselt_version").get<int>()};
    for (const auto& g : j.at("gemms")) {
      const GemmKey key{g.at("backend").get<std::string>(), g.at("in").get<std::string>(),
                        g.at("out").get<std::string>(),     g.at("N").get<int64_t>(),
                        g.at("K").get<int64_t>(),           g.value("fast_accum", false)};
      for (const auto& [m, e] : g.at("by_m").items()) {
        const GemmChoice c = gemm_choice_from_json(e, source);
        std::vector<RejectedGemm> rejected;
        for (const auto& r : e.at("rejected"))
          rejected.push_back({r.at("choice").get<std::string>(), r.at("reason").get<std::string>()});
        db.record_gemm(key, parse_m(m, source), c, rejected);
      }
    }
    for (const auto& k : j.at("kernels"))
      for (const auto& [m, config] : k.at("by_m").items())
        db.kernels_[{k.at("name").get<std::string>(), k.at("K").get<int64_t>()}][parse_m(m, source)] = config;
    return db;
  } catch (const nlohmann::json::exception& e) {
    fail(source + ": malformed tuning database (" + e.what() + ")");
  }
}

TuningDatabase TuningDatabase::load(const std::filesystem::path& file, const HardwareTag& current) {
  auto refuse = [&](const std::string& why) {
    fail("tuning database " + file.string() + " " + why + ": its choices were not searched and checked here; "
         "run slidesparse tune with a new --db file on this machine");
  };
  std::error_code ec;
  // Missing (or a dangling link): nothing tuned yet. Other status errors (permissions) are left for
  // read_json_file to report with the file name.
  if (std::filesystem::status(file, ec).type() == std::filesystem::file_type::not_found) return TuningDatabase(current);
  const nlohmann::json j = read_json_file(file);
  const auto version = j.is_object() ? j.find("format_version") : j.end();
  require(j.is_object() && version != j.end() && version->is_number_integer(),
          file.string() + ": malformed tuning database (no integer format_version)");
  if (version->get<int64_t>() != kFormatVersion)
    refuse("has format version " + std::to_string(version->get<int64_t>()) + ", this build reads version " +
           std::to_string(kFormatVersion));
  TuningDatabase db = from_json(j, file.string());
  if (db.tag_ != current) refuse("was made for " + db.tag_.describe() + ", this machine is " + current.describe());
  return db;
}

void TuningDatabase::save(const std::filesystem::path& file) const {
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  require(!ec, file.string() + ": cannot create its directory: " + ec.message());
  write_file_atomic(file, to_json().dump(1) + "\n");
}

std::string result_folder_tag(const std::string& gpu_short_name, int compute_capability, const std::string& dtype,
                              int cuda_runtime_version, const std::string& arch) {
  const int major = cuda_runtime_version / 1000, minor = (cuda_runtime_version % 1000) / 10;
  return gpu_short_name + "_cc" + std::to_string(compute_capability) + "_" + dtype + "_cu" + std::to_string(major) +
         std::to_string(minor) + "_" + arch;
}

}  // namespace slidesparse
