// `slidesparse bench serve`: load on a running OpenAI-compatible server (ours or another), as
// serve/load_client.h describes; the summary printed, and written as JSON with --out.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/engine_args.h"
#include "core/error.h"
#include "serve/load_client.h"

namespace slidesparse {

namespace {

// "http://HOST[:PORT][/v1[/]]" -> host and port (80 when absent).
void parse_url(const std::string& url, LoadOptions& o) {
  const std::string scheme = "http://";
  require(url.rfind("https://", 0) != 0, "--url: https is not supported (plain HTTP only), got '" + url + "'");
  require(url.rfind(scheme, 0) == 0, "--url must start with http://, got '" + url + "'");
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  const std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  require(path.empty() || path == "/" || path == "/v1" || path == "/v1/",
          "--url: give the server's address (http://HOST:PORT, optionally ending in /v1), got '" + url + "'");
  rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  const bool bracketed = !rest.empty() && rest.front() == '[';  // [IPv6]:port
  if (colon != std::string::npos && (!bracketed || rest[colon - 1] == ']')) {
    const std::string port = rest.substr(colon + 1);
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    require(!port.empty() && *end == '\0' && p >= 1 && p <= 65535, "--url: bad port in '" + url + "'");
    o.port = static_cast<int>(p);
    rest = rest.substr(0, colon);
  } else {
    o.port = 80;
  }
  if (bracketed) rest = rest.substr(1, rest.size() - 2);
  require(!rest.empty(), "--url: no host in '" + url + "'");
  o.host = rest;
}

}  // namespace

int run_bench_serve(const CommandArgs& args) {
  ArgParser p("slidesparse bench serve",
              "Load on a running OpenAI-compatible server: streaming /v1/completions requests whose prompts are\n"
              "--input-len random token ids (or the lines of --prompts-file, also as --chat) and which generate\n"
              "--output-len tokens each (ignore_eos), sent by\n"
              "--clients concurrent clients back to back or arriving at --request-rate per second (Poisson).\n"
              "Prints requests and tokens per second and the time to first token, time per output token,\n"
              "inter-token latency and end-to-end latency (mean, p50, p90, p99) as the clients saw them.\n"
              "Exit status 1 if any request failed (the distinct errors are printed).");
  p.option("url", "URL", "the server (http://HOST:PORT, optionally ending in /v1)", "http://127.0.0.1:8000");
  p.option("model", "NAME", "the model id to send (default: none; a server of one model takes any)");
  p.option("api-key", "KEY", "sent as \"Authorization: Bearer KEY\" (default: SLIDESPARSE_API_KEY if set)");
  p.option("clients", "N", "concurrent clients, each sending its next request when its last one ended", "0");
  p.option("request-rate", "R", "requests per second arriving as a Poisson process (instead of --clients)", "0");
  p.option("max-concurrency", "N", "with --request-rate: at most N requests in flight (0: no limit)", "0");
  p.option("num-requests", "N", "requests to send (0: as many as --seconds allows)", "0");
  p.option("seconds", "S", "how long to keep sending (0: until --num-requests); requests in flight finish", "0");
  p.option("input-len", "N", "prompt tokens per request", "32");
  p.option("output-len", "N", "generated tokens per request", "128");
  p.option("token-range", "LO,HI", "prompt token ids are drawn from [LO, HI)", "1000,10000");
  p.option("prompts-file", "FILE",
           "text prompts, one a line, taken in turn instead of random ids (--input-len and --token-range unused)");
  p.flag("chat", "with --prompts-file: each prompt a user message to /v1/chat/completions");
  p.flag("keep-alive", "each client keeps one connection (default: a connection per request)");
  p.option("slo-ttft-ms", "MS", "goodput: a request counts if its time to first token is within MS (0: any)", "0");
  p.option("slo-tpot-ms", "MS", "goodput: ... and its time per output token within MS (0: any)", "0");
  p.option("seed", "N", "seed of the prompts and arrival times", "0");
  p.option("out", "FILE", "also write the summary as JSON");
  if (!p.parse(args)) return 0;
  LoadOptions o;
  parse_url(p.get("url"), o);
  if (p.has("model")) o.model = p.get("model");
  if (p.has("api-key"))
    o.api_key = p.get("api-key");
  else if (const char* key = std::getenv("SLIDESPARSE_API_KEY"))
    o.api_key = key;
  o.clients = static_cast<int>(p.get_int("clients"));
  o.request_rate = parse_double("request-rate", p.get("request-rate"));
  o.max_concurrency = static_cast<int>(p.get_int("max-concurrency"));
  o.num_requests = static_cast<int>(p.get_int("num-requests"));
  o.seconds = parse_double("seconds", p.get("seconds"));
  o.input_len = static_cast<int>(p.get_int("input-len"));
  o.output_len = static_cast<int>(p.get_int("output-len"));
  const std::vector<int64_t> range = parse_int_list("token-range", p.get("token-range"));
  require(range.size() == 2, "--token-range expects LO,HI, got '" + p.get("token-range") + "'");
  require(range[0] >= 0 && range[1] <= INT32_MAX, "--token-range: ids must be in [0, 2^31)");
  o.token_lo = static_cast<int32_t>(range[0]);
  o.token_hi = static_cast<int32_t>(range[1]);
  o.keep_alive = p.has("keep-alive");
  o.slo_ttft_ms = parse_double("slo-ttft-ms", p.get("slo-ttft-ms"));
  o.slo_tpot_ms = parse_double("slo-tpot-ms", p.get("slo-tpot-ms"));
  o.chat = p.has("chat");
  require(!o.chat || p.has("prompts-file"), "--chat goes with --prompts-file");
  if (p.has("prompts-file")) {
    std::ifstream in(p.get("prompts-file"));
    require(in.good(), "--prompts-file: cannot read " + p.get("prompts-file"));
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) o.prompts.push_back(line);
    require(!o.prompts.empty(), "--prompts-file: no prompt in " + p.get("prompts-file"));
  }
  o.seed = p.get_uint("seed");
  try {
    check_load_options(o);
  } catch (const Error& e) {
    fail(std::string("bench serve: ") + e.what() +
         " (--clients or --request-rate, --num-requests or --seconds, --input-len, --output-len, --token-range)");
  }
  const std::string prompts = o.prompts.empty() ? std::to_string(o.input_len) + " random prompt tokens"
                                                : std::to_string(o.prompts.size()) + " text prompts" +
                                                      (o.chat ? " as chat" : "");
  std::printf("bench serve: http://%s:%d, %s, %s, %d generated tokens per request\n", o.host.c_str(), o.port,
              o.clients > 0 ? ("concurrent clients " + std::to_string(o.clients)).c_str()
                            : ("requests per second " + std::to_string(o.request_rate)).c_str(),
              prompts.c_str(), o.output_len);
  const LoadReport report = run_load(o);
  std::fputs(report.render().c_str(), stdout);
  if (p.has("out")) {
    const std::filesystem::path out = p.get("out");
    const std::filesystem::path tmp = out.string() + ".tmp";
    {
      std::ofstream f(tmp);
      f << report.to_json().dump(2) << "\n";
      require(f.good(), "bench serve: cannot write " + tmp.string());
    }
    std::filesystem::rename(tmp, out);
  }
  return report.failed == 0 && report.completed > 0 ? 0 : 1;
}

}  // namespace slidesparse
