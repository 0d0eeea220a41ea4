#include "serve/load_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "core/error.h"

namespace slidesparse {

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kReceiveTimeoutSeconds = 600;  // a server that stops answering fails the request, not the load

double seconds_since(Clock::time_point t0, Clock::time_point t) {
  return std::chrono::duration<double>(t - t0).count();
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Failure {
  std::string message;
};

// One TCP connection to the server, with what was read and not yet consumed.
class Connection {
 public:
  Connection(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0)
      throw Failure{"cannot resolve " + host + ": " + gai_strerror(rc)};
    int error = 0;
    for (addrinfo* a = found; a && fd_ < 0; a = a->ai_next) {
      const int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
      if (fd < 0) continue;
      if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        fd_ = fd;
      } else {
        error = errno;
        close(fd);
      }
    }
    freeaddrinfo(found);
    if (fd_ < 0) throw Failure{"cannot connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(error)};
    const int yes = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    timeval timeout{kReceiveTimeoutSeconds, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~Connection() { close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void send_all(const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
      const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw Failure{std::string("sending the request failed: ") + std::strerror(errno)};
      sent += static_cast<size_t>(n);
    }
  }
  // Appends what arrives next to buffer(); false at the end of the stream.
  bool read_more() {
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0) throw Failure{std::string("reading the response failed: ") + std::strerror(errno)};
    if (n == 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  std::string& buffer() { return buffer_; }

 private:
  int fd_ = -1;
  std::string buffer_;
};

std::string lowercase(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct ResponseHead {
  int status = 0;
  bool chunked = false, close = false;
  std::optional<size_t> content_length;
};

ResponseHead read_head(Connection& c) {
  size_t end;
  while ((end = c.buffer().find("\r\n\r\n")) == std::string::npos)
    if (!c.read_more()) throw Failure{"the server closed the connection before answering"};
  const std::string head = c.buffer().substr(0, end + 2);
  c.buffer().erase(0, end + 4);
  ResponseHead h;
  if (head.rfind("HTTP/1.", 0) != 0 || head.size() < 12) throw Failure{"not an HTTP response"};
  h.status = std::atoi(head.c_str() + 9);
  for (size_t at = head.find("\r\n") + 2; at < head.size();) {
    const size_t eol = head.find("\r\n", at);
    const std::string line = lowercase(head.substr(at, eol - at));
    at = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (name == "transfer-encoding" && value.find("chunked") != std::string::npos) h.chunked = true;
    if (name == "content-length") h.content_length = static_cast<size_t>(std::stoull(value));
    if (name == "connection" && value == "close") h.close = true;
  }
  return h;
}

// The response body as it arrives: `on_data` gets each decoded piece (chunked or plain framing);
// returns once the body ended.
template <typename OnData>
void read_body(Connection& c, const ResponseHead& h, OnData&& on_data) {
  if (!h.chunked) {
    size_t left = h.content_length.value_or(SIZE_MAX);
    for (;;) {
      const size_t take = std::min(left, c.buffer().size());
      if (take) on_data(c.buffer().substr(0, take));
      c.buffer().erase(0, take);
      left -= take;
      if (left == 0) return;
      if (!c.read_more()) {
        if (h.content_length) throw Failure{"the response body ended early"};
        return;
      }
    }
  }
  for (;;) {
    size_t eol;
    while ((eol = c.buffer().find("\r\n")) == std::string::npos)
      if (!c.read_more()) throw Failure{"the stream ended inside a chunk header"};
    const size_t size = std::stoul(c.buffer().substr(0, eol), nullptr, 16);
    while (c.buffer().size() < eol + 2 + size + 2)
      if (!c.read_more()) throw Failure{"the stream ended inside a chunk"};
    if (size == 0) {
      c.buffer().erase(0, eol + 4);  // the last chunk, no trailers
      return;
    }
    on_data(c.buffer().substr(eol + 2, size));
    c.buffer().erase(0, eol + 2 + size + 2);
  }
}

// The server's error message from an OpenAI error body, else the body itself.
std::string error_message(int status, const std::string& body) {
  std::string message = body.substr(0, 300);
  const json j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object() && j["error"].contains("message") &&
      j["error"]["message"].is_string())
    message = j["error"]["message"].get<std::string>();
  return "HTTP " + std::to_string(status) + ": " + message;
}

// The text a stream chunk carries: a completion's "text", a chat chunk's delta "content".
std::string choice_text(const json& choice) {
  if (!choice.is_object()) return "";
  if (choice.contains("text") && choice["text"].is_string()) return choice["text"].get<std::string>();
  if (choice.contains("delta") && choice["delta"].is_object() && choice["delta"].contains("content") &&
      choice["delta"]["content"].is_string())
    return choice["delta"]["content"].get<std::string>();
  return "";
}

// One streamed completion over `connection` (opened if empty; closed after it unless kept alive).
RequestTiming one_request(const LoadOptions& o, const std::string& body, std::optional<Connection>& connection,
                          Clock::time_point t0) {
  RequestTiming r;
  const auto start = Clock::now();
  r.start = seconds_since(t0, start);
  try {
    if (!connection) connection.emplace(o.host, o.port);
    std::string request = std::string("POST ") + (o.chat ? "/v1/chat/completions" : "/v1/completions") +
                          " HTTP/1.1\r\nHost: " + o.host + "\r\nConnection: " +
                          (o.keep_alive ? "keep-alive" : "close") +
                          "\r\nContent-Type: application/json\r\nAccept: text/event-stream\r\n";
    if (!o.api_key.empty()) request += "Authorization: Bearer " + o.api_key + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    connection->send_all(request);
    const ResponseHead head = read_head(*connection);
    std::string events, error_body;
    bool done = false, usage_seen = false;
    std::optional<Clock::time_point> last_text;
    read_body(*connection, head, [&](const std::string& piece) {
      if (head.status != 200) return void(error_body += piece);
      events += piece;
      for (size_t end; (end = events.find("\n\n")) != std::string::npos;) {
        const std::string event = events.substr(0, end);
        events.erase(0, end + 2);
        if (event.rfind("data: ", 0) != 0) continue;
        const std::string data = event.substr(6);
        if (data == "[DONE]") {
          done = true;
          continue;
        }
        const json chunk = json::parse(data, nullptr, false);
        if (!chunk.is_object()) throw Failure{"a stream event is not JSON: " + data.substr(0, 200)};
        const json* choices = chunk.contains("choices") ? &chunk["choices"] : nullptr;
        if (choices && choices->is_array() && !choices->empty() && !choice_text((*choices)[0]).empty()) {
          const auto now = Clock::now();
          if (last_text)
            r.itl.push_back(seconds_since(*last_text, now));
          else
            r.ttft = seconds_since(start, now);
          last_text = now;
        }
        if (chunk.contains("usage") && chunk["usage"].is_object()) {
          r.input_tokens = chunk["usage"].value("prompt_tokens", 0);
          r.output_tokens = chunk["usage"].value("completion_tokens", 0);
          usage_seen = true;
        }
      }
    });
    if (head.status != 200) throw Failure{error_message(head.status, error_body)};
    if (!done || !usage_seen) throw Failure{"the stream ended without its usage and [DONE]"};
    r.ok = true;
    if (!o.keep_alive || head.close) connection.reset();
  } catch (const Failure& f) {
    r.error = f.message;
    connection.reset();
  } catch (const std::exception& e) {  // a malformed response (number parsing)
    r.error = std::string("malformed response: ") + e.what();
    connection.reset();
  }
  r.e2e = seconds_since(start, Clock::now());
  if (r.ok && r.itl.empty() && r.ttft == 0) r.ttft = r.e2e;  // no chunk had text (ids past the tokenizer's)
  return r;
}

// The body of request number `n`: its prompt random ids, or the next text prompt (as a user
// message with `chat`).
std::string request_body(const LoadOptions& o, std::mt19937_64& rng, int n) {
  // include_usage: servers that follow OpenAI send the usage (the generated tokens) only when asked.
  json body = {{"max_tokens", o.output_len},
               {"ignore_eos", true},
               {"stream", true},
               {"temperature", 0},
               {"stream_options", {{"include_usage", true}}}};
  if (!o.prompts.empty()) {
    const std::string& text = o.prompts[static_cast<size_t>(n) % o.prompts.size()];
    if (o.chat)
      body["messages"] = json::array({{{"role", "user"}, {"content", text}}});
    else
      body["prompt"] = text;
  } else {
    std::uniform_int_distribution<int32_t> id(o.token_lo, o.token_hi - 1);
    json prompt = json::array();
    for (int i = 0; i < o.input_len; ++i) prompt.push_back(id(rng));
    body["prompt"] = prompt;
  }
  if (!o.model.empty()) body["model"] = o.model;
  return body.dump();
}

Percentiles percentiles(std::vector<double> seconds) {
  Percentiles p;
  if (seconds.empty()) return p;
  std::sort(seconds.begin(), seconds.end());
  const auto at = [&](double q) {
    const size_t rank = static_cast<size_t>(q * static_cast<double>(seconds.size() - 1) + 0.5);
    return 1e3 * seconds[std::min(seconds.size() - 1, rank)];
  };
  p.mean = 1e3 * std::accumulate(seconds.begin(), seconds.end(), 0.0) / static_cast<double>(seconds.size());
  p.p50 = at(0.5);
  p.p90 = at(0.9);
  p.p99 = at(0.99);
  return p;
}

// Collects the records of all threads and their CPU time.
struct Collector {
  std::mutex mutex;
  std::vector<RequestTiming> records;
  double cpu_seconds = 0;
  void add(RequestTiming r) {
    std::lock_guard lock(mutex);
    records.push_back(std::move(r));
  }
  void thread_done() {
    const double cpu = thread_cpu_seconds();
    std::lock_guard lock(mutex);
    cpu_seconds += cpu;
  }
};

// Hands out the requests: the next body while the load lasts (count or deadline), nullopt after.
class RequestSource {
 public:
  RequestSource(const LoadOptions& o, Clock::time_point t0)
      : o_(o), rng_(o.seed), deadline_(o.seconds > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(
                                                                std::chrono::duration<double>(o.seconds))
                                                     : Clock::time_point::max()) {}
  std::optional<std::string> next() {
    std::lock_guard lock(mutex_);
    if ((o_.num_requests > 0 && issued_ >= o_.num_requests) || Clock::now() >= deadline_) return std::nullopt;
    return request_body(o_, rng_, issued_++);
  }
  Clock::time_point deadline() const { return deadline_; }

 private:
  const LoadOptions& o_;
  std::mutex mutex_;
  std::mt19937_64 rng_;
  Clock::time_point deadline_;
  int issued_ = 0;
};

void run_clients(const LoadOptions& o, Clock::time_point t0, Collector& out) {
  RequestSource source(o, t0);
  std::vector<std::thread> threads;
  for (int i = 0; i < o.clients; ++i)
    threads.emplace_back([&] {
      std::optional<Connection> connection;
      while (const auto body = source.next()) out.add(one_request(o, *body, connection, t0));
      out.thread_done();
    });
  for (auto& t : threads) t.join();
}

void run_arrivals(const LoadOptions& o, Clock::time_point t0, Collector& out) {
  RequestSource source(o, t0);
  std::mt19937_64 gaps(o.seed ^ 0x9e3779b97f4a7c15ull);
  std::exponential_distribution<double> gap(o.request_rate);
  std::mutex mutex;
  std::condition_variable freed;
  int in_flight = 0;
  std::vector<std::thread> threads;
  auto next_arrival = t0;
  while (const auto body = source.next()) {
    std::this_thread::sleep_until(next_arrival);
    {
      std::unique_lock lock(mutex);
      freed.wait(lock, [&] { return o.max_concurrency == 0 || in_flight < o.max_concurrency; });
      ++in_flight;
    }
    threads.emplace_back([&, request = *body] {
      std::optional<Connection> connection;
      out.add(one_request(o, request, connection, t0));
      out.thread_done();
      std::lock_guard lock(mutex);
      --in_flight;
      freed.notify_one();
    });
    next_arrival += std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(gap(gaps)));
  }
  for (auto& t : threads) t.join();
}

}  // namespace

void check_load_options(const LoadOptions& o) {
  require((o.clients > 0) != (o.request_rate > 0), "give either a number of concurrent clients or a request rate");
  require(o.clients >= 0 && o.request_rate >= 0 && o.max_concurrency >= 0,
          "clients, request rate and max concurrency must not be negative");
  require(o.num_requests > 0 || o.seconds > 0, "give a number of requests or a duration");
  require(o.num_requests >= 0 && o.seconds >= 0, "the number of requests and the duration must not be negative");
  require(o.input_len >= 1 && o.output_len >= 1, "input and output lengths must be at least 1 token");
  require(o.token_lo >= 0 && o.token_lo < o.token_hi, "the prompt token range must be a non-empty range of ids >= 0");
  require(!o.chat || !o.prompts.empty(), "chat requests need text prompts");
  require(o.slo_ttft_ms >= 0 && o.slo_tpot_ms >= 0, "the service-level objectives must not be negative");
  require(o.port >= 1 && o.port <= 65535, "the port must be in 1..65535");
  require(!o.host.empty(), "no host given");
}

LoadReport run_load(const LoadOptions& o, std::vector<RequestTiming>* timings) {
  check_load_options(o);
  Collector collected;
  const auto t0 = Clock::now();
  if (o.clients > 0)
    run_clients(o, t0, collected);
  else
    run_arrivals(o, t0, collected);

  LoadReport report;
  report.client_cpu_seconds = collected.cpu_seconds;
  report.slo_set = o.slo_ttft_ms > 0 || o.slo_tpot_ms > 0;
  std::vector<double> ttft, tpot, itl, e2e;
  double first = 0, last = 0;
  std::set<std::string> errors;
  for (const RequestTiming& r : collected.records) {
    first = report.completed + report.failed == 0 ? r.start : std::min(first, r.start);
    last = std::max(last, r.start + r.e2e);
    if (!r.ok) {
      ++report.failed;
      if (errors.size() < 8) errors.insert(r.error);
      continue;
    }
    ++report.completed;
    report.input_tokens += r.input_tokens;
    report.output_tokens += r.output_tokens;
    ttft.push_back(r.ttft);
    e2e.push_back(r.e2e);
    const double request_tpot = r.output_tokens > 1 ? (r.e2e - r.ttft) / (r.output_tokens - 1) : 0;
    if (r.output_tokens > 1) tpot.push_back(request_tpot);
    const bool ttft_ok = o.slo_ttft_ms <= 0 || 1e3 * r.ttft <= o.slo_ttft_ms;
    if (ttft_ok && (o.slo_tpot_ms <= 0 || 1e3 * request_tpot <= o.slo_tpot_ms)) ++report.within_slo;
    itl.insert(itl.end(), r.itl.begin(), r.itl.end());
  }
  report.errors.assign(errors.begin(), errors.end());
  report.duration = last - first;
  if (report.duration > 0) {
    report.request_throughput = report.completed / report.duration;
    report.output_throughput = static_cast<double>(report.output_tokens) / report.duration;
    report.total_token_throughput = static_cast<double>(report.input_tokens + report.output_tokens) / report.duration;
    report.goodput = report.within_slo / report.duration;
  }
  report.ttft = percentiles(ttft);
  report.tpot = percentiles(tpot);
  report.itl = percentiles(itl);
  report.e2e = percentiles(e2e);
  if (timings) *timings = std::move(collected.records);
  return report;
}

std::string LoadReport::render() const {
  std::string out;
  char line[160];
  const auto add = [&](const char* name, const std::string& value) {
    std::snprintf(line, sizeof line, "  %-36s %s\n", name, value.c_str());
    out += line;
  };
  const auto number = [](double v, const char* format) {
    char buf[64];
    std::snprintf(buf, sizeof buf, format, v);
    return std::string(buf);
  };
  add("requests completed / failed", std::to_string(completed) + " / " + std::to_string(failed));
  add("duration (s)", number(duration, "%.2f"));
  add("input / output tokens", std::to_string(input_tokens) + " / " + std::to_string(output_tokens));
  add("request throughput (req/s)", number(request_throughput, "%.2f"));
  add("output token throughput (tok/s)", number(output_throughput, "%.1f"));
  add("total token throughput (tok/s)", number(total_token_throughput, "%.1f"));
  if (slo_set)
    add("goodput (req/s within the objectives)",
        number(goodput, "%.2f") + " (" + std::to_string(within_slo) + " of " + std::to_string(completed) + ")");
  for (const auto& [name, p] : {std::pair<const char*, const Percentiles&>{"time to first token (ms)", ttft},
                                {"time per output token (ms)", tpot},
                                {"inter-token latency (ms)", itl},
                                {"end-to-end latency (ms)", e2e}})
    add(name, "mean " + number(p.mean, "%.2f") + "  p50 " + number(p.p50, "%.2f") + "  p90 " + number(p.p90, "%.2f") +
                  "  p99 " + number(p.p99, "%.2f"));
  for (const std::string& e : errors) out += "  error: " + e + "\n";
  return out;
}

nlohmann::json LoadReport::to_json() const {
  const auto p = [](const Percentiles& x) {
    return json{{"mean", x.mean}, {"p50", x.p50}, {"p90", x.p90}, {"p99", x.p99}};
  };
  return {{"completed", completed},
          {"failed", failed},
          {"duration_s", duration},
          {"input_tokens", input_tokens},
          {"output_tokens", output_tokens},
          {"request_throughput", request_throughput},
          {"output_throughput", output_throughput},
          {"total_token_throughput", total_token_throughput},
          {"within_slo", within_slo},
          {"goodput", goodput},
          {"ttft_ms", p(ttft)},
          {"tpot_ms", p(tpot)},
          {"itl_ms", p(itl)},
          {"e2e_ms", p(e2e)},
          {"errors", errors},
          {"client_cpu_s", client_cpu_seconds}};
}

}  // namespace slidesparse
