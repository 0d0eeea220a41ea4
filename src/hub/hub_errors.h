// One-line messages for everything the hub or the network can answer, naming the endpoint, the
// repository, the revision or the file at fault, and what the user can do about it.
#pragma once

#include <string>

#include "hub/http_client.h"

namespace slidesparse {

struct HubTarget {
  std::string endpoint, repo, revision;
  bool token_sent = false;
};

// A response that arrived but is not a success. `file` is empty for the revision (API) request,
// else the file being fetched at `target.revision` (then the commit).
[[noreturn]] void fail_hub_status(const HubTarget& target, const std::string& url, const HttpResponse& response,
                                  const std::string& file);
// A transfer that did not complete (connect, timeout, cut, interrupted, other).
[[noreturn]] void fail_hub_transport(const HubTarget& target, const std::string& url, const HttpResponse& response);

}  // namespace slidesparse
