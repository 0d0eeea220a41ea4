// `slidesparse pipeline`: the eight tasks of REFERENCE §8 in one process, resumable unit by unit
// (OUT/pipeline_status.json), then the report (OUT/report.md). See pipeline_options.h for what runs.
#pragma once

#include "pipeline/pipeline_options.h"
#include "pipeline/pipeline_status.h"

namespace slidesparse {

struct PipelineOutcome {
  PipelineStatus status;
  bool interrupted = false;  // Ctrl-C: the current task is marked interrupted
  bool failed = false;       // a unit failed or the report could not be written
};

// Runs the selected tasks, skipping units the status file lists as finished with the same options
// (all of them after `restart`), removes what a killed run left behind, writes the report and
// prints a table of tasks. GPU tasks without a CUDA GPU are skipped ("no CUDA GPU"). Throws Error
// for bad options or an OUT that is locked by another pipeline.
PipelineOutcome run_pipeline(const PipelineOptions& options);

}  // namespace slidesparse
