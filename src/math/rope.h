// Rotary position embedding exactly as transformers' default rope (Llama / BitNet) computes it in a
// bf16 model:
//   inv_freq[i] = 1 / theta^(float(2i) / head_dim)           (fp32, i < head_dim / 2)
//   angle       = float(position) * inv_freq[i]                 (fp32)
//   cos, sin    = bf16(cosf(angle)), bf16(sinf(angle))          (the table, shared by CPU and GPU)
//   out[i]      = bf16(bf16(x[i] * cos[i]) + bf16(rot(x)[i] * sin[i]))
// with rot(x) = rotate_half(x) = [-x[d/2:], x[:d/2]] and cos/sin indexed by i mod d/2. The table is
// computed once on the host and uploaded, so GPU and CPU use the same bits.
#pragma once

#include <cstdint>
#include <vector>

namespace slidesparse {

struct RopeTable {
  int head_dim = 0;
  int max_positions = 0;
  std::vector<uint16_t> cos, sin;  // bf16 bits [max_positions][head_dim / 2]
};

RopeTable make_rope_table(int head_dim, int max_positions, double theta);

// Rotates one head vector (head_dim bf16 values) in place for `position`.
void apply_rope(const RopeTable& table, int position, uint16_t* x);

}  // namespace slidesparse
