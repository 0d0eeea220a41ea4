// Dynamic shared memory above the default 48 KB per block: the device's opt-in limit, and raising a
// kernel's limit. Both are host API calls that launchers would otherwise repeat on every launch
// (~1 us each, a few hundred launches per eager engine step), so each is done once: the limit is
// queried once per process, a kernel's attribute set only when it must grow.
#pragma once

#include <cstddef>

namespace slidesparse {

// cudaDevAttrMaxSharedMemoryPerBlockOptin of the current device, queried once.
size_t device_shared_memory_optin();

// Without opting in, a block may use 48 KB of shared memory, static and dynamic together.
inline constexpr size_t kDefaultBlockSharedBytes = 48 * 1024;

// Lets `kernel` (static_bytes of static shared memory per block) launch with `bytes` of dynamic
// shared memory: cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, bytes) where the default
// does not allow it and no earlier call allowed at least as much. It never lowers a kernel's limit:
// setting the attribute to a size within the default would make later, larger launches that the
// default allows invalid. Thread-safe.
void allow_dynamic_shared_memory(const void* kernel, size_t bytes, size_t static_bytes);

}  // namespace slidesparse
