#!/usr/bin/env bash
# On the GPU machine: one slice of `slidesparse pipeline` (all defaults) into /tmp/pipeline-h200, stopped
# with Ctrl-C (SIGINT: the pipeline finishes the unit in hand and saves its status) after SLICE_S
# seconds (default 540, under the device tool's 10-minute limit per command). Call it again on the
# same warm machine and the pipeline resumes where it stopped; each slice copies the report, the
# status file, the log and the result CSVs/JSONs (no checkpoints) to $OUT/pipeline-results.tar.gz.
# Binaries: scripts/build_device.sh (.devbin).
set -uo pipefail
cd "$(dirname "$0")/.."
SLIDESPARSE_BIN_DIR=.devbin source scripts/device_env.sh
run=${PIPELINE_RUN:-/tmp/pipeline-h200}
timeout -s INT -k 60 "${SLICE_S:-540}" .devbin/slidesparse pipeline --out "$run" "$@" 2>&1 | grep -v ETA | tail -40
status=${PIPESTATUS[0]}
echo "pipeline slice exit status $status (124/130: stopped by the slice limit, resumable)"
if [ -n "${OUT:-}" ] && [ -d "$run" ]; then
  (cd "$run" && tar czf "$OUT/pipeline-results.tar.gz" --exclude='*.safetensors' --exclude='models' \
     report.md pipeline_status.json pipeline.log plots results 2>/dev/null)
  ls -la "$OUT/pipeline-results.tar.gz"
fi
