#include <cstdio>

#include "checkpoint/inspect.h"
#include "cli/args.h"
#include "cli/commands.h"

namespace slidesparse {

int run_inspect(const CommandArgs& args) {
  ArgParser p("slidesparse inspect",
              "Summarizes a checkpoint: kind, architecture, tensors, dtypes, shapes, scales, per-layer zero\n"
              "fraction and Z:L validity.");
  p.positional("DIR", "checkpoint directory or .safetensors file");
  p.flag("json", "print the summary as JSON");
  if (!p.parse(args)) return 0;
  const nlohmann::json summary = inspect_checkpoint(p.get("DIR"));
  if (p.has("json")) std::printf("%s\n", summary.dump(2).c_str());
  else std::fputs(format_inspection(summary).c_str(), stdout);
  return 0;
}

}  // namespace slidesparse
