// Programmatic dependent launch (PDL, compute capability 9.0+): our kernels are launched so that
// the GPU may start them while the kernel before them in the stream is still finishing, which hides
// the launch and ramp-up gap between dependent kernels (~1-2 us each; a decode step runs ~300 of
// them). The contract that keeps this correct: every kernel launched this way calls
// wait_for_prior_grids() (kernels/dependent_launch.cuh) before it reads or writes any global memory,
// and it does so in every thread block before any early exit. Captured into CUDA graphs, the
// launches become programmatic edges with the same meaning.
#pragma once

namespace slidesparse {

// True on compute capability 9.0+ unless SLIDESPARSE_PDL=0. Decided once per process.
bool dependent_launch_enabled();

}  // namespace slidesparse
