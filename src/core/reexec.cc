#include "core/reexec.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"

namespace slidesparse {

void restart_process(const std::vector<std::string>& args, const std::string& env_name, const std::string& env_value) {
  // /proc/self/exe, not argv[0]: the program may have been started through PATH or a relative path
  // from another directory.
  std::vector<char> exe(4096);
  const ssize_t n = ::readlink("/proc/self/exe", exe.data(), exe.size() - 1);
  if (n <= 0) fail(std::string("cannot restart: /proc/self/exe: ") + std::strerror(errno));
  exe[static_cast<size_t>(n)] = '\0';
  std::vector<char*> argv;
  argv.push_back(exe.data());
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  if (::setenv(env_name.c_str(), env_value.c_str(), 1) != 0)
    fail("cannot restart: setenv " + env_name + ": " + std::strerror(errno));
  std::fflush(nullptr);
  ::execv(exe.data(), argv.data());
  fail(std::string("cannot restart ") + exe.data() + ": " + std::strerror(errno));
}

}  // namespace slidesparse
