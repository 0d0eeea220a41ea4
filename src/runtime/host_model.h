// A BitNet W8A8 checkpoint read once into host memory, fused per layer (qkv, gate_up) and pinned,
// so that several ModelWeights can be built from it without reading and fusing the files again:
// the throughput benchmark's M sweep gives every engine fresh device weights, compressed weights
// and plans this way (docs/PERF.md: cuSPARSELt plans must not be shared between engines), and
// each build is only the pinned-memory upload and the compression.
#pragma once

#include <filesystem>
#include <vector>

#include "checkpoint/checkpoint_kind.h"
#include "checkpoint/linear_weights.h"
#include "io/model_config.h"
#include "io/safetensors_reader.h"

namespace slidesparse {

class HostModel {
 public:
  // Throws Error naming the directory for a checkpoint the engine cannot run (as ModelWeights).
  // Pinning is best effort: where the driver refuses, uploads come from pageable memory.
  HostModel(const std::filesystem::path& dir, bool sparse_backend);
  ~HostModel();
  HostModel(const HostModel&) = delete;
  HostModel& operator=(const HostModel&) = delete;

  const ModelConfig& config() const { return config_; }
  const CheckpointDescription& description() const { return description_; }
  const CheckpointReader& reader() const { return reader_; }  // bf16 tensors come from the mapped files
  const std::vector<HostLinear>& layer(int64_t layer) const { return layers_.at(static_cast<size_t>(layer)); }
  size_t linear_bytes() const;

 private:
  ModelConfig config_;
  CheckpointReader reader_;
  CheckpointDescription description_;
  std::vector<std::vector<HostLinear>> layers_;
  std::vector<void*> pinned_;
};

}  // namespace slidesparse
