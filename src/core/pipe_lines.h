// Reading a child process's reports line by line without trusting it to finish: a child stuck in a
// GPU kernel that never returns writes nothing more and never exits, so the reader gives up after a
// stretch of silence instead of blocking forever.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace slidesparse {

enum class PipeEnd { Closed, Silent };

// Calls on_line for each line read from fd (without its end of line) until the writer closes the
// pipe (Closed) or nothing arrives for `silence` (Silent; what is left of a partial line is dropped).
// Does not close fd. Throws Error when reading fails.
PipeEnd read_lines(int fd, std::chrono::milliseconds silence, const std::function<void(const std::string&)>& on_line);

}  // namespace slidesparse
