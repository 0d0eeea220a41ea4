// The results folder of a benchmark run: a public layout (the CSV layout of the original Python
// benchmark, kept so that its readers work on ours) that people also read with their own tools;
// docs/RESULTS.md describes it. Every folder and file name in it is spelled here and nowhere else:
// the benchmarks write, the pipeline plans and the report reads through these functions.
//
//   <results>/prepare/<checkpoint>.json, convert/<checkpoint>.json
//   <results>/tuning/tuning_db.json, summary.json
//   <results>/throughput_bench/<stage>/<hardware tag>/<backend folder>/BitNet-2B_<stage>.csv
//                                                                       json/BitNet-2B_M<M>.json
//   <results>/kernel_bench/<hardware tag>/<backend label>_layers.csv, totals_<mode>.csv,
//                                          json/<mode>_<backend label>_M<M>.json
//   <results>/eval/<checkpoint>.json
//
// A backend is named by the weights' Sparsity: dense runs cuBLASLt (or the engine's dense GEMM),
// 2:L and 2:inf cuSPARSELt on the 2:4 slide. Throughput folders spell it "cublaslt" |
// "cusparselt/2_L", kernel files "cublaslt" | "cusparselt_2_L": two spellings, both part of the layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "math/sparsity.h"

namespace slidesparse::results_layout {

std::filesystem::path results_dir(const std::filesystem::path& run_dir);  // <run>/results

std::filesystem::path prepare_dir(const std::filesystem::path& results);
std::filesystem::path convert_dir(const std::filesystem::path& results);
std::filesystem::path tuning_dir(const std::filesystem::path& results);
std::filesystem::path tuning_db(const std::filesystem::path& results);       // tuning/tuning_db.json
std::filesystem::path tuning_summary(const std::filesystem::path& results);  // tuning/summary.json
std::filesystem::path throughput_dir(const std::filesystem::path& results);
std::filesystem::path kernel_dir(const std::filesystem::path& results);
std::filesystem::path eval_dir(const std::filesystem::path& results);

// "cublaslt" | "cusparselt/2_L" | "cusparselt/2_inf": a throughput backend's folder.
std::string throughput_backend_folder(Sparsity sparsity);
std::string throughput_sparse_root();  // "cusparselt": the folder of the sparse backends' folders
// "cublaslt" | "cusparselt_2_L" | "cusparselt_2_inf": a kernel backend's file label.
std::string kernel_backend_label(Sparsity sparsity);
// The sparsity of either spelling (the throughput folder as "cusparselt/2_L"); nullopt for anything else.
std::optional<Sparsity> backend_sparsity(const std::string& name);
// "2:L" / "2:inf" as the conversion results spell the sparsity; nullopt otherwise.
std::optional<Sparsity> sparsity_of_text(const std::string& text);

std::string throughput_csv_name(const std::string& stage);  // BitNet-2B_<stage>.csv
// <dir>/json: the per-point JSON files the CSVs of <dir> are rebuilt from.
std::filesystem::path point_json_dir(const std::filesystem::path& dir);
std::filesystem::path throughput_point_json(const std::filesystem::path& dir, int64_t m);
inline constexpr const char* kThroughputPointPrefix = "BitNet-2B_M";
std::filesystem::path kernel_point_json(const std::filesystem::path& dir, const std::string& mode,
                                        const std::string& label, int64_t m);
std::string kernel_layers_csv_name(const std::string& label, const std::string& mode);  // <label>_layers.csv | _square.csv
std::string kernel_totals_csv_name(const std::string& mode);                            // totals_<mode>.csv
// The backend label of a model-mode "<label>_layers.csv"; nullopt for any other file name.
std::optional<std::string> kernel_label_of_layers_csv(const std::string& file_name);

}  // namespace slidesparse::results_layout
