#pragma once

#include "tuning/tuning_db.h"

namespace slidesparse {

// The tag of this machine: GPU, compute capability, driver, CUDA runtime, cuBLASLt and (when it can
// be loaded) cuSPARSELt versions.
HardwareTag current_hardware_tag();

}  // namespace slidesparse
