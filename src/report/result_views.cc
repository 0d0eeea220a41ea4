#include "report/result_views.h"

#include <algorithm>

#include "math/weight_code.h"

namespace slidesparse::report {

namespace {

void add_machine(std::vector<Machine>& out, const HardwareFolder& h) {
  const std::string key = h.machine_key();
  for (const auto& m : out)
    if (m.key == key) return;
  out.push_back({key, h.gpu, h.cc_text(), h.cuda, h.arch, h.compute_capability});
}

template <typename Map>
std::vector<Sparsity> sparse_keys(const Map& by_backend) {
  std::vector<Sparsity> out;
  for (const auto& [backend, points] : by_backend)
    if (!backend.is_dense()) out.push_back(backend);
  return out;
}

// The four fused linear layers of BitNet-2B the model total sums (kernel_bench.h bitnet_layer_shapes).
const std::set<std::string>& model_layers() {
  static const std::set<std::string> layers = {"qkv", "o", "gate_up", "down"};
  return layers;
}

}  // namespace

std::string Machine::name() const { return gpu + " (cc " + cc + ")"; }

std::string Machine::title() const { return gpu + " (cc " + cc + ", CUDA " + cuda + ", " + arch + ")"; }

std::string Machine::fp8_not_supported() const { return "not supported (cc " + cc + " < 8.9)"; }

std::vector<Machine> machines(const Results& results) {
  std::vector<Machine> out;
  for (const auto& s : results.throughput) add_machine(out, s.hardware);
  for (const auto& s : results.kernels) add_machine(out, s.hardware);
  std::sort(out.begin(), out.end(), [](const Machine& a, const Machine& b) {
    if (a.compute_capability != b.compute_capability) return a.compute_capability > b.compute_capability;
    return a.key < b.key;
  });
  return out;
}

std::vector<std::string> benchmark_dtypes(const Results& results) {
  std::set<std::string> seen;
  for (const auto& s : results.throughput) seen.insert(s.hardware.dtype);
  for (const auto& s : results.kernels) seen.insert(s.hardware.dtype);
  std::vector<std::string> out;
  for (QuantKind kind : {QuantKind::Int8, QuantKind::Fp8E4M3})
    if (seen.count(std::string(quant_kind_tag(kind)))) out.push_back(std::string(quant_kind_tag(kind)));
  return out;
}

const ThroughputRow* ThroughputTable::find(const Sparsity& backend, int64_t m) const {
  const auto b = by_backend.find(backend);
  if (b == by_backend.end()) return nullptr;
  const auto p = b->second.find(m);
  return p == b->second.end() || p->second.failed() ? nullptr : &p->second;
}

std::optional<double> ThroughputTable::speedup(const Sparsity& backend, int64_t m) const {
  const ThroughputRow* dense = find(Sparsity::dense(), m);
  const ThroughputRow* sparse = find(backend, m);
  if (!dense || !sparse || dense->tokens_per_s <= 0) return std::nullopt;
  return sparse->tokens_per_s / dense->tokens_per_s;
}

std::vector<Sparsity> ThroughputTable::sparse_backends() const { return sparse_keys(by_backend); }

ThroughputTable throughput_table(const Results& results, const std::string& stage, const std::string& machine_key,
                                 const std::string& dtype) {
  ThroughputTable t;
  for (const auto& s : results.throughput) {
    if (s.stage != stage || s.hardware.machine_key() != machine_key || s.hardware.dtype != dtype) continue;
    t.tag = s.hardware.tag;
    auto& points = t.by_backend[s.backend];
    for (const auto& row : s.rows) {
      points[row.m] = row;
      t.ms.insert(row.m);
    }
  }
  return t;
}

const KernelTotal* KernelTable::find(const Sparsity& backend, int64_t m) const {
  const auto b = by_backend.find(backend);
  if (b == by_backend.end()) return nullptr;
  const auto p = b->second.find(m);
  return p == b->second.end() ? nullptr : &p->second;
}

std::optional<double> KernelTable::speedup(const Sparsity& backend, int64_t m) const {
  const KernelTotal* dense = find(Sparsity::dense(), m);
  const KernelTotal* sparse = find(backend, m);
  if (!dense || !sparse || sparse->latency_us <= 0) return std::nullopt;
  return dense->latency_us / sparse->latency_us;
}

std::vector<Sparsity> KernelTable::sparse_backends() const { return sparse_keys(by_backend); }

KernelTable kernel_table(const Results& results, const std::string& machine_key, const std::string& dtype) {
  KernelTable t;
  for (const auto& s : results.kernels) {
    if (s.hardware.machine_key() != machine_key || s.hardware.dtype != dtype) continue;
    t.tag = s.hardware.tag;
    // Per M: the latency and work of each model layer; a total needs all four.
    std::map<int64_t, std::map<std::string, std::pair<double, double>>> layers;
    for (const auto& row : s.rows)
      if (model_layers().count(row.layer))
        layers[row.m][row.layer] = {row.latency_us, 2.0 * double(row.m) * double(row.n) * double(row.k)};
    auto& totals = t.by_backend[s.backend];
    for (const auto& [m, by_layer] : layers) {
      t.ms.insert(m);
      if (by_layer.size() != model_layers().size()) continue;
      double us = 0, ops = 0;
      for (const auto& [name, lat_ops] : by_layer) us += lat_ops.first, ops += lat_ops.second;
      totals[m] = {us, ops / us / 1e6};
    }
  }
  return t;
}

}  // namespace slidesparse::report
