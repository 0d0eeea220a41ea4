#include "checkpoint/inspect.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "checkpoint/checkpoint_kind.h"
#include "core/parallel.h"
#include "io/safetensors_reader.h"
#include "math/prune.h"
#include "math/slide.h"
#include "math/sparsity.h"

namespace slidesparse {

namespace {

std::optional<QuantKind> code_kind(DType dtype) {
  if (dtype == DType::I8) return QuantKind::Int8;
  if (dtype == DType::F8_E4M3) return QuantKind::Fp8E4M3;
  return std::nullopt;
}

int64_t count_zero_codes(QuantKind kind, const uint8_t* codes, int64_t n) {
  std::atomic<int64_t> zeros{0};
  parallel_for(n, int64_t{1} << 20, [&](int64_t begin, int64_t end) {
    int64_t local = 0;
    for (int64_t i = begin; i < end; ++i) local += code_is_zero(kind, codes[i]);
    zeros += local;
  });
  return zeros;
}

int layer_of(const std::string& name) {
  static const std::regex pattern(R"(^model\.layers\.(\d+)\.)");
  std::smatch m;
  return std::regex_search(name, m, pattern) ? std::stoi(m[1]) : -1;
}

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.2f %s" : "%.0f %s", bytes, units[u]);
  return buf;
}

}  // namespace

nlohmann::json inspect_checkpoint(const std::filesystem::path& location) {
  const CheckpointReader reader(location);
  nlohmann::json s;
  s["path"] = location.string();
  s["files"] = reader.files().size();

  std::optional<CheckpointDescription> desc;
  if (std::filesystem::exists(reader.directory() / "config.json")) {
    const ModelConfig c = load_model_config(reader.directory() / "config.json");
    desc = describe_checkpoint(c, reader.directory());
    s["model"] = {{"model_type", c.model_type}, {"architecture", c.architecture},
                  {"hidden_size", c.hidden_size}, {"intermediate_size", c.intermediate_size},
                  {"num_hidden_layers", c.num_hidden_layers}, {"num_attention_heads", c.num_attention_heads},
                  {"num_key_value_heads", c.num_key_value_heads}, {"head_dim", c.head_dim},
                  {"vocab_size", c.vocab_size}, {"tie_word_embeddings", c.tie_word_embeddings},
                  {"hidden_act", c.hidden_act}, {"rope_theta", c.rope_theta}};
    s["kind"] = checkpoint_kind_name(desc->kind);
    if (desc->kind == CheckpointKind::PreparedW8A8 || desc->kind == CheckpointKind::SlideSparse)
      s["quant"] = quant_kind_name(desc->quant);
    if (desc->kind == CheckpointKind::SlideSparse) s["sparsity"] = desc->sparsity.str();
  } else {
    s["kind"] = "safetensors without config.json";
  }
  const bool slid = desc && desc->kind == CheckpointKind::SlideSparse;

  nlohmann::json tensors = nlohmann::json::array();
  std::map<std::string, int64_t> dtype_counts;
  std::map<int, std::pair<int64_t, int64_t>> layer_zeros;  // layer -> (zeros, weights)
  std::map<int, bool> pattern_valid;                       // L -> every quantized linear valid
  uint64_t total_bytes = 0;
  for (const auto& name : reader.tensor_names()) {
    const TensorRef& t = reader.get(name);
    nlohmann::json row = {{"name", name}, {"dtype", dtype_name(t.info->dtype)}, {"shape", t.info->shape},
                          {"bytes", t.info->nbytes}};
    ++dtype_counts[std::string(dtype_name(t.info->dtype))];
    total_bytes += t.info->nbytes;
    const auto kind = code_kind(t.info->dtype);
    if (kind && t.info->shape.size() == 2) {
      const int64_t rows = t.info->shape[0], cols = t.info->shape[1];
      const auto* codes = reinterpret_cast<const uint8_t*>(t.data.data());
      const int64_t zeros = count_zero_codes(*kind, codes, rows * cols);
      row["zero_fraction"] = rows * cols > 0 ? double(zeros) / double(rows * cols) : 0.0;
      auto& lz = layer_zeros[layer_of(name)];
      lz.first += zeros;
      lz.second += rows * cols;
      nlohmann::json valid = nlohmann::json::array();
      if (slid) {
        const bool ok = cols % 4 == 0 && count_pattern_violations(*kind, codes, rows, cols, 4) == 0;
        if (ok) valid.push_back("2:4 (slid)");
        pattern_valid[4] = pattern_valid.count(4) ? pattern_valid[4] && ok : ok;
      } else {
        for (int l = kMinGroup; l <= kMaxGroup; l += 2) {
          const bool ok = count_pattern_violations(*kind, codes, rows, cols, l) == 0;
          if (ok) valid.push_back("2:" + std::to_string(l));
          pattern_valid[l] = pattern_valid.count(l) ? pattern_valid[l] && ok : ok;
        }
      }
      row["valid_patterns"] = valid;
      if (const TensorRef* scale = reader.find(name + "_scale");
          scale && scale->info->dtype == DType::F32 && scale->info->numel() == 1) {
        float v;
        std::memcpy(&v, scale->data.data(), 4);
        row["scale"] = v;
      }
    }
    release_mapped_pages(t.data);
    tensors.push_back(row);
  }
  s["tensor_count"] = tensors.size();
  s["bytes"] = total_bytes;
  s["dtypes"] = dtype_counts;
  s["tensors"] = tensors;
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& [layer, zw] : layer_zeros)
    if (layer >= 0)
      layers.push_back({{"layer", layer}, {"zero_fraction", zw.second ? double(zw.first) / double(zw.second) : 0.0}});
  s["layers"] = layers;
  nlohmann::json valid_everywhere = nlohmann::json::array();
  for (const auto& [l, ok] : pattern_valid)
    if (ok) valid_everywhere.push_back(slid ? std::string("2:4 (slid)") : "2:" + std::to_string(l));
  s["valid_patterns"] = valid_everywhere;
  return s;
}

std::string format_inspection(const nlohmann::json& s) {
  std::ostringstream out;
  char line[512];
  out << "checkpoint  " << s["path"].get<std::string>() << "\n";
  out << "kind        " << s["kind"].get<std::string>();
  if (s.contains("quant")) out << " (" << s["quant"].get<std::string>() << ")";
  if (s.contains("sparsity")) out << ", sparsity " << s["sparsity"].get<std::string>();
  out << "\n";
  if (s.contains("model")) {
    const auto& m = s["model"];
    std::snprintf(line, sizeof line,
                  "model       %s (%s): %lld layers, hidden %lld, intermediate %lld, heads %lld/%lld x %lld, "
                  "vocab %lld, %s embeddings, %s\n",
                  m["model_type"].get<std::string>().c_str(), m["architecture"].get<std::string>().c_str(),
                  m["num_hidden_layers"].get<long long>(), m["hidden_size"].get<long long>(),
                  m["intermediate_size"].get<long long>(), m["num_attention_heads"].get<long long>(),
                  m["num_key_value_heads"].get<long long>(), m["head_dim"].get<long long>(),
                  m["vocab_size"].get<long long>(), m["tie_word_embeddings"].get<bool>() ? "tied" : "untied",
                  m["hidden_act"].get<std::string>().c_str());
    out << line;
  }
  out << "tensors     " << s["tensor_count"].get<int64_t>() << " in " << s["files"].get<int64_t>() << " file(s), "
      << human_bytes(s["bytes"].get<double>()) << "; dtypes:";
  for (const auto& [dtype, count] : s["dtypes"].items()) out << " " << dtype << " x" << count.get<int64_t>();
  out << "\n";
  if (!s["layers"].empty()) {
    out << "patterns    valid in every quantized weight: ";
    if (s["valid_patterns"].empty()) out << "none";
    for (size_t i = 0; i < s["valid_patterns"].size(); ++i)
      out << (i ? ", " : "") << s["valid_patterns"][i].get<std::string>();
    out << "\n\nlayer  zero fraction of linear weights\n";
    for (const auto& l : s["layers"]) {
      std::snprintf(line, sizeof line, "%5lld  %.4f\n", l["layer"].get<long long>(), l["zero_fraction"].get<double>());
      out << line;
    }
  }
  out << "\n";
  std::snprintf(line, sizeof line, "%-48s %-8s %-14s %12s %8s  %s\n", "tensor", "dtype", "shape", "scale", "zeros",
                "valid patterns");
  out << line;
  for (const auto& t : s["tensors"]) {
    std::string shape = "[";
    for (size_t i = 0; i < t["shape"].size(); ++i) shape += (i ? "," : "") + std::to_string(t["shape"][i].get<int64_t>());
    shape += "]";
    std::string scale = t.contains("scale") ? std::to_string(t["scale"].get<double>()) : "-";
    std::string zeros = "-";
    if (t.contains("zero_fraction")) {
      char z[16];
      std::snprintf(z, sizeof z, "%.3f", t["zero_fraction"].get<double>());
      zeros = z;
    }
    std::string patterns;
    if (t.contains("valid_patterns")) {
      for (size_t i = 0; i < t["valid_patterns"].size(); ++i)
        patterns += (i ? "," : "") + t["valid_patterns"][i].get<std::string>();
      if (patterns.empty()) patterns = "none";
    }
    std::snprintf(line, sizeof line, "%-48s %-8s %-14s %12s %8s  %s\n", t["name"].get<std::string>().c_str(),
                  t["dtype"].get<std::string>().c_str(), shape.c_str(), scale.c_str(), zeros.c_str(), patterns.c_str());
    out << line;
  }
  return out.str();
}

}  // namespace slidesparse
