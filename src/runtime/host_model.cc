#include "runtime/host_model.h"

#include <cuda_runtime.h>

#include "checkpoint/bitnet_layout.h"

namespace slidesparse {

HostModel::HostModel(const std::filesystem::path& dir, bool sparse_backend)
    : config_(load_model_config(dir / "config.json")), reader_(dir) {
  description_ = require_engine_checkpoint(config_, reader_, sparse_backend);
  bitnet_tensors(config_);  // validates that the config is BitNet-shaped
  for (int64_t layer = 0; layer < config_.num_hidden_layers; ++layer)
    layers_.push_back(load_layer_linears(reader_, config_, description_, static_cast<int>(layer)));
  for (auto& linears : layers_)
    for (HostLinear& l : linears) {
      if (l.codes.empty()) continue;
      if (cudaHostRegister(l.codes.data(), l.codes.size(), cudaHostRegisterDefault) == cudaSuccess) {
        pinned_.push_back(l.codes.data());
      } else {
        cudaGetLastError();  // not sticky: pageable uploads still work
      }
    }
}

HostModel::~HostModel() {
  for (void* p : pinned_) cudaHostUnregister(p);
}

size_t HostModel::linear_bytes() const {
  size_t total = 0;
  for (const auto& linears : layers_)
    for (const HostLinear& l : linears) total += l.codes.size() + l.scale.size() * sizeof(float);
  return total;
}

}  // namespace slidesparse
