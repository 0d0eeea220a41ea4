#include "hub/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "core/error.h"
#include "core/interrupt.h"

namespace slidesparse {

namespace {

constexpr size_t kErrorBodyLimit = 4096;

struct Transfer {
  const HttpBodySink* sink = nullptr;
  HttpResponse response;
  long current_status = 0;
  std::map<std::string, std::string> current_headers;
  bool began = false, sink_refused = false;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Called once per header line of every response in a redirect chain; a status line starts a new
// response, so only the final one's headers remain.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::string line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t.current_headers.clear();
    const size_t space = line.find(' ');
    t.current_status = space == std::string::npos ? 0 : std::atol(line.c_str() + space + 1);
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string value = line.substr(colon + 1);
    const size_t begin = value.find_first_not_of(" \t");
    const size_t end = value.find_last_not_of(" \t\r\n");
    value = begin == std::string::npos ? "" : value.substr(begin, end - begin + 1);
    t.current_headers[lower(line.substr(0, colon))] = value;
  }
  return size * count;
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const size_t bytes = size * count;
  if (t.current_status < 200 || t.current_status > 299) {
    const size_t room = kErrorBodyLimit - std::min(kErrorBodyLimit, t.response.error_body.size());
    t.response.error_body.append(data, std::min(room, bytes));
    return bytes;
  }
  if (!t.began) {
    t.began = true;
    t.response.status = t.current_status;
    t.response.headers = t.current_headers;
    if (t.sink->begin && !t.sink->begin(t.response)) return t.sink_refused = true, 0;
  }
  if (!t.sink->write(data, bytes)) return t.sink_refused = true, 0;
  return bytes;
}

int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return interrupt_requested() ? 1 : 0; }

HttpOutcome classify(CURLcode code) {
  switch (code) {
    case CURLE_OK: return HttpOutcome::ok;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT: return HttpOutcome::connect;
    case CURLE_OPERATION_TIMEDOUT: return HttpOutcome::timeout;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return HttpOutcome::cut;
    case CURLE_WRITE_ERROR: return HttpOutcome::write;
    case CURLE_ABORTED_BY_CALLBACK: return HttpOutcome::interrupted;
    default: return HttpOutcome::other;
  }
}

}  // namespace

HttpClient::HttpClient(long timeout_seconds) : timeout_seconds_(timeout_seconds) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
  require(curl_ != nullptr, "cannot initialise libcurl");
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

HttpResponse HttpClient::get(const std::string& url, const std::vector<std::string>& headers,
                             const HttpBodySink& sink) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  Transfer transfer;
  transfer.sink = &sink;
  curl_slist* header_list = nullptr;
  for (const auto& h : headers) header_list = curl_slist_append(header_list, h.c_str());
  char error_text[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, header_list);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "slidesparse/1 (huggingface_hub-compatible)");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout_seconds_);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, timeout_seconds_);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(header_list);

  HttpResponse response = std::move(transfer.response);
  if (!transfer.began) {  // no 2xx body byte: the final response is the last one seen
    response.status = transfer.current_status;
    response.headers = transfer.current_headers;
  }
  response.outcome = transfer.sink_refused ? HttpOutcome::write : classify(code);
  if (code != CURLE_OK) response.transport_message = error_text[0] ? error_text : curl_easy_strerror(code);
  return response;
}

HttpResponse HttpClient::get_text(const std::string& url, const std::vector<std::string>& headers,
                                  std::string& body) {
  body.clear();
  HttpBodySink sink;
  sink.write = [&body](const char* data, size_t size) {
    body.append(data, size);
    return true;
  };
  return get(url, headers, sink);
}

std::string url_encode(const std::string& text, bool keep_slashes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slashes && c == '/')) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return encoded;
}

}  // namespace slidesparse
