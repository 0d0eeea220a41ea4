#include "pipeline/console_log.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace slidesparse {

namespace {

void write_all(int fd, const char* data, ssize_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, static_cast<size_t>(size));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed terminal must not stop the run; the log still gets it
    data += n;
    size -= n;
  }
}

}  // namespace

ConsoleLog::ConsoleLog(const std::filesystem::path& file) {
  log_fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd_ < 0) fail(file.string() + ": cannot open log: " + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  for (int i = 0; i < 2; ++i) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) fail(std::string("cannot create a pipe for the log: ") + std::strerror(errno));
    saved_fd_[i] = ::fcntl(i + 1, F_DUPFD_CLOEXEC, 3);
    read_fd_[i] = fds[0];
    ::dup2(fds[1], i + 1);
    ::close(fds[1]);
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a pipe would make stdout fully buffered
  copier_ = std::thread([this] {
    pollfd polls[2] = {{read_fd_[0], POLLIN, 0}, {read_fd_[1], POLLIN, 0}};
    int open = 2;
    char buffer[1 << 14];
    while (open > 0) {
      if (::poll(polls, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < 2; ++i) {
        if (polls[i].fd < 0 || polls[i].revents == 0) continue;
        const ssize_t n = ::read(polls[i].fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          polls[i].fd = -1;
          --open;
          continue;
        }
        write_all(saved_fd_[i], buffer, n);
        write_all(log_fd_, buffer, n);
      }
    }
  });
}

ConsoleLog::~ConsoleLog() {
  std::fflush(stdout);
  std::fflush(stderr);
  for (int i = 0; i < 2; ++i) ::dup2(saved_fd_[i], i + 1);  // closes the pipes' write ends: the copier sees EOF
  copier_.join();
  for (int i = 0; i < 2; ++i) {
    ::close(saved_fd_[i]);
    ::close(read_fd_[i]);
  }
  ::close(log_fd_);
}

}  // namespace slidesparse
