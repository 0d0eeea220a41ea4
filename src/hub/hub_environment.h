// Where the hub is and who we are to it, resolved the way huggingface_hub does from options and
// environment: HF_ENDPOINT, HF_TOKEN (else the file $HF_HOME/token), HF_HUB_CACHE / HF_HOME,
// HF_HUB_OFFLINE, HF_HUB_DOWNLOAD_TIMEOUT.
#pragma once

#include <filesystem>
#include <string>

namespace slidesparse {

struct HubEnvironment {
  std::string endpoint;             // no trailing slash
  std::string token;                // empty: anonymous
  std::filesystem::path cache_dir;  // the hub cache root (holds models--org--name/)
  bool offline = false;
  long timeout_seconds = 10;        // connect timeout and longest tolerated stall
};

// Empty arguments fall back to the environment, then to huggingface_hub's defaults.
HubEnvironment resolve_hub_environment(const std::filesystem::path& cache_dir_option,
                                       const std::string& token_option);

}  // namespace slidesparse
