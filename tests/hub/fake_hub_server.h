// A loopback HTTP/1.1 server that mimics the Hugging Face hub's URL layout, for the download tests:
//   GET /api/models/{org}/{name}/revision/{rev}?blobs=true   revision metadata (sha, siblings)
//   GET /{org}/{name}/resolve/{rev}/{path}                    file content, honouring "Range: bytes=N-"
//   GET /cdn/{blob id}                                        the same content, as a redirect target
// with fault injection: transfers cut after N bytes, wrong published hashes, gated repositories,
// files the metadata lists but the server does not have, redirects, ignored ranges, stalls.
// One thread, one connection at a time, "Connection: close" on every answer.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace slidesparse::testing {

struct FakeHubFile {
  std::string path, content;
  bool lfs = false;  // published with lfs.sha256 (else with the git blob id)
};

struct FakeHubRepo {
  std::string id;                                       // "org/name"
  std::string commit;                                   // 40 hex digits
  std::vector<std::string> revisions = {"main"};        // names resolving to the commit
  std::vector<FakeHubFile> files;
  std::string token;                                    // non-empty: gated, 401 without "Bearer <token>"
  std::map<std::string, std::string> published_hash;    // path -> hash published instead of the real one
  std::set<std::string> missing;                        // listed in the metadata, 404 on download
};

struct FakeHubRequest {
  std::string target, range, authorization;
  int status = 0;
};

class FakeHubServer {
 public:
  FakeHubServer();
  ~FakeHubServer();
  FakeHubServer(const FakeHubServer&) = delete;
  FakeHubServer& operator=(const FakeHubServer&) = delete;

  std::string endpoint() const;  // http://127.0.0.1:<port>
  void add_repo(const FakeHubRepo& repo);
  // The next `times` downloads of `path` announce the full length but send `bytes` bytes, then close.
  void cut_transfer(const std::string& path, size_t bytes, int times = 1);
  void ignore_ranges();                             // answer ranged requests with 200 and the whole file
  void redirect_files_to(const std::string& base);  // resolve answers 302 to <base>/cdn/<blob id>
  void stall();                                     // accept connections, never answer
  std::vector<FakeHubRequest> requests() const;

  // The published hash of a file: sha256 (LFS) or git blob sha1 of its content.
  static std::string blob_id(const FakeHubFile& file);

 private:
  void serve();
  void handle(int client);
  int answer(int client, const std::string& target, const std::string& range, const std::string& authorization);
  int send_content(int client, const std::string& path, const std::string& content, const std::string& range);
  int send_error(int client, int status, const std::string& error_code);
  // Records the request being answered (with the status `response` starts with), then sends: a
  // client that has read its answer always finds the request in requests().
  void reply(int client, const std::string& response);

  int port_ = 0;  // before listener_: its initializer sets the port
  int listener_ = -1;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<FakeHubRepo> repos_;
  std::map<std::string, std::pair<size_t, int>> cuts_;  // path -> (bytes, times left)
  bool ignore_ranges_ = false, stall_ = false;
  std::string redirect_base_;
  std::vector<int> stalled_;
  mutable std::mutex requests_mutex_;  // apart from mutex_: answers are sent while answer() holds that
  std::vector<FakeHubRequest> requests_;
  FakeHubRequest pending_;  // the request handle() is answering (server thread only)
  bool pending_recorded_ = true;
  std::thread thread_;  // last: it starts serving at construction and uses everything above
};

// An endpoint on which nothing listens (connection refused).
std::string refused_endpoint();

}  // namespace slidesparse::testing
