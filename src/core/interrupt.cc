#include "core/interrupt.h"

#include <csignal>

#include "core/error.h"

namespace slidesparse {

namespace {
volatile std::sig_atomic_t g_interrupted = 0;

void on_signal(int signal) {
  g_interrupted = 1;
  std::signal(signal, SIG_DFL);  // a second signal ends the process immediately
}
}  // namespace

void install_interrupt_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool interrupt_requested() { return g_interrupted != 0; }

void throw_if_interrupted() {
  if (g_interrupted) fail("interrupted");
}

}  // namespace slidesparse
