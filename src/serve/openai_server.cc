#include "serve/openai_server.h"

#include <httplib.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <variant>

#include "core/error.h"
#include "serve/choices.h"
#include "serve/openai_protocol.h"
#include "serve/worker_pool.h"

namespace slidesparse {

using nlohmann::json;
using namespace std::chrono_literals;

namespace {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

OpenAiServer::OpenAiServer(const ServerOptions& options, const TextModel& text, RequestHub& hub, ServeMetrics& metrics)
    : options_(options), text_(text), hub_(hub), metrics_(metrics), created_(unix_now()),
      server_(std::make_unique<httplib::Server>()) {
  const int threads = options_.max_connections;
  server_->new_task_queue = [threads] { return new WorkerPool(static_cast<size_t>(threads)); };
  server_->set_payload_max_length(options_.max_body_bytes);
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, with which a second server binds
  // the same port without an error and the two split the connections. The listening socket is
  // kept to widen its backlog after bind().
  server_->set_socket_options([this](socket_t sock) {
    const int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket_ = sock;
  });
  server_->set_keep_alive_max_count(1000);
  // Each response is several small writes (headers, then one per stream chunk). With Nagle's
  // algorithm a write waits for the previous one's ACK, which a client that already sent on the
  // connection delays by up to 40 ms: on kept-alive connections the first content came 40 ms late
  // (client p50 44.8 -> 5.0 ms with this, tools/serve_bench --keep-alive).
  server_->set_tcp_nodelay(true);
  routes();
}

OpenAiServer::~OpenAiServer() = default;

int OpenAiServer::bind() {
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    require(port > 0, "serve: cannot bind " + options_.host + " to a free port");
  } else {
    require(server_->bind_to_port(options_.host, port),
            "serve: cannot bind " + options_.host + ":" + std::to_string(port) +
                " (in use, or not an address of this machine)");
  }
  // The library listens with a backlog of 5 connections: a burst of clients connecting at once
  // beyond that had their connection attempts dropped and retried by TCP a second later (client
  // time to first token p99 1.4 s with 64 clients, tools/serve_bench). Listening again on the
  // listening socket sets the backlog (Linux); the kernel caps it at net.core.somaxconn.
  require(listen_socket_ >= 0 && ::listen(listen_socket_, SOMAXCONN) == 0,
          "serve: cannot set the listen backlog of " + options_.host + ":" + std::to_string(port));
  return port;
}

void OpenAiServer::run() { server_->listen_after_bind(); }

void OpenAiServer::shutdown() {
  if (shutting_down_.exchange(true)) return;
  hub_.stop_accepting();
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(options_.shutdown_grace_seconds));
  while (hub_.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
  hub_.cancel_all();
  // Streams write their last chunk within one wait of the cancellation.
  for (int i = 0; i < 50 && hub_.in_flight() > 0; ++i) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(300ms);
  server_->stop();
}

void OpenAiServer::routes() {
  auto fail = [this](httplib::Response& res, const ApiError& e) {
    metrics_.request_failed(e.status);
    send_json(res, e.status, error_body(e));
  };
  // Browsers let a page of another origin read a response only with CORS headers naming its origin,
  // and ask first with a preflight OPTIONS request (without the API key).
  const auto allowed_origin = [this](const httplib::Request& req) -> std::string {
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) return "";
    for (const std::string& o : options_.allowed_origins)
      if (o == "*" || o == origin) return o;
    return "";
  };
  server_->set_pre_routing_handler([this, fail, allowed_origin](const httplib::Request& req,
                                                                httplib::Response& res) {
    // The preflight; the post-routing handler below names the origin, on this response as on all.
    if (req.method == "OPTIONS" && !options_.allowed_origins.empty()) {
      res.status = 204;
      if (!allowed_origin(req).empty()) {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
        res.set_header("Access-Control-Max-Age", "600");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    // The API key guards the OpenAI routes; /health and /metrics stay open to probes and scrapers.
    if (options_.api_key.empty() || req.path.rfind("/v1/", 0) != 0 ||
        req.get_header_value("Authorization") == "Bearer " + options_.api_key)
      return httplib::Server::HandlerResponse::Unhandled;
    fail(res, {401, "missing or wrong API key (send \"Authorization: Bearer <key>\")", "authentication_error",
               std::nullopt});
    return httplib::Server::HandlerResponse::Handled;
  });
  server_->set_post_routing_handler([allowed_origin](const httplib::Request& req, httplib::Response& res) {
    if (const std::string origin = allowed_origin(req); !origin.empty()) {
      res.set_header("Access-Control-Allow-Origin", origin);
      res.set_header("Vary", "Origin");
    }
  });

  server_->Get("/health", [](const httplib::Request&, httplib::Response& res) { res.set_content("", "text/plain"); });
  server_->Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, models_body(options_.model_name, created_, hub_.max_model_len()));
  });
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.render(options_.model_name), "text/plain; version=0.0.4");
  });

  auto generate = [this, fail](Endpoint endpoint, const httplib::Request& req, httplib::Response& res) {
    if (shutting_down_ || !hub_.accepting())
      return fail(res, {503, "the server is shutting down", "service_unavailable_error", std::nullopt});
    auto parsed = parse_generation_request(endpoint, req.body, options_.model_name);
    if (auto* e = std::get_if<ApiError>(&parsed)) return fail(res, *e);
    auto request = std::make_shared<const GenerationRequest>(std::move(std::get<GenerationRequest>(parsed)));
    auto encoded = encode_prompts(*request, text_, hub_.vocab_size(), hub_.max_model_len());
    if (auto* e = std::get_if<ApiError>(&encoded)) return fail(res, *e);
    const EncodedPrompts& prompts = std::get<EncodedPrompts>(encoded);
    std::shared_ptr<Choices> choices;
    try {
      choices = submit_choices(*request, prompts, hub_, text_);
    } catch (const RequestHub::ShuttingDown&) {
      return fail(res, {503, "the server is shutting down", "service_unavailable_error", std::nullopt});
    } catch (const Error& e) {
      return fail(res, {400, e.what(), "invalid_request_error", std::nullopt});
    }
    const std::string id = (endpoint == Endpoint::ChatCompletions ? "chatcmpl-" : "cmpl-") + std::to_string(next_id_++);
    const int64_t created = unix_now();

    if (!request->stream) {
      std::vector<ChoiceResult> results(choices->replies.size());
      for (size_t c = 0; c < results.size(); ++c) {
        Reply& reply = *choices->replies[c];
        results[c].text = choices->echoes[c];
        while (!reply.done()) results[c].text += reply.pull(hub_, 200ms);
        results[c].finish_reason = reply.finish_reason();
      }
      return send_json(res, 200, response_body(*request, id, created, results, choices->usage()));
    }
    auto streamer = std::make_shared<ChoiceStreamer>(request, choices, id, created);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, streamer](size_t, httplib::DataSink& sink) {
          if (!sink.is_writable()) return false;  // the client is gone: the releaser cancels
          const auto write = [&sink](const std::string& chunk) { return sink.write(chunk.data(), chunk.size()); };
          switch (streamer->next(hub_, write)) {
            case ChoiceStreamer::Step::More: return true;
            case ChoiceStreamer::Step::Done: sink.done(); return true;
            case ChoiceStreamer::Step::WriteFailed: break;
          }
          return false;
        },
        [this, choices](bool) { choices->cancel(hub_); });
  };
  // vLLM's token routes: text (or a conversation through the chat template) to ids, ids to text.
  server_->Post("/tokenize", [this, fail](const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_tokenize_request(req.body, options_.model_name);
    if (auto* e = std::get_if<ApiError>(&parsed)) return fail(res, *e);
    const TokenizeRequest& r = std::get<TokenizeRequest>(parsed);
    std::vector<int32_t> ids;
    try {
      ids = r.prompt ? text_.tokenizer().encode(*r.prompt, r.add_special_tokens)
                     : text_.encode_chat(r.messages, r.chat);
    } catch (const Error& e) {
      return fail(res, {400, e.what(), "invalid_request_error", std::nullopt});
    }
    send_json(res, 200, {{"count", ids.size()}, {"max_model_len", hub_.max_model_len()}, {"tokens", ids}});
  });
  server_->Post("/detokenize", [this, fail](const httplib::Request& req, httplib::Response& res) {
    auto parsed = parse_detokenize_request(req.body, options_.model_name);
    if (auto* e = std::get_if<ApiError>(&parsed)) return fail(res, *e);
    try {
      send_json(res, 200, {{"prompt", text_.tokenizer().decode(std::get<std::vector<int32_t>>(parsed))}});
    } catch (const Error& e) {
      return fail(res, {400, e.what(), "invalid_request_error", "tokens"});
    }
  });
  server_->Post("/v1/completions", [generate](const httplib::Request& req, httplib::Response& res) {
    generate(Endpoint::Completions, req, res);
  });
  server_->Post("/v1/chat/completions", [generate](const httplib::Request& req, httplib::Response& res) {
    generate(Endpoint::ChatCompletions, req, res);
  });

  // Errors the library answers itself (unknown route, oversized body, a bad request line) get an
  // OpenAI error object too; responses our handlers wrote keep theirs.
  server_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;
    ApiError e{res.status, "", "invalid_request_error", std::nullopt};
    if (res.status == 404) {
      e.message = "no route " + req.method + " " + req.path;
      e.type = "not_found_error";
    } else if (res.status == 413) {
      e.message = "the request body exceeds " + std::to_string(options_.max_body_bytes) + " bytes";
    } else if (res.status == 405) {
      e.message = "method " + req.method + " not allowed on " + req.path;
    } else {
      e.message = "bad request";
    }
    metrics_.request_failed(e.status);
    send_json(res, e.status, error_body(e));
  });
  server_->set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    metrics_.request_failed(500);
    send_json(res, 500, error_body({500, what, "internal_error", std::nullopt}));
  });
}

}  // namespace slidesparse
