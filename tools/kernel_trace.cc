// A CUPTI activity tracer loaded into any CUDA program through CUDA_INJECTION64_PATH: it records
// the start and end of every kernel, memcpy and memset on the GPU, graph-replayed ones node by node,
// without serializing them (CONCURRENT_KERNEL), and writes them as CSV to $KERNEL_TRACE_OUT at exit.
// Nsight Compute times kernels one at a time and so cannot see what lies between them (launch gaps,
// programmatic-dependent-launch overlap, the host's time between steps); this can. Analysis:
// scripts/gpu_check.sh trace-decode.
//
//   CUDA_INJECTION64_PATH=libkernel_trace.so KERNEL_TRACE_OUT=trace.csv slidesparse bench throughput ...
#include <cupti.h>
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

namespace {

constexpr size_t kBufferBytes = 16 << 20;

std::mutex file_mutex;
FILE* out = nullptr;

void check(CUptiResult r, const char* what) {
  if (r == CUPTI_SUCCESS) return;
  const char* message = nullptr;
  cuptiGetResultString(r, &message);
  std::fprintf(stderr, "kernel_trace: %s failed: %s\n", what, message ? message : "unknown CUPTI error");
  std::exit(1);
}

std::string demangled(const char* name) {
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string s = status == 0 && d ? d : name;
  std::free(d);
  // Template arguments and parameter lists make names long and full of commas: keep the base name
  // and its template arguments, with commas replaced so that the CSV stays one field per column.
  for (size_t at; (at = s.find("(anonymous namespace)::")) != std::string::npos;) s.erase(at, 23);
  if (const size_t paren = s.find('('); paren != std::string::npos) s.resize(paren);
  for (char& c : s)
    if (c == ',') c = ';';
  return s;
}

void CUPTIAPI buffer_requested(uint8_t** buffer, size_t* size, size_t* max_records) {
  *buffer = static_cast<uint8_t*>(std::aligned_alloc(8, kBufferBytes));
  *size = *buffer ? kBufferBytes : 0;
  *max_records = 0;
}

void CUPTIAPI buffer_completed(CUcontext, uint32_t, uint8_t* buffer, size_t, size_t valid) {
  std::lock_guard<std::mutex> lock(file_mutex);
  CUpti_Activity* record = nullptr;
  while (cuptiActivityGetNextRecord(buffer, valid, &record) == CUPTI_SUCCESS) {
    switch (record->kind) {
      case CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL: {
        const auto* k = reinterpret_cast<const CUpti_ActivityKernel10*>(record);
        std::fprintf(out, "kernel,%llu,%llu,%u,%u,%d,%d,%s\n", static_cast<unsigned long long>(k->start),
                     static_cast<unsigned long long>(k->end), k->streamId, k->graphId, k->gridX * k->gridY * k->gridZ,
                     k->blockX * k->blockY * k->blockZ, demangled(k->name).c_str());
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMCPY: {
        const auto* m = reinterpret_cast<const CUpti_ActivityMemcpy6*>(record);
        std::fprintf(out, "memcpy,%llu,%llu,%u,%u,%llu,0,kind%d\n", static_cast<unsigned long long>(m->start),
                     static_cast<unsigned long long>(m->end), m->streamId, m->graphId,
                     static_cast<unsigned long long>(m->bytes), static_cast<int>(m->copyKind));
        break;
      }
      case CUPTI_ACTIVITY_KIND_MEMSET: {
        const auto* m = reinterpret_cast<const CUpti_ActivityMemset4*>(record);
        std::fprintf(out, "memset,%llu,%llu,%u,%u,%llu,0,memset\n", static_cast<unsigned long long>(m->start),
                     static_cast<unsigned long long>(m->end), m->streamId, m->graphId,
                     static_cast<unsigned long long>(m->bytes));
        break;
      }
      default:
        break;
    }
  }
  std::free(buffer);
}

void flush_at_exit() {
  cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
  std::lock_guard<std::mutex> lock(file_mutex);
  if (out) std::fclose(out);
  out = nullptr;
}

}  // namespace

// Called by the CUDA driver when it initializes, before any other CUDA call of the program.
extern "C" int InitializeInjection() {
  const char* path = std::getenv("KERNEL_TRACE_OUT");
  out = std::fopen(path ? path : "kernel_trace.csv", "w");
  if (!out) {
    std::fprintf(stderr, "kernel_trace: cannot write %s\n", path ? path : "kernel_trace.csv");
    return 0;
  }
  std::fprintf(out, "what,start_ns,end_ns,stream,graph,grid_or_bytes,block,name\n");
  check(cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed), "cuptiActivityRegisterCallbacks");
  check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL), "enabling kernel records");
  check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMCPY), "enabling memcpy records");
  check(cuptiActivityEnable(CUPTI_ACTIVITY_KIND_MEMSET), "enabling memset records");
  std::atexit(flush_at_exit);
  return 1;
}
