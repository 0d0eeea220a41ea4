// Shared test helpers: scratch directories, running the CLI binary, reading tensors.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors_reader.h"

namespace slidesparse::testing {

// The message of the slidesparse::Error `f` throws, or "<no error thrown>".
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no error thrown>";
}

// A fresh directory under the system temp dir, removed on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = 0;
  std::string out, err;
};

// Path of the built `slidesparse` binary (SLIDESPARSE_BINARY in the environment overrides it).
std::string slidesparse_binary();

// Runs the built `slidesparse` binary with the given arguments (no shell interpretation of them).
CommandResult run_slidesparse(const std::vector<std::string>& args);
// The same with `input` as the command's stdin.
CommandResult run_slidesparse(const std::vector<std::string>& args, const std::string& input);

std::filesystem::path test_data_dir();

template <typename T>
std::vector<T> tensor_values(const TensorRef& t) {
  std::vector<T> v(t.data.size() / sizeof(T));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  return v;
}

std::vector<uint8_t> tensor_bytes(const TensorRef& t);

// Directory listing (names only), sorted: to assert nothing was left behind.
std::vector<std::string> list_dir(const std::filesystem::path& dir);

void write_bytes(const std::filesystem::path& file, const std::string& bytes);
std::string read_text(const std::filesystem::path& file);

}  // namespace slidesparse::testing
