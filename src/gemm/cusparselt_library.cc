#include "gemm/cusparselt_library.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_info.h"
#include "gpu/runtime_library.h"

namespace slidesparse {

namespace {

constexpr int kMinimumVersion = 600;
constexpr int kHopperFixedVersion = 801;

void* open_library(std::string* path) {
  if (void* h = open_runtime_library("cuSPARSELt", "SLIDESPARSE_CUSPARSELT_LIB", "libcusparseLt.so.0",
                                     "nvidia/cusparselt/lib/libcusparseLt.so.0", path))
    return h;
  fail("cuSPARSELt is required for the sparse backend but was not found (searched " +
       cusparselt_search_description() + "); install the nvidia-cusparselt-cu13 wheel or set SLIDESPARSE_CUSPARSELT_LIB");
}

template <typename Fn>
void bind(void* library, Fn& fn, const char* name) {
  fn = reinterpret_cast<Fn>(::dlsym(library, name));
  require(fn != nullptr, std::string("the loaded cuSPARSELt library lacks ") + name + " (too old?)");
}

std::unique_ptr<CusparseLt> load() {
  auto lib = std::make_unique<CusparseLt>();
  void* h = open_library(&lib->path);
  CusparseLtApi& a = lib->api;
#define SLIDESPARSE_BIND(name) bind(h, a.name, #name);
  SLIDESPARSE_BIND(cusparseLtInit)
  SLIDESPARSE_BIND(cusparseLtDestroy)
  SLIDESPARSE_BIND(cusparseLtGetVersion)
  SLIDESPARSE_BIND(cusparseLtDenseDescriptorInit)
  SLIDESPARSE_BIND(cusparseLtStructuredDescriptorInit)
  SLIDESPARSE_BIND(cusparseLtMatDescriptorDestroy)
  SLIDESPARSE_BIND(cusparseLtMatmulDescriptorInit)
  SLIDESPARSE_BIND(cusparseLtMatmulDescSetAttribute)
  SLIDESPARSE_BIND(cusparseLtMatmulAlgSelectionInit)
  SLIDESPARSE_BIND(cusparseLtMatmulAlgSelectionDestroy)
  SLIDESPARSE_BIND(cusparseLtMatmulAlgSetAttribute)
  SLIDESPARSE_BIND(cusparseLtMatmulAlgGetAttribute)
  SLIDESPARSE_BIND(cusparseLtMatmulGetWorkspace)
  SLIDESPARSE_BIND(cusparseLtMatmulPlanInit)
  SLIDESPARSE_BIND(cusparseLtMatmulPlanDestroy)
  SLIDESPARSE_BIND(cusparseLtMatmul)
  SLIDESPARSE_BIND(cusparseLtMatmulSearch)
  SLIDESPARSE_BIND(cusparseLtSpMMAPruneCheck2)
  SLIDESPARSE_BIND(cusparseLtSpMMACompressedSize2)
  SLIDESPARSE_BIND(cusparseLtSpMMACompress2)
#undef SLIDESPARSE_BIND
  // The library stays loaded for the life of the process (the handle is never destroyed: its
  // destruction at exit would race the CUDA runtime's own teardown).
  CUSPARSELT_CHECK(a.cusparseLtInit(&lib->handle));
  CUSPARSELT_CHECK(a.cusparseLtGetVersion(&lib->handle, &lib->version));
  require(lib->version >= kMinimumVersion,
          "cuSPARSELt " + lib->version_string() + " at " + lib->path + " is too old (need 0.6 or newer)");
  if (lib->version < kHopperFixedVersion && query_device().cc_major == 9)
    std::fprintf(stderr,
                 "slidesparse: warning: cuSPARSELt %s has known performance regressions on Hopper; 0.8.1 or "
                 "newer is recommended\n",
                 lib->version_string().c_str());
  return lib;
}

}  // namespace

std::string CusparseLt::version_string() const {
  return std::to_string(version / 1000) + "." + std::to_string((version / 100) % 10) + "." +
         std::to_string(version % 100);
}

std::string cusparselt_search_description() {
  return "SLIDESPARSE_CUSPARSELT_LIB, the dynamic loader path (LD_LIBRARY_PATH, ldconfig), and "
         "nvidia/cusparselt/lib of " + python_wheel_search_description();
}

const CusparseLt& cusparselt() {
  static std::once_flag once;
  static std::unique_ptr<CusparseLt> instance;
  static std::string error;
  std::call_once(once, [] {
    try {
      instance = load();
    } catch (const Error& e) {
      error = e.what();
    }
  });
  require(instance != nullptr, error);
  return *instance;
}

}  // namespace slidesparse
