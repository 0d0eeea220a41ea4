#include "gpu/runtime_library.h"

#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>

#include "core/error.h"

namespace slidesparse {

std::vector<std::string> python_wheel_library_paths(const std::string& wheel_relative) {
  std::vector<std::string> prefixes;
  for (const char* env : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (const char* v = std::getenv(env)) prefixes.push_back(v);
  if (const char* home = std::getenv("HOME")) prefixes.push_back(std::string(home) + "/.local");
  for (const char* p : {"/usr", "/usr/local", "/opt/conda", "/opt/*/.venv", "/opt/*"}) prefixes.push_back(p);
  std::vector<std::string> found;
  for (const auto& prefix : prefixes)
    for (const char* packages : {"/lib/python3*/site-packages/", "/lib/python3*/dist-packages/",
                                 "/lib64/python3*/site-packages/"}) {
      glob_t g{};
      if (::glob((prefix + packages + wheel_relative).c_str(), 0, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) found.emplace_back(g.gl_pathv[i]);
      ::globfree(&g);
    }
  return found;
}

std::string python_wheel_search_description() {
  return "Python environments under $VIRTUAL_ENV, $CONDA_PREFIX, ~/.local, /usr, /usr/local, /opt";
}

void* open_runtime_library(const char* library, const char* env_var, const std::string& soname,
                           const std::string& wheel_relative, std::string* where, LibrarySearch order) {
  if (const char* explicit_path = std::getenv(env_var)) {
    void* h = ::dlopen(explicit_path, RTLD_NOW | RTLD_LOCAL);
    if (!h) fail(std::string("cannot load ") + library + " from " + env_var + "=" + explicit_path + ": " + ::dlerror());
    *where = explicit_path;
    return h;
  }
  auto from_loader_path = [&]() -> void* {
    void* h = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) *where = soname + " (dynamic loader path)";
    return h;
  };
  if (order == LibrarySearch::LoaderPathFirst)
    if (void* h = from_loader_path()) return h;
  for (const auto& candidate : python_wheel_library_paths(wheel_relative))
    if (void* h = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      *where = candidate;
      return h;
    }
  return order == LibrarySearch::WheelsFirst ? from_loader_path() : nullptr;
}

}  // namespace slidesparse
