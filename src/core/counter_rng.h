// Counter-based random numbers: the value for element i of stream s depends only on (seed, s, i),
// so generation parallelizes and gives the same bytes on any number of threads.
#pragma once

#include <cstdint>
#include <string_view>

namespace slidesparse {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t counter_hash(uint64_t seed, uint64_t stream, uint64_t index) {
  return splitmix64(splitmix64(seed ^ splitmix64(stream)) + index);
}

// FNV-1a of a name: a stable stream id per tensor.
inline uint64_t stream_id(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001B3ull;
  return h;
}

// Approximately standard normal (Irwin-Hall of four 16-bit uniforms, rescaled to unit variance):
// cheap, bounded at about +-3.46, and bell-shaped enough for latent weights.
inline float approx_normal(uint64_t bits) {
  const uint32_t sum = static_cast<uint32_t>(bits & 0xFFFF) + static_cast<uint32_t>((bits >> 16) & 0xFFFF) +
                       static_cast<uint32_t>((bits >> 32) & 0xFFFF) + static_cast<uint32_t>(bits >> 48);
  constexpr float kMean = 2.0f * 65535.0f;
  constexpr float kInvStd = 1.7320508f / 65535.0f;  // 4 uniforms on [0, 65535]: std = 65535 / sqrt(3)
  return (static_cast<float>(sum) - kMean) * kInvStd;
}

}  // namespace slidesparse
