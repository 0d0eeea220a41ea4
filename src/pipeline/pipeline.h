// `slidesparse pipeline`: the nine tasks of the evaluation in one process, resumable unit by unit
// (OUT/pipeline_status.json), then the report (OUT/report.md). See pipeline_options.h for what runs.
#pragma once

#include <string>

#include "pipeline/pipeline_options.h"
#include "pipeline/pipeline_status.h"

namespace slidesparse {

struct PipelineOutcome {
  PipelineStatus status;
  bool interrupted = false;  // Ctrl-C: the current task is marked interrupted
  bool failed = false;       // a unit failed or the report could not be written
  // A unit broke the process's CUDA context: continue the invocation `run_id` in a fresh process
  // (the unit is recorded as failed; no report was written yet).
  bool needs_fresh_process = false;
  std::string run_id;
};

// Runs the selected tasks, skipping units the status file lists as finished with the same options
// (all of them after `restart`), removes what a killed run left behind, writes the report and
// prints a table of tasks. GPU tasks without a CUDA GPU are skipped ("no CUDA GPU"). Throws Error
// for bad options or an OUT that is locked by another pipeline.
PipelineOutcome run_pipeline(PipelineOptions options);

// A fresh invocation id: 16 hex digits from the system's random source.
std::string new_pipeline_run_id();

}  // namespace slidesparse
