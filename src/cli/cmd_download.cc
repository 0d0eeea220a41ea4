#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/error.h"
#include "hub/hub_download.h"

namespace slidesparse {

int run_download(const CommandArgs& args) {
  ArgParser p("slidesparse download",
              "Downloads a model repository from the Hugging Face hub into huggingface_hub's cache (shared with\n"
              "the Python tools) and prints the snapshot directory as the last line. Downloads resume where an\n"
              "interrupted run stopped; every file is checked against the hub's sha256 / git blob id.\n"
              "Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (else $HF_HOME/token),\n"
              "HF_HOME (default ~/.cache/huggingface), HF_HUB_CACHE (default $HF_HOME/hub), HF_HUB_OFFLINE=1\n"
              "(resolve from the cache only), HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10).");
  p.positional("REPO", "repository id, e.g. microsoft/bitnet-b1.58-2B-4T-bf16");
  p.option("revision", "REV", "branch, tag or commit", "main");
  p.option("cache-dir", "DIR", "cache root instead of HF_HUB_CACHE");
  p.option("include", "GLOB[,GLOB]", "only files matching these patterns ('*' matches '/' too)");
  p.option("token", "TOKEN", "access token for gated or private repositories (instead of HF_TOKEN)");
  p.flag("quiet", "no progress output");
  if (!p.parse(args)) return 0;

  HubDownloadOptions o;
  o.repo = p.get("REPO");
  o.revision = p.get("revision");
  if (p.has("cache-dir")) o.cache_dir = p.get("cache-dir");
  if (p.has("include")) {
    for (const auto& pattern : split_commas(p.get("include"))) {
      require(!pattern.empty(), "slidesparse download: --include has an empty pattern");
      o.include.push_back(pattern);
    }
  }
  if (p.has("token")) o.token = p.get("token");
  o.quiet = p.has("quiet");
  std::printf("%s\n", download_snapshot(o).string().c_str());
  return 0;
}

}  // namespace slidesparse
