// Starting this program again in place of the current process: same pid, same open console, but a
// fresh address space, so a CUDA context broken by a kernel fault is gone.
#pragma once

#include <string>
#include <vector>

namespace slidesparse {

// Replaces the process with this executable run on `args` (argv[1..]), with `env_name`=`env_value`
// added to the environment. Flushes stdio first. Returns only by throwing Error when exec fails.
[[noreturn]] void restart_process(const std::vector<std::string>& args, const std::string& env_name,
                                  const std::string& env_value);

}  // namespace slidesparse
