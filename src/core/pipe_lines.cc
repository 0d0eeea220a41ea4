#include "core/pipe_lines.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "core/error.h"

namespace slidesparse {

PipeEnd read_lines(int fd, std::chrono::milliseconds silence, const std::function<void(const std::string&)>& on_line) {
  std::string pending;
  char buffer[4096];
  auto emit_complete_lines = [&] {
    size_t start = 0;
    for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
      std::string line = pending.substr(start, end - start);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      on_line(line);
    }
    pending.erase(0, start);
  };
  const auto deadline_after = [&] { return std::chrono::steady_clock::now() + silence; };
  auto deadline = deadline_after();
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return PipeEnd::Silent;
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail(std::string("reading a child process: poll: ") + std::strerror(errno));
    }
    if (ready == 0) return PipeEnd::Silent;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fail(std::string("reading a child process: read: ") + std::strerror(errno));
    }
    if (n == 0) {
      if (!pending.empty()) on_line(pending);  // a last line without its end of line
      return PipeEnd::Closed;
    }
    pending.append(buffer, static_cast<size_t>(n));
    emit_complete_lines();
    deadline = deadline_after();
  }
}

}  // namespace slidesparse
