#include "hub/hub_download.h"

#include <cctype>
#include <cstdio>
#include <optional>
#include <set>
#include <system_error>

#include <nlohmann/json.hpp>

#include "core/byte_progress.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "hub/blob_download.h"
#include "hub/hub_cache.h"
#include "hub/hub_environment.h"
#include "hub/hub_errors.h"
#include "hub/hub_revision.h"
#include "hub/http_client.h"

namespace fs = std::filesystem;

namespace slidesparse {

namespace {

bool is_commit_hash(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (const char c : revision)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// One part of a repo id: the hub's characters, no leading/trailing '-' or '.', no "--" or "..".
bool is_repo_id_part(const std::string& part) {
  if (part.empty() || part.size() > 96) return false;
  for (const char c : part)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  const auto edge = [](char c) { return c == '-' || c == '.'; };
  return !edge(part.front()) && !edge(part.back()) && part.find("--") == std::string::npos &&
         part.find("..") == std::string::npos;
}

bool is_repo_id(const std::string& s) {
  const size_t slash = s.find('/');
  return slash != std::string::npos && is_repo_id_part(s.substr(0, slash)) && is_repo_id_part(s.substr(slash + 1));
}

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : ",") + item;
  return text;
}

void note(bool quiet, const std::string& line) {
  if (!quiet) std::fprintf(stderr, "download: %s\n", line.c_str());
}

fs::path offline_snapshot(const HubRepoCache& cache, const HubDownloadOptions& options) {
  const std::optional<std::string> commit =
      is_commit_hash(options.revision) ? std::optional<std::string>(options.revision) : cache.read_ref(options.revision);
  std::error_code ec;
  require(commit && fs::is_directory(cache.snapshot_dir(*commit), ec),
          "HF_HUB_OFFLINE is set and revision '" + options.revision + "' of '" + options.repo +
              "' is not in the cache at " + cache.repo_dir().string());
  note(options.quiet, "offline: " + options.repo + " revision " + options.revision + " is commit " + *commit);
  return cache.snapshot_dir(*commit);
}

HubRevision fetch_revision(HttpClient& http, const HubTarget& target, const std::vector<std::string>& headers) {
  const std::string url = target.endpoint + "/api/models/" + target.repo + "/revision/" +
                          url_encode(target.revision, false) + "?blobs=true";
  std::string body;
  const HttpResponse response = http.get_text(url, headers, body);
  if (response.outcome != HttpOutcome::ok) fail_hub_transport(target, url, response);
  if (response.status != 200) fail_hub_status(target, url, response, "");
  nlohmann::json answer;
  try {
    answer = nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    fail("unexpected answer from " + url + ": not JSON");
  }
  return parse_hub_revision(answer, url);
}

}  // namespace

bool looks_like_hub_repo_id(const std::string& s) {
  std::error_code ec;
  return is_repo_id(s) && !fs::exists(fs::symlink_status(s, ec));
}

fs::path download_snapshot(const HubDownloadOptions& options) {
  require(is_repo_id(options.repo), "invalid hub repository id '" + options.repo + "' (expected org/name)");
  require(!options.revision.empty(), "the revision must not be empty");
  const HubEnvironment env = resolve_hub_environment(options.cache_dir, options.token);
  const HubRepoCache cache(env.cache_dir, options.repo);
  if (env.offline) return offline_snapshot(cache, options);

  const Stopwatch clock;
  HttpClient http(env.timeout_seconds);
  std::vector<std::string> auth;
  if (!env.token.empty()) auth.push_back("Authorization: Bearer " + env.token);
  HubTarget target{env.endpoint, options.repo, options.revision, !env.token.empty()};
  const HubRevision revision = fetch_revision(http, target, auth);
  const std::vector<HubFile> files = select_hub_files(revision.files, options.include);
  require(!files.empty(), options.include.empty()
                              ? "repository '" + options.repo + "' has no files at revision '" + options.revision + "'"
                              : "no file of '" + options.repo + "' matches --include " + join(options.include));
  cache.create_blob_folder();

  // A blob shared by several files is fetched once.
  std::vector<const HubFile*> missing;
  std::set<std::string> planned;
  uint64_t missing_bytes = 0;
  for (const auto& file : files) {
    if (cache.has_blob(file.blob_id, file.size) || !planned.insert(file.blob_id).second) continue;
    missing.push_back(&file);
    missing_bytes += file.size;
  }
  note(options.quiet, options.repo + " revision " + options.revision + " is commit " + revision.commit + ": " +
                          std::to_string(files.size()) + " files, " + std::to_string(files.size() - missing.size()) +
                          " already in the cache, " + format_bytes(missing_bytes) + " to download");

  target.revision = revision.commit;  // file requests name the commit, so messages do too
  std::optional<ByteProgressBar> progress;
  if (!options.quiet && !missing.empty()) progress.emplace("download", missing_bytes);
  for (const HubFile* file : missing) {
    const BlobRequest request{env.endpoint + "/" + options.repo + "/resolve/" + revision.commit + "/" +
                                  url_encode(file->rfilename, true),
                              auth, target};
    if (progress) progress->set_item(file->rfilename);
    download_blob(http, request, *file, cache, progress ? &*progress : nullptr);
  }
  if (progress) progress->finish();

  for (const auto& file : files)
    if (!cache.is_linked(revision.commit, file.rfilename, file.blob_id))
      cache.link_snapshot_file(revision.commit, file.rfilename, file.blob_id);
  // Written last, so an offline run only ever resolves to a snapshot that was completed.
  if (options.revision != revision.commit) cache.write_ref(options.revision, revision.commit);
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", clock.seconds());
  note(options.quiet, missing.empty() ? "every file was already in the cache (" + std::string(seconds) + " s)"
                                      : "downloaded " + format_bytes(missing_bytes) + " in " + seconds + " s");
  return cache.snapshot_dir(revision.commit);
}

}  // namespace slidesparse
