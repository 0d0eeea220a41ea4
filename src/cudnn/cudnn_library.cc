#include "cudnn/cudnn_library.h"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "gpu/runtime_library.h"

// The frontend's dynamic-loading shim resolves every backend call through this handle (it is
// declared `extern` in cudnn_frontend_shim.h and defined by the program that loads the library).
namespace cudnn_frontend {
void* cudnn_dlhandle = nullptr;
}  // namespace cudnn_frontend

namespace slidesparse {

std::string CudnnLibrary::version_string() const {
  return std::to_string(version / 10000) + "." + std::to_string((version / 100) % 100) + "." +
         std::to_string(version % 100);
}

const CudnnLibrary* cudnn_library(std::string* why) {
  static std::once_flag once;
  static std::unique_ptr<CudnnLibrary> instance;
  static std::string reason;
  std::call_once(once, [] {
    try {
      if (const char* off = std::getenv("SLIDESPARSE_CUDNN_ATTENTION"); off && std::string(off) == "0") {
        reason = "disabled by SLIDESPARSE_CUDNN_ATTENTION=0";
        return;
      }
      auto lib = std::make_unique<CudnnLibrary>();
      // Wheels first: PyTorch's wheel carries the cuDNN it ships with, usually newer than a copy on
      // the loader path, and only newer ones have Hopper kernels for paged, packed SDPA (an H200
      // with CUDA's cuDNN 9.14 on the path and PyTorch's 9.19 in a wheel: 9.14 picked an SM80
      // fallback kernel that read misaligned addresses).
      void* h = open_runtime_library("cuDNN", "SLIDESPARSE_CUDNN_LIB", "libcudnn.so.9", "nvidia/cudnn/lib/libcudnn.so.9",
                                     &lib->path, LibrarySearch::WheelsFirst);
      if (!h) {
        reason = "libcudnn.so.9 not found (searched SLIDESPARSE_CUDNN_LIB, nvidia/cudnn/lib of " +
                 python_wheel_search_description() + " and the dynamic loader path)";
        return;
      }
      // libcudnn.so.9 dlopens its sub-libraries by soname; from a wheel's folder (not on the loader
      // path) they are found only if already loaded, so load the ones that sit beside it first.
      if (const auto slash = lib->path.rfind('/'); slash != std::string::npos && lib->path.find(' ') == std::string::npos)
        for (const char* part : {"libcudnn_graph.so.9", "libcudnn_ops.so.9", "libcudnn_cnn.so.9", "libcudnn_adv.so.9",
                                 "libcudnn_heuristic.so.9", "libcudnn_engines_precompiled.so.9",
                                 "libcudnn_engines_runtime_compiled.so.9"})
          ::dlopen((lib->path.substr(0, slash + 1) + part).c_str(), RTLD_NOW | RTLD_GLOBAL);  // absent: fine
      using GetVersion = size_t (*)();
      const auto get_version = reinterpret_cast<GetVersion>(::dlsym(h, "cudnnGetVersion"));
      if (!get_version) {
        reason = lib->path + " has no cudnnGetVersion";
        return;
      }
      lib->version = get_version();
      if (lib->version < kCudnnMinimumVersion) {
        reason = "cuDNN " + lib->version_string() + " at " + lib->path +
                 " is too old for paged attention with packed queries (9.7 or newer)";
        return;
      }
      // The frontend dlopens a CUDA runtime for a few graph and stream queries, trying .so.12 first:
      // point it at the major version this binary runs on (a user's own setting wins).
      ::setenv("CUDNN_FRONTEND_CUDART_LIB_NAME", ("libcudart.so." + std::to_string(CUDART_VERSION / 1000)).c_str(), 0);
      // Never closed: the frontend's statics call into it until the process exits.
      cudnn_frontend::cudnn_dlhandle = h;
      instance = std::move(lib);
    } catch (const Error& e) {
      reason = e.what();
    }
    // Once per process (benchmark sweeps build many engines): where the attention runs instead.
    if (!instance) std::fprintf(stderr, "slidesparse: note: prefill attention uses the built-in kernel (%s)\n", reason.c_str());
  });
  if (!instance && why) *why = reason;
  return instance.get();
}

}  // namespace slidesparse
