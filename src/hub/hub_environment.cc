#include "hub/hub_environment.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace fs = std::filesystem;

namespace slidesparse {

namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool truthy(const std::string& value) {
  return value == "1" || value == "true" || value == "TRUE" || value == "True" || value == "yes" || value == "ON" ||
         value == "on";
}

fs::path hf_home() {
  if (const std::string home = environment("HF_HOME"); !home.empty()) return home;
  if (const std::string xdg = environment("XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "huggingface";
  return fs::path(environment("HOME")) / ".cache" / "huggingface";
}

std::string trimmed(std::string text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// `huggingface-cli login` stores the token in $HF_HOME/token.
std::string stored_token() {
  std::ifstream in(hf_home() / "token");
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return trimmed(text.str());
}

}  // namespace

HubEnvironment resolve_hub_environment(const fs::path& cache_dir_option, const std::string& token_option) {
  HubEnvironment env;
  env.endpoint = environment("HF_ENDPOINT");
  if (env.endpoint.empty()) env.endpoint = "https://huggingface.co";
  while (env.endpoint.ends_with('/')) env.endpoint.pop_back();
  env.token = !token_option.empty() ? token_option : trimmed(environment("HF_TOKEN"));
  if (env.token.empty()) env.token = stored_token();
  if (!cache_dir_option.empty()) env.cache_dir = cache_dir_option;
  else if (const std::string cache = environment("HF_HUB_CACHE"); !cache.empty()) env.cache_dir = cache;
  else env.cache_dir = hf_home() / "hub";
  env.offline = truthy(environment("HF_HUB_OFFLINE"));
  if (const std::string timeout = environment("HF_HUB_DOWNLOAD_TIMEOUT"); !timeout.empty()) {
    long seconds = 0;
    const auto [end, ec] = std::from_chars(timeout.data(), timeout.data() + timeout.size(), seconds);
    require(ec == std::errc() && end == timeout.data() + timeout.size() && seconds > 0,
            "HF_HUB_DOWNLOAD_TIMEOUT='" + timeout + "' is not a positive number of seconds");
    env.timeout_seconds = seconds;
  }
  return env;
}

}  // namespace slidesparse
