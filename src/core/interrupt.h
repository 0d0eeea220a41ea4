// Ctrl-C / SIGTERM handling for long commands: the first signal sets a flag that the writers poll
// between pieces, so the command unwinds through its destructors (removing staging directories)
// and exits with one error line; a second signal terminates at once.
#pragma once

namespace slidesparse {

void install_interrupt_handlers();
bool interrupt_requested();
// Throws Error("interrupted") once a signal arrived.
void throw_if_interrupted();

}  // namespace slidesparse
