// Small helpers shared by the commands that turn one checkpoint directory into another.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "checkpoint/bitnet_layout.h"
#include "io/safetensors_reader.h"

namespace slidesparse {

// Copies side files (tokenizer, generation config, ...) from `from` to `to`: everything except
// safetensors data, the index, config.json and files the conversion rewrites itself.
void copy_side_files(const std::filesystem::path& from, const std::filesystem::path& to,
                     const std::vector<std::string>& rewritten);

// Checks that every tensor of `layout` is present (with its expected shape unless `check_shapes` is
// false for a role) and that the checkpoint holds nothing else but `extra_allowed` names. Throws
// Error "<dir>: ..." naming the first offending tensor.
void check_tensor_presence(const CheckpointReader& reader, const std::vector<ModelTensor>& layout,
                           const std::vector<std::string>& extra_allowed);

// Throws Error "<dir>: tensor 'x' has shape [..] but config.json implies [..]".
void check_tensor_shape(const CheckpointReader& reader, const TensorRef& tensor,
                        const std::vector<int64_t>& expected);

// Throws Error "<dir>: tensor 'x' has dtype D, expected E".
void check_tensor_dtype(const CheckpointReader& reader, const TensorRef& tensor, DType expected);

}  // namespace slidesparse
