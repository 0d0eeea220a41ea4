// cuSPARSELt as a run-time dependency: the library is dlopen'ed on first use, so dense-only use
// needs no cuSPARSELt at all. We compile against NVIDIA's real cusparseLt.h (from the wheel) and
// call through this table of function pointers.
#pragma once

#include <cusparseLt.h>

#include <string>

namespace slidesparse {

struct CusparseLtApi {
#define SLIDESPARSE_CUSPARSELT_FN(name) decltype(&::name) name = nullptr;
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtDestroy)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtGetVersion)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtDenseDescriptorInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtStructuredDescriptorInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatDescriptorDestroy)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulDescriptorInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulDescSetAttribute)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulAlgSelectionInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulAlgSelectionDestroy)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulAlgSetAttribute)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulAlgGetAttribute)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulGetWorkspace)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulPlanInit)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulPlanDestroy)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmul)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtMatmulSearch)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtSpMMAPruneCheck2)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtSpMMACompressedSize2)
  SLIDESPARSE_CUSPARSELT_FN(cusparseLtSpMMACompress2)
#undef SLIDESPARSE_CUSPARSELT_FN
};

// The loaded library: api table, one handle, its version and where it was found.
struct CusparseLt {
  CusparseLtApi api;
  cusparseLtHandle_t handle{};
  int version = 0;  // major*1000 + minor*100 + patch, e.g. 800 for 0.8.0
  std::string path;

  std::string version_string() const;  // "0.8.0"
};

// Loads on first call (thread-safe) and returns the process-wide instance. Search order: the file
// named by SLIDESPARSE_CUSPARSELT_LIB; "libcusparseLt.so.0" through the dynamic loader's path; the
// usual Python wheel locations (nvidia/cusparselt/lib under virtualenvs, conda, /usr, /usr/local,
// /opt/*/.venv, ~/.local). Throws one Error line when it is not found or too old (< 0.6), and
// prints a warning once for 0.8.0 on Hopper, which has known performance regressions fixed in 0.8.1.
const CusparseLt& cusparselt();

// Where the library was searched, for error messages and `slidesparse env`-style reports.
std::string cusparselt_search_description();

}  // namespace slidesparse
