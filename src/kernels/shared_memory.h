// Dynamic shared memory above the default 48 KB per block: the device's opt-in limit, and raising a
// kernel's limit. Both are host API calls that launchers would otherwise repeat on every launch
// (~1 us each, a few hundred launches per eager engine step), so each is done once: the limit is
// queried once per process, a kernel's attribute set only when it must grow.
#pragma once

#include <cstddef>

namespace slidesparse {

// cudaDevAttrMaxSharedMemoryPerBlockOptin of the current device, queried once.
size_t device_shared_memory_optin();

// cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, bytes) unless an earlier call already
// allowed at least `bytes` for this kernel. Thread-safe.
void allow_dynamic_shared_memory(const void* kernel, size_t bytes);

}  // namespace slidesparse
