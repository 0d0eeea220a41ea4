// The results arranged the way the report compares them: per machine (a GPU with its software, the
// hardware tag without the dtype) and dtype, backend -> M -> measurement, with speedups over cuBLASLt.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "report/results.h"

namespace slidesparse::report {

struct Machine {
  std::string key;                  // HardwareFolder::machine_key
  std::string gpu, cc, cuda, arch;  // cc: "9.0"
  int compute_capability = 0;

  std::string name() const;   // "H100 (cc 9.0)"
  std::string title() const;  // "H100 (cc 9.0, CUDA 13.0, x86_64)"
  bool supports_fp8() const { return compute_capability >= 89; }
  std::string fp8_not_supported() const;  // "not supported (cc 8.0 < 8.9)"
};

// Every machine with benchmark results: newest compute capability first, then by GPU name.
std::vector<Machine> machines(const Results& results);
// The dtypes any benchmark result has, "INT8" before "FP8E4M3".
std::vector<std::string> benchmark_dtypes(const Results& results);

struct ThroughputTable {
  std::string tag;  // hardware tag of the series ("" when there is none)
  std::set<int64_t> ms;
  std::map<Sparsity, std::map<int64_t, ThroughputRow>> by_backend;

  bool empty() const { return by_backend.empty(); }
  const ThroughputRow* find(const Sparsity& backend, int64_t m) const;  // null when missing or failed
  // Sparse tokens/s over cuBLASLt tokens/s at the same M; nullopt when either is missing.
  std::optional<double> speedup(const Sparsity& backend, int64_t m) const;
  std::vector<Sparsity> sparse_backends() const;
};

ThroughputTable throughput_table(const Results& results, const std::string& stage, const std::string& machine_key,
                                 const std::string& dtype);

// The model total of one backend at one M: the sum of the four BitNet layers' latencies and the
// dense-equivalent TOPS of that sum (2*M*N*K with K, not K', as the kernel benchmark counts).
struct KernelTotal {
  double latency_us = 0, tops = 0;
};

struct KernelTable {
  std::string tag;
  std::set<int64_t> ms;
  std::map<Sparsity, std::map<int64_t, KernelTotal>> by_backend;  // only M with all four layers

  bool empty() const { return by_backend.empty(); }
  const KernelTotal* find(const Sparsity& backend, int64_t m) const;
  // Dense total latency / sparse total latency (never a TOPS ratio).
  std::optional<double> speedup(const Sparsity& backend, int64_t m) const;
  std::vector<Sparsity> sparse_backends() const;
};

KernelTable kernel_table(const Results& results, const std::string& machine_key, const std::string& dtype);

}  // namespace slidesparse::report
