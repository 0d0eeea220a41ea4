#include <pthread.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "cli/engine_generation_backend.h"
#include "core/error.h"
#include "serve/openai_server.h"

namespace slidesparse {

namespace {

// SIGINT / SIGTERM go to one watcher thread (blocked everywhere else, before any thread starts),
// which starts the graceful shutdown; a second signal during it changes nothing.
class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  ~SignalWatcher() { stop(); }
  // Before the server it watches goes away (a signal after this is ignored: still blocked).
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  void start(OpenAiServer& server) {
    thread_ = std::thread([this, &server] {
      const timespec tick{0, 200'000'000};
      while (!done_) {
        const int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig == SIGINT || sig == SIGTERM) {
          std::fprintf(stderr, "serve: %s: finishing in-flight requests, then exiting\n",
                       sig == SIGINT ? "SIGINT" : "SIGTERM");
          server.shutdown();
          return;
        }
      }
    });
  }

 private:
  sigset_t set_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

int run_serve(const CommandArgs& args) {
  ArgParser p("slidesparse serve",
              "An OpenAI-compatible HTTP server over the engine's continuous batching:\n"
              "  GET /v1/models, POST /v1/completions, POST /v1/chat/completions (\"stream\": true for server-sent\n"
              "  events), GET /health, GET /metrics (Prometheus).\n"
              "Text goes through the checkpoint's tokenizer.json and chat template (tokenizer_config.json);\n"
              "SIGINT / SIGTERM stop accepting requests, let in-flight ones finish, and exit 0.");
  add_engine_options(p);
  p.option("host", "ADDR", "address to listen on", "127.0.0.1");
  p.option("port", "N", "port (0: any free port, printed at start)", "8000");
  p.option("tokenizer", "DIR", "directory with tokenizer.json (default: the model directory)");
  p.option("served-model-name", "NAME", "the model id clients send (default: the model directory's name)");
  p.option("max-body-bytes", "N", "larger request bodies get 413", "4194304");
  p.option("max-connections", "N",
           "connections served at once, one worker thread each (started as connections arrive; a streaming or "
           "kept-alive connection holds its thread; more wait for a free one)",
           "2048");
  p.option("shutdown-grace", "SECONDS", "how long in-flight requests may run after SIGINT / SIGTERM", "10");
  p.option("api-key", "KEY",
           "require \"Authorization: Bearer KEY\" on the /v1/ routes (default: SLIDESPARSE_API_KEY if set, else none)");
  p.option("allowed-origins", "LIST",
           "origins whose web pages may call the server from a browser (CORS), comma-separated, or * for any "
           "(default: none)");
  p.flag("cpu-reference", "run the model on the CPU reference implementation (tiny models; no GPU needed)");
  if (!p.parse(args)) return 0;
  SignalWatcher signals;  // before any thread exists, so that every thread inherits the mask

  const EngineOptions engine = engine_options_from(p);
  const std::filesystem::path model = engine.model;
  const TextModel text = TextModel::load(p.has("tokenizer") ? std::filesystem::path(p.get("tokenizer")) : model);
  ServerOptions o;
  o.host = p.get("host");
  o.port = static_cast<int>(p.get_int("port"));
  require(o.port >= 0 && o.port <= 65535, "--port must lie in 0..65535");
  o.model_name = p.has("served-model-name") ? p.get("served-model-name")
                                            : std::filesystem::absolute(model).lexically_normal().filename().string();
  if (o.model_name.empty()) o.model_name = std::filesystem::absolute(model).lexically_normal().parent_path().filename();
  o.max_body_bytes = p.get_uint("max-body-bytes");
  o.max_connections = static_cast<int>(p.get_int("max-connections"));
  require(o.max_connections >= 1, "--max-connections must be at least 1");
  o.shutdown_grace_seconds = parse_double("shutdown-grace", p.get("shutdown-grace"));
  require(o.shutdown_grace_seconds >= 0, "--shutdown-grace must not be negative");
  if (p.has("api-key"))
    o.api_key = p.get("api-key");
  else if (const char* key = std::getenv("SLIDESPARSE_API_KEY"))
    o.api_key = key;
  if (p.has("allowed-origins")) {
    std::stringstream list(p.get("allowed-origins"));
    for (std::string origin; std::getline(list, origin, ',');) {
      require(origin == "*" || origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0,
              "--allowed-origins: an origin is * or starts with http:// or https://, got '" + origin + "'");
      o.allowed_origins.push_back(origin);
    }
  }

  ServeMetrics metrics;
  RequestHub hub(make_generation_backend(engine, p.has("cpu-reference")), text.stop_token_ids(), metrics);
  OpenAiServer server(o, text, hub, metrics);
  const int port = server.bind();
  std::printf("serve: %s on http://%s:%d (model \"%s\", context %d tokens)\n",
              p.has("cpu-reference") ? "CPU reference model" : "GPU engine", o.host.c_str(), port,
              o.model_name.c_str(), hub.max_model_len());
  std::fflush(stdout);
  signals.start(server);
  server.run();
  signals.stop();
  std::printf("serve: stopped\n");
  return 0;
}

}  // namespace slidesparse
