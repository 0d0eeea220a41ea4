#include "hub/hub_errors.h"

#include "core/error.h"
#include "core/interrupt.h"

namespace slidesparse {

namespace {

std::string header(const HttpResponse& response, const std::string& name) {
  const auto it = response.headers.find(name);
  return it == response.headers.end() ? "" : it->second;
}

}  // namespace

void fail_hub_status(const HubTarget& target, const std::string& url, const HttpResponse& response,
                     const std::string& file) {
  // The hub names the cause in X-Error-Code; it answers 401 rather than 404 for a repository that
  // does not exist (or is private) when no valid token was sent.
  const std::string code = header(response, "x-error-code");
  const std::string status = "HTTP " + std::to_string(response.status);
  const std::string repo = "repository '" + target.repo + "'";
  if (code == "RepoNotFound")
    fail(repo + " not found on " + target.endpoint + " (" + status +
         (target.token_sent ? "" : "; a private repository needs HF_TOKEN or --token") + ")");
  if (code == "RevisionNotFound")
    fail("revision '" + target.revision + "' not found in " + repo + " on " + target.endpoint + " (" + status + ")");
  if (response.status == 401 || response.status == 403) {
    fail("access to " + repo + " denied by " + target.endpoint + " (" + status + "): it is gated or private; " +
         (target.token_sent ? "the token given has no access to it (request access on its page, check HF_TOKEN or --token)"
                            : "request access on its page and set HF_TOKEN (or pass --token)"));
  }
  if (response.status == 404) {
    if (!file.empty())
      fail("file '" + file + "' not found in " + repo + " at commit " + target.revision + " on " + target.endpoint +
           " (" + status + ")");
    fail(repo + " or its revision '" + target.revision + "' not found on " + target.endpoint + " (" + status + ")");
  }
  const std::string message = header(response, "x-error-message");
  fail("the hub at " + target.endpoint + " answered " + status + " for " + url + (message.empty() ? "" : ": " + message));
}

void fail_hub_transport(const HubTarget& target, const std::string& url, const HttpResponse& response) {
  switch (response.outcome) {
    case HttpOutcome::connect:
      fail("cannot connect to the hub at " + target.endpoint + ": " + response.transport_message +
           " (check HF_ENDPOINT and the network, or set HF_HUB_OFFLINE=1 to use the cache)");
    case HttpOutcome::timeout:
      fail("the hub at " + target.endpoint + " timed out: " + response.transport_message +
           " (HF_HUB_DOWNLOAD_TIMEOUT sets the limit in seconds)");
    case HttpOutcome::interrupted: throw_if_interrupted(); fail("interrupted");
    default: fail("request to " + url + " failed: " + response.transport_message);
  }
}

}  // namespace slidesparse
