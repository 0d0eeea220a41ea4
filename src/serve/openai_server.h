// `slidesparse serve`: an OpenAI-compatible HTTP server (cpp-httplib) over a RequestHub.
//   GET /v1/models, POST /v1/completions, POST /v1/chat/completions (streamed as server-sent events
//   ending with "data: [DONE]", usage in the last chunk), GET /health, GET /metrics (Prometheus).
// Errors are OpenAI error objects: 400 malformed or out-of-range input, 404 unknown model or route,
// 413 an oversized body, 503 while shutting down, 500 an internal failure, 401 a missing or wrong API
// key when one is set. A streaming client that
// goes away has its request cancelled (its KV blocks freed within one engine step).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "serve/metrics.h"
#include "serve/request_hub.h"
#include "text/text_model.h"

namespace httplib {
class Server;
}

namespace slidesparse {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;                    // 0: any free port (bind() returns it)
  std::string model_name;             // the id clients name in "model"
  size_t max_body_bytes = 4u << 20;   // larger bodies: 413
  int max_connections = 2048;         // HTTP worker threads, started as needed (serve/worker_pool.h)
  double shutdown_grace_seconds = 10;  // in-flight requests get this long to finish, then are cancelled
  std::string api_key;                // non-empty: /v1/ routes need "Authorization: Bearer <api_key>" (else 401)
  // Origins whose pages may call the server from a browser (CORS; "*": any); empty: no CORS headers.
  std::vector<std::string> allowed_origins;
};

class OpenAiServer {
 public:
  OpenAiServer(const ServerOptions& options, const TextModel& text, RequestHub& hub, ServeMetrics& metrics);
  ~OpenAiServer();

  // Binds the socket; returns the port. Throws Error when it cannot.
  int bind();
  // Serves until shutdown() (from another thread or a signal watcher).
  void run();
  // Stops accepting requests (503), lets in-flight ones finish within the grace period, cancels the
  // rest, then stops the server. Idempotent.
  void shutdown();

 private:
  void routes();

  ServerOptions options_;
  const TextModel& text_;
  RequestHub& hub_;
  ServeMetrics& metrics_;
  int64_t created_;
  std::atomic<int64_t> next_id_{0};
  std::atomic<bool> shutting_down_{false};
  std::unique_ptr<httplib::Server> server_;
  int listen_socket_ = -1;  // set by the library's socket-options hook when bind() creates it
};

}  // namespace slidesparse
