// Everything the console shows, also in a log file: stdout and stderr (our prints, the libraries'
// prints, progress bars) go through pipes to a thread that copies them to the terminal and the log.
#pragma once

#include <filesystem>
#include <thread>

namespace slidesparse {

class ConsoleLog {
 public:
  // Appends to `file`. Throws Error naming the file if it cannot be opened.
  explicit ConsoleLog(const std::filesystem::path& file);
  ~ConsoleLog();  // restores stdout / stderr and drains the pipes
  ConsoleLog(const ConsoleLog&) = delete;
  ConsoleLog& operator=(const ConsoleLog&) = delete;

 private:
  int log_fd_ = -1;
  int saved_fd_[2] = {-1, -1};  // the original stdout, stderr
  int read_fd_[2] = {-1, -1};   // read ends of the pipes now behind fds 1 and 2
  std::thread copier_;
};

}  // namespace slidesparse
