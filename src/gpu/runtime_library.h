// Locating NVIDIA libraries that are loaded at run time (dlopen) rather than linked: cuSPARSELt
// for the sparse GEMMs and cuDNN for prefill attention. Both ship as Python wheels
// (nvidia-cusparselt-cu13, nvidia-cudnn-cu13) that PyTorch installs, so besides an explicit
// environment variable and the dynamic loader's own path we look in those wheels' lib folders.
#pragma once

#include <string>
#include <vector>

namespace slidesparse {

// Paths of `wheel_relative` (e.g. "nvidia/cudnn/lib/libcudnn.so.9") inside the site-packages /
// dist-packages folders of $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local, /usr, /usr/local, /opt/conda,
// /opt/*/.venv and /opt/*, in that order; only those that exist.
std::vector<std::string> python_wheel_library_paths(const std::string& wheel_relative);

// What python_wheel_library_paths searches, for error messages.
std::string python_wheel_search_description();

enum class LibrarySearch { LoaderPathFirst, WheelsFirst };

// dlopen (RTLD_NOW | RTLD_LOCAL) of the first that loads: $env_var when set (its failure is an
// Error "cannot load <library> from <env_var>=<path>: <dlerror>"), then `soname` through the loader
// path and the wheel paths in `order`. Returns nullptr when none loads; `where` receives the path
// that did.
void* open_runtime_library(const char* library, const char* env_var, const std::string& soname,
                           const std::string& wheel_relative, std::string* where,
                           LibrarySearch order = LibrarySearch::LoaderPathFirst);

}  // namespace slidesparse
