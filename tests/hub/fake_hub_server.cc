#include "fake_hub_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "hub/content_hash.h"

namespace slidesparse::testing {

namespace {

int listen_on_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("fake hub: socket() failed");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(fd, 16) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("fake hub: cannot listen on 127.0.0.1");
  port = ntohs(address.sin_port);
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the client went away
    sent += static_cast<size_t>(n);
  }
}

std::string status_text(int status) {
  switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 416: return "Range Not Satisfiable";
    default: return "Error";
  }
}

std::string head(int status, const std::vector<std::string>& headers, size_t content_length) {
  std::string text = "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) + "\r\n";
  for (const auto& h : headers) text += h + "\r\n";
  return text + "Content-Length: " + std::to_string(content_length) + "\r\nConnection: close\r\n\r\n";
}


std::string percent_decode(const std::string& text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      decoded += static_cast<char>(std::strtol(text.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

}  // namespace

std::string FakeHubServer::blob_id(const FakeHubFile& file) {
  ContentHasher hasher(file.lfs ? ContentHashKind::sha256 : ContentHashKind::git_blob_sha1, file.content.size());
  hasher.update(file.content.data(), file.content.size());
  return hasher.hex_digest();
}

FakeHubServer::FakeHubServer() : listener_(listen_on_loopback(port_)), thread_([this] { serve(); }) {}

FakeHubServer::~FakeHubServer() {
  stop_ = true;
  thread_.join();
  for (const int fd : stalled_) ::close(fd);
  ::close(listener_);
}

std::string FakeHubServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void FakeHubServer::add_repo(const FakeHubRepo& repo) {
  std::lock_guard lock(mutex_);
  repos_.push_back(repo);
}

void FakeHubServer::cut_transfer(const std::string& path, size_t bytes, int times) {
  std::lock_guard lock(mutex_);
  cuts_[path] = {bytes, times};
}

void FakeHubServer::ignore_ranges() {
  std::lock_guard lock(mutex_);
  ignore_ranges_ = true;
}

void FakeHubServer::redirect_files_to(const std::string& base) {
  std::lock_guard lock(mutex_);
  redirect_base_ = base;
}

void FakeHubServer::stall() {
  std::lock_guard lock(mutex_);
  stall_ = true;
}

std::vector<FakeHubRequest> FakeHubServer::requests() const {
  std::lock_guard lock(requests_mutex_);
  return requests_;
}

void FakeHubServer::serve() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    bool stalled;
    {
      std::lock_guard lock(mutex_);
      stalled = stall_;
      if (stalled) stalled_.push_back(client);
    }
    if (stalled) continue;
    handle(client);
    ::shutdown(client, SHUT_WR);
    ::close(client);
  }
}

void FakeHubServer::handle(int client) {
  std::string request;
  char buffer[4096];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < 65536) {
    pollfd p{client, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0) return;
    const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  const size_t first_space = request.find(' ');
  const size_t second_space = request.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) return;
  FakeHubRequest recorded;
  recorded.target = request.substr(first_space + 1, second_space - first_space - 1);
  size_t line = request.find("\r\n");
  while (line != std::string::npos && line + 2 < request.size()) {
    const size_t end = request.find("\r\n", line + 2);
    const std::string header = request.substr(line + 2, end - line - 2);
    const size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::string name = header.substr(0, colon);
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::string value = header.substr(header.find_first_not_of(' ', colon + 1));
      if (name == "range") recorded.range = value;
      if (name == "authorization") recorded.authorization = value;
    }
    line = end;
  }
  pending_ = recorded;
  pending_recorded_ = false;
  pending_.status = answer(client, recorded.target, recorded.range, recorded.authorization);
  std::lock_guard lock(requests_mutex_);
  if (!pending_recorded_) requests_.push_back(pending_);  // an answer that sent nothing
  pending_recorded_ = true;
}

void FakeHubServer::reply(int client, const std::string& response) {
  {
    std::lock_guard lock(requests_mutex_);
    if (!pending_recorded_) {
      pending_.status = std::atoi(response.c_str() + 9);  // "HTTP/1.1 200 ..."
      requests_.push_back(pending_);
      pending_recorded_ = true;
    }
  }
  send_all(client, response);
}

int FakeHubServer::send_error(int client, int status, const std::string& error_code) {
  const std::string body = R"({"error":")" + error_code + R"("})";
  reply(client, head(status, {"Content-Type: application/json", "X-Error-Code: " + error_code}, body.size()) + body);
  return status;
}

int FakeHubServer::answer(int client, const std::string& target, const std::string& range,
                          const std::string& authorization) {
  std::unique_lock lock(mutex_);
  if (target.starts_with("/cdn/")) {
    const std::string id = target.substr(5);
    for (const auto& repo : repos_)
      for (const auto& file : repo.files)
        if (blob_id(file) == id) {
          lock.unlock();
          return send_content(client, file.path, file.content, range);
        }
    return send_error(client, 404, "EntryNotFound");
  }
  const bool api = target.starts_with("/api/models/");
  const std::string rest = api ? target.substr(12) : target.substr(1);
  const size_t org_end = rest.find('/');
  const size_t name_end = org_end == std::string::npos ? std::string::npos : rest.find('/', org_end + 1);
  if (name_end == std::string::npos) return send_error(client, 404, "RepoNotFound");
  const std::string id = rest.substr(0, name_end);
  const FakeHubRepo* repo = nullptr;
  for (const auto& r : repos_)
    if (r.id == id) repo = &r;
  if (repo == nullptr) return send_error(client, 404, "RepoNotFound");
  if (!repo->token.empty() && authorization != "Bearer " + repo->token) return send_error(client, 401, "GatedRepo");

  const std::string kind = api ? "/revision/" : "/resolve/";
  if (rest.compare(name_end, kind.size(), kind) != 0) return send_error(client, 404, "EntryNotFound");
  std::string revision = rest.substr(name_end + kind.size());
  std::string path;
  if (api) {
    revision = percent_decode(revision.substr(0, revision.find('?')));
  } else {
    const size_t slash = revision.find('/');
    path = percent_decode(revision.substr(slash + 1));
    revision = revision.substr(0, slash);
  }
  bool known = revision == repo->commit;
  for (const auto& r : repo->revisions) known = known || r == revision;
  if (!known) return send_error(client, 404, "RevisionNotFound");

  if (api) {
    nlohmann::json siblings = nlohmann::json::array();
    for (const auto& file : repo->files) {
      const auto published = repo->published_hash.find(file.path);
      const std::string hash = published != repo->published_hash.end() ? published->second : blob_id(file);
      nlohmann::json sibling = {{"rfilename", file.path}, {"size", file.content.size()}};
      if (file.lfs) {
        sibling["blobId"] = std::string(40, 'b');  // the pointer file's id, unused by clients
        sibling["lfs"] = {{"sha256", hash}, {"size", file.content.size()}, {"pointerSize", 134}};
      } else {
        sibling["blobId"] = hash;
      }
      siblings.push_back(sibling);
    }
    const std::string body =
        nlohmann::json{{"_id", "0"}, {"id", repo->id}, {"sha", repo->commit}, {"siblings", siblings}}.dump();
    reply(client, head(200, {"Content-Type: application/json"}, body.size()) + body);
    return 200;
  }
  if (repo->missing.count(path)) return send_error(client, 404, "EntryNotFound");
  for (const auto& file : repo->files) {
    if (file.path != path) continue;
    if (!redirect_base_.empty()) {
      reply(client, head(302, {"Location: " + redirect_base_ + "/cdn/" + blob_id(file)}, 0));
      return 302;
    }
    const FakeHubFile copy = file;
    lock.unlock();
    return send_content(client, copy.path, copy.content, range);
  }
  return send_error(client, 404, "EntryNotFound");
}

int FakeHubServer::send_content(int client, const std::string& path, const std::string& content,
                                const std::string& range) {
  size_t start = 0;
  size_t cut = std::string::npos;
  {
    std::lock_guard lock(mutex_);
    if (!range.empty() && !ignore_ranges_) start = std::strtoull(range.c_str() + 6, nullptr, 10);  // "bytes=N-"
    if (auto it = cuts_.find(path); it != cuts_.end() && it->second.second > 0) {
      cut = it->second.first;
      --it->second.second;
    }
  }
  if (start >= content.size() && start > 0) {
    reply(client, head(416, {"Content-Range: bytes */" + std::to_string(content.size())}, 0));
    return 416;
  }
  const int status = start > 0 ? 206 : 200;
  std::vector<std::string> headers = {"Content-Type: application/octet-stream"};
  if (status == 206)
    headers.push_back("Content-Range: bytes " + std::to_string(start) + "-" + std::to_string(content.size() - 1) +
                      "/" + std::to_string(content.size()));
  const std::string body = content.substr(start);
  reply(client, head(status, headers, body.size()) + body.substr(0, std::min(cut, body.size())));
  return status;
}

std::string refused_endpoint() {
  int port = 0;
  const int fd = listen_on_loopback(port);
  ::close(fd);
  return "http://127.0.0.1:" + std::to_string(port);
}

}  // namespace slidesparse::testing
