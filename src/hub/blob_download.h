// One file of a hub snapshot into the cache's blobs/ folder: downloaded into <blob>.incomplete
// (continuing what an interrupted run left there with a ranged request, and retrying a transfer
// that breaks off), checked against the hub's hash, and only then renamed to its blob name.
#pragma once

#include <string>
#include <vector>

#include "core/byte_progress.h"
#include "hub/hub_cache.h"
#include "hub/hub_errors.h"
#include "hub/hub_revision.h"
#include "hub/http_client.h"

namespace slidesparse {

struct BlobRequest {
  std::string url;
  std::vector<std::string> headers;  // authorization, if any
  HubTarget target;                  // for error messages (revision = the commit)
};

// Throws Error: hash or size mismatch (the partial file is deleted), disk write failures, and
// whatever the hub or the network answered after the retries. `progress` may be null.
void download_blob(HttpClient& http, const BlobRequest& request, const HubFile& file, const HubRepoCache& cache,
                   ByteProgressBar* progress);

}  // namespace slidesparse
