// The benchmark CSVs are views of the per-point JSON files beside them: every finished point writes
// its JSON atomically, then the CSV is rebuilt from all JSONs in the folder. An interrupted sweep,
// a resumed one or a rerun of some points therefore never leaves a half-written or duplicated row.
// The files' names and places: io/results_layout.h. Plain C++ (no CUDA): the pipeline and its CPU
// tests use it too.
#pragma once

#include <filesystem>
#include <string>

namespace slidesparse {

// Rewrites <dir>/BitNet-2B_<stage>.csv (the reference's columns) from <dir>/json/BitNet-2B_M*.json,
// rows ascending by M. Throws Error naming a malformed JSON file.
void write_throughput_csv(const std::filesystem::path& dir, const std::string& stage);

// Rewrites <dir>/<label>_layers.csv (square mode: <label>_square.csv) for every backend label that has points of `mode`, and
// <dir>/totals_<mode>.csv: per M the summed layer latencies of each backend (cublaslt first, then
// cuSPARSELt by L, 2:inf last; empty where a backend lacks that M) and speedups over cublaslt.
void write_kernel_csvs(const std::filesystem::path& dir, const std::string& mode);

}  // namespace slidesparse
