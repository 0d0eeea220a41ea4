// A small blocking HTTP(S) GET client over libcurl: redirects followed, timeouts on connect and on
// stalls, Ctrl-C aborts the transfer. It reports what happened (transport outcome, status, the
// final response's headers) and leaves deciding what that means to the caller.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace slidesparse {

enum class HttpOutcome {
  ok,           // a complete response arrived (any status)
  connect,      // could not resolve or connect
  timeout,      // connect timeout, or no byte for timeout_seconds
  cut,          // the connection closed or failed mid-response: retrying may succeed
  write,        // the body sink refused data (a disk write failed)
  interrupted,  // Ctrl-C / SIGTERM
  other,
};

struct HttpResponse {
  HttpOutcome outcome = HttpOutcome::other;
  std::string transport_message;              // libcurl's explanation when outcome != ok
  long status = 0;                            // of the final response (after redirects)
  std::map<std::string, std::string> headers;  // of the final response, names in lower case
  std::string error_body;                     // the start of a non-2xx response's body
};

// Receives a 2xx body. `begin` is called once, before the first byte, with the final response;
// returning false from either aborts the transfer (HttpOutcome::write).
struct HttpBodySink {
  std::function<bool(const HttpResponse&)> begin;
  std::function<bool(const char* data, size_t size)> write;
};

class HttpClient {
 public:
  explicit HttpClient(long timeout_seconds);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // `headers` are full header lines ("Range: bytes=10-"). libcurl drops an Authorization header
  // when a redirect leaves the original host and port, so a token never reaches a CDN.
  HttpResponse get(const std::string& url, const std::vector<std::string>& headers, const HttpBodySink& sink);
  // Convenience for small answers (API JSON): the 2xx body into `body`.
  HttpResponse get_text(const std::string& url, const std::vector<std::string>& headers, std::string& body);

 private:
  void* curl_;  // CURL*, reused so that connections are kept alive between requests
  long timeout_seconds_;
};

// Percent-encodes everything but unreserved characters; '/' too unless keep_slashes.
std::string url_encode(const std::string& text, bool keep_slashes);

}  // namespace slidesparse
