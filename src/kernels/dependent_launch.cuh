// Device and launch side of programmatic dependent launch (kernels/dependent_launch.h).
#pragma once

#include <cuda_runtime.h>

#include <utility>

#include "gpu/cuda_check.h"
#include "kernels/dependent_launch.h"

namespace slidesparse {

// Blocks until the kernels this one depends on have finished and their writes are visible; a
// no-op when the launch was not programmatic or below sm_90. Call it before any global access.
__device__ __forceinline__ void wait_for_prior_grids() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

// The first statement of every kernel launched through launch_dependent(). No kernel of ours calls
// griddepcontrol.launch_dependents: the trigger is then implicit, when every block of this kernel
// has exited, so the next kernel launches as this one finishes and none of its blocks can hold an
// SM that a later wave of this kernel needs; what overlaps is its launch and its blocks' ramp-up up
// to their wait with the end of this kernel (its last writes becoming visible). A trigger at the
// start of each kernel gained less or lost (docs/PERF.md).
__device__ __forceinline__ void begin_dependent_kernel() { wait_for_prior_grids(); }

// kernel<<<grid, block, smem, stream>>>(args...) in thread-block clusters of `cluster` blocks (sm_90
// and later; dim3(1) is a plain launch), programmatic when dependent_launch_enabled() and the stream
// is one the caller created: the legacy default stream synchronizes implicitly with all others, not
// a place to overlap kernels (tests that use it check kernels one at a time). Checks the launch like
// CUDA_CHECK_LAUNCH.
template <typename... Params, typename... Args>
void launch_dependent_cluster(void (*kernel)(Params...), dim3 grid, dim3 cluster, dim3 block, size_t smem,
                              cudaStream_t stream, Args&&... args) {
  cudaLaunchAttribute attributes[2] = {};
  unsigned count = 0;
  if (stream != nullptr && stream != cudaStreamLegacy && dependent_launch_enabled()) {
    attributes[count].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attributes[count++].val.programmaticStreamSerializationAllowed = 1;
  }
  if (cluster.x * cluster.y * cluster.z > 1) {
    attributes[count].id = cudaLaunchAttributeClusterDimension;
    attributes[count].val.clusterDim.x = cluster.x;
    attributes[count].val.clusterDim.y = cluster.y;
    attributes[count++].val.clusterDim.z = cluster.z;
  }
  cudaLaunchConfig_t config{};
  config.gridDim = grid;
  config.blockDim = block;
  config.dynamicSmemBytes = smem;
  config.stream = stream;
  config.attrs = attributes;
  config.numAttrs = count;
  CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...));
}

// launch_dependent_cluster without clusters.
template <typename... Params, typename... Args>
void launch_dependent(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                      Args&&... args) {
  launch_dependent_cluster(kernel, grid, dim3(1), block, smem, stream, std::forward<Args>(args)...);
}

}  // namespace slidesparse
