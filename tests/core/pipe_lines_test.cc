// Reading a child's reports: whole lines as they come, the end of the pipe, and silence.
#include "core/pipe_lines.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace slidesparse {
namespace {

using namespace std::chrono_literals;

struct Pipe {
  int read = -1, write = -1;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read = fds[0];
    write = fds[1];
  }
  ~Pipe() {
    if (read >= 0) ::close(read);
    if (write >= 0) ::close(write);
  }
  void put(const std::string& text) const {
    EXPECT_EQ(::write(write, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }
  void close_write() {
    ::close(write);
    write = -1;
  }
};

TEST(ReadLines, LinesSplitAcrossWritesArriveWholeUntilThePipeCloses) {
  Pipe p;
  std::thread writer([&] {
    p.put("try 64 3 al");
    std::this_thread::sleep_for(10ms);
    p.put("g 7\r\ndone {}\n\nlast");
    p.close_write();
  });
  std::vector<std::string> lines;
  const PipeEnd end = read_lines(p.read, 5s, [&](const std::string& l) { lines.push_back(l); });
  writer.join();
  EXPECT_EQ(end, PipeEnd::Closed);
  EXPECT_EQ(lines, (std::vector<std::string>{"try 64 3 alg 7", "done {}", "", "last"}));
}

TEST(ReadLines, AWriterThatGoesQuietIsReportedSilent) {
  Pipe p;
  p.put("try 256 0 alg 1\nhalf a li");
  std::vector<std::string> lines;
  const PipeEnd end = read_lines(p.read, 50ms, [&](const std::string& l) { lines.push_back(l); });
  EXPECT_EQ(end, PipeEnd::Silent);
  EXPECT_EQ(lines, (std::vector<std::string>{"try 256 0 alg 1"}));  // the partial line is dropped
}

TEST(ReadLines, SilenceCountsFromTheLastWriteNotTheStart) {
  Pipe p;
  std::thread writer([&] {
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(40ms);  // each gap under the 200 ms bound, all of them over it
      p.put("tick\n");
    }
    p.close_write();
  });
  int ticks = 0;
  const PipeEnd end = read_lines(p.read, 200ms, [&](const std::string&) { ++ticks; });
  writer.join();
  EXPECT_EQ(end, PipeEnd::Closed);
  EXPECT_EQ(ticks, 5);
}

}  // namespace
}  // namespace slidesparse
