#include "test_support.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

namespace slidesparse::testing {

namespace fs = std::filesystem;

ScratchDir::ScratchDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("slidesparse-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::add, ec);
  fs::remove_all(path_, ec);
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_bytes(const fs::path& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string slidesparse_binary() {
  // The GPU machine runs binaries built elsewhere: SLIDESPARSE_BINARY there names the CLI's path.
  const char* override_binary = std::getenv("SLIDESPARSE_BINARY");
  return override_binary ? override_binary : SLIDESPARSE_BINARY;
}

namespace {

// The CLI with `args`, stdin from `input` when given (else inherited).
CommandResult run_command(const std::vector<std::string>& args, const std::optional<std::string>& input) {
  ScratchDir capture;
  const fs::path out_file = capture / "stdout", err_file = capture / "stderr", in_file = capture / "stdin";
  if (input) write_bytes(in_file, *input);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::string binary = slidesparse_binary();
    argv.push_back(binary.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen(out_file.c_str(), "w", stdout) || !std::freopen(err_file.c_str(), "w", stderr)) ::_exit(127);
    if (input && !std::freopen(in_file.c_str(), "r", stdin)) ::_exit(127);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out_file);
  r.err = read_text(err_file);
  return r;
}

}  // namespace

CommandResult run_slidesparse(const std::vector<std::string>& args) { return run_command(args, std::nullopt); }

CommandResult run_slidesparse(const std::vector<std::string>& args, const std::string& input) {
  return run_command(args, input);
}

fs::path test_data_dir() { return SLIDESPARSE_TEST_DATA_DIR; }

std::vector<uint8_t> tensor_bytes(const TensorRef& t) {
  const auto* p = reinterpret_cast<const uint8_t*>(t.data.data());
  return {p, p + t.data.size()};
}

std::vector<std::string> list_dir(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace slidesparse::testing
