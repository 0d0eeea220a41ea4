// The root of the scaled GEMMs' MLP epilogue (gemm/scaled_gemm.h, ScaledGemm::run_relu2_mul; the
// transposed form for gemm/sparse_scaled_gemm.h at the end): it
// receives the dequantized gate_up values in float and writes BitNet's MLP activation
//   out[m, j] = bf16(bf16(relu(g)^2) * u),  g = bf16(v[m, 2j]), u = bf16(v[m, 2j + 1])
// (math/activation.h, with the dequantization's rounding of g and u: the bits of the unfused
// scaled GEMM followed by the relu2*up norm). The weight's rows are interleaved gate_j, up_j, so
// columns 2j and 2j+1 of the accumulator are one output; on Hopper's warpgroup MMA a thread's
// accumulator fragment holds such column pairs in adjacent registers (asserted at compile time).
// The output is half as wide as the GEMM's N, which neither the TMA store (a box of the tile's
// shape) nor Sm90AuxStore (the tile's layout) can write, so this node stores to global memory
// itself, predicated on the problem's M and N, and the collective's D is void. Included only by
// the sm_90a translation unit.
#pragma once

#include <cuda_bf16.h>

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/fusion/sm90_callbacks_tma_warpspecialized.hpp"
#include "kernels/relu2_mul.cuh"

namespace slidesparse::scaled_gemm_detail {

// What the MLP store nodes share: their arguments (the output and its row length) and the empty
// producer side. HalvedMode is the problem mode whose extent the output halves: 1 (N) for the dense
// GEMM, 0 (M) for the transposed sparse GEMM; that extent must be a multiple of Multiple (two rows
// or columns per output, or whole blocks of 16).
template <int HalvedMode, int Multiple>
struct Relu2MulStoreBase {
  // The collective types its register fragments by the root's ElementAux when D is void.
  using ElementAux = cutlass::bfloat16_t;
  struct SharedStorage {};
  struct Arguments {
    __nv_bfloat16* out = nullptr;  // [tokens, features] row-major
    int64_t ld = 0;                // elements per row of out
  };
  using Params = Arguments;

  template <class ProblemShape>
  static constexpr Params to_underlying_arguments(ProblemShape const&, Arguments const& args, void*) {
    return args;
  }
  template <class ProblemShape>
  static bool can_implement(ProblemShape const& problem, Arguments const& args) {
    const auto halved = cute::get<HalvedMode>(problem);
    return halved % Multiple == 0 && args.out != nullptr && args.ld >= halved / 2;
  }
  template <class ProblemShape>
  static size_t get_workspace_size(ProblemShape const&, Arguments const&) {
    return 0;
  }
  template <class ProblemShape>
  static cutlass::Status initialize_workspace(ProblemShape const&, Arguments const&, void*, cudaStream_t,
                                              cutlass::CudaHostAdapter* = nullptr) {
    return cutlass::Status::kSuccess;
  }

  CUTLASS_HOST_DEVICE Relu2MulStoreBase() {}
  CUTLASS_HOST_DEVICE Relu2MulStoreBase(Params const& params, SharedStorage const&) : params_(&params) {}

  CUTLASS_DEVICE bool is_producer_load_needed() const { return false; }
  CUTLASS_DEVICE bool is_C_load_needed() const { return false; }
  template <class... Args>
  CUTLASS_DEVICE auto get_producer_load_callbacks(cutlass::epilogue::fusion::ProducerLoadArgs<Args...> const&) {
    return cutlass::epilogue::fusion::EmptyProducerLoadCallbacks{};
  }

  // Two outputs from two (gate, up) pairs of dequantized values: their roundings paired (one
  // conversion per two values, on the pipe that issues at an eighth of the FP32 rate), then the
  // activation in bf16x2 arithmetic (kernels/relu2_mul.cuh). Output a in the low half.
  CUTLASS_DEVICE static uint32_t activation_pair(float gate_a, float up_a, float gate_b, float up_b) {
    return relu2_mul_bf16x2(pack_bf16x2(gate_a, gate_b), pack_bf16x2(up_a, up_b));
  }

  // The (m, n) of each accumulator value of this thread: (CPY, CPY_M, CPY_N, EPI_M, EPI_N).
  template <bool ReferenceSrc, class Args>
  CUTLASS_DEVICE static auto value_coordinates(Args const& args) {
    auto [M, N, K, L] = args.problem_shape_mnkl;
    return cutlass::epilogue::fusion::sm90_partition_for_epilogue<ReferenceSrc>(
        cute::make_identity_tensor(cute::make_shape(M, N, L)), args.tile_shape_mnk, args.tile_coord_mnkl,
        args.epi_tile, args.tiled_copy, args.thread_idx);
  }

  // The node's callbacks once layout_holds(coordinates of the first subtile) held on every lane
  // (each node assumes a fragment layout; a tile for which it does not hold traps, and the GPU tests
  // run every compiled tile), with the output aligned for 4-byte stores of pairs.
  template <template <class, class> class Callbacks, bool ReferenceSrc, class Args, class LayoutHolds>
  CUTLASS_DEVICE auto checked_callbacks(Args const& args, LayoutHolds layout_holds) const {
    auto coords = value_coordinates<ReferenceSrc>(args);
    auto problem = cute::make_shape(cute::get<0>(args.problem_shape_mnkl), cute::get<1>(args.problem_shape_mnkl));
    const bool ok = params_->ld % 2 == 0 && reinterpret_cast<uintptr_t>(params_->out) % 4 == 0 &&
                    layout_holds(coords(cute::_, cute::_, cute::_, 0, 0));
    if (!__all_sync(0xffffffffu, ok)) __trap();
    return Callbacks<decltype(coords), decltype(problem)>(coords, problem, params_);
  }

  // A store node's per-thread state: its values' coordinates, the problem's (M, N), the output.
  template <class CoordTensor, class ProblemMN>
  struct CallbacksBase : cutlass::epilogue::fusion::EmptyConsumerStoreCallbacks {
    CUTLASS_DEVICE CallbacksBase(CoordTensor coords, ProblemMN problem, Params const* params)
        : coords_(coords), problem_(problem), params_(params) {}
    CoordTensor coords_;
    ProblemMN problem_;
    Params const* params_;
  };

 protected:
  Params const* params_ = nullptr;
};

struct Sm90Relu2MulStore : Relu2MulStoreBase<1, 2> {
  using Relu2MulStoreBase<1, 2>::Relu2MulStoreBase;

  template <class CoordTensor, class ProblemMN>
  struct ConsumerStoreCallbacks : cutlass::epilogue::fusion::EmptyConsumerStoreCallbacks {
    CUTLASS_DEVICE ConsumerStoreCallbacks(CoordTensor coords, ProblemMN problem, Params const* params, bool quads)
        : coords_(coords), problem_(problem), params_(params), quads_(quads) {}
    CoordTensor coords_;  // (CPY, CPY_M, CPY_N, EPI_M, EPI_N): the (m, n) of each accumulator value of this thread
    ProblemMN problem_;
    Params const* params_;
    bool quads_;  // the fragment layout the quad stores assume holds for this warp (checked at set-up)

    template <class ElementAccumulator, class ElementInput, int FragmentSize>
    CUTLASS_DEVICE cutlass::Array<cutlass::bfloat16_t, FragmentSize> visit(
        cutlass::Array<ElementAccumulator, FragmentSize> const&, int epi_v, int epi_m, int epi_n,
        cutlass::Array<ElementInput, FragmentSize> const& in) {
      static_assert(FragmentSize % 2 == 0, "the fragment must hold whole column pairs");
      auto coords = coords_(cute::_, cute::_, cute::_, epi_m, epi_n);
      const int rows = cute::get<0>(problem_), cols = cute::get<1>(problem_);
      __nv_bfloat16* out = params_->out;
      const int64_t ld = params_->ld;
      if constexpr (FragmentSize % 16 == 0) {
        if (quads_) {
          // Hopper's accumulator layout (stmatrix order): value 4j + 2h + b of each 16 sits at row
          // +8h, column +8j + b of the first, and lane q of a quad starts at column 2q of the same
          // row. So for each row half h lane q holds outputs q, 4 + q, 8 + q, 12 + q of the 16
          // consecutive outputs its quad computes. Lanes e and e + 1 (e even) swap one bf16 pair, so
          // that each holds two pairs of adjacent outputs: lane e stores outputs e, e + 1 and e + 4,
          // e + 5, lane e + 1 outputs e + 8, e + 9 and e + 12, e + 13 (4-byte stores; the quad
          // covers its row's 32 bytes). One shuffle, four selects and two byte permutes per four
          // outputs, addresses from the chunk's first coordinate: the index arithmetic of a general
          // transpose cost more instructions than the activation itself.
          const int q = static_cast<int>(threadIdx.x) & 3;
          const bool odd = q & 1;
          CUTLASS_PRAGMA_UNROLL
          for (int c = 0; c < FragmentSize; c += 16) {
            const auto first = coords(epi_v * FragmentSize + c);
            const int m0 = cute::get<0>(first), n_quad = cute::get<1>(first) - 2 * q;
            const int out0 = n_quad / 2 + (q & 2) + (odd ? 8 : 0);  // this lane's first output column
            const bool whole = m0 + 8 < rows && n_quad + 32 <= cols;
            CUTLASS_PRAGMA_UNROLL
            for (int h = 0; h < 2; ++h) {
              const int v = c + 2 * h;
              const uint32_t low_j = activation_pair(float(in[v]), float(in[v + 1]), float(in[v + 4]), float(in[v + 5]));
              const uint32_t high_j =
                  activation_pair(float(in[v + 8]), float(in[v + 9]), float(in[v + 12]), float(in[v + 13]));
              const uint32_t mine = odd ? high_j : low_j;
              const uint32_t theirs = __shfl_xor_sync(0xffffffffu, odd ? low_j : high_j, 1);
              const uint32_t even_lane = odd ? theirs : mine, odd_lane = odd ? mine : theirs;
              const uint32_t first_pair = __byte_perm(even_lane, odd_lane, 0x5410);
              const uint32_t second_pair = __byte_perm(even_lane, odd_lane, 0x7632);
              const int m = m0 + 8 * h;
              uint32_t* dst = reinterpret_cast<uint32_t*>(out + int64_t{m} * ld + out0);
              if (whole) {
                dst[0] = first_pair;
                dst[2] = second_pair;
              } else if (m < rows) {
                if (2 * out0 < cols) dst[0] = first_pair;
                if (2 * out0 + 8 < cols) dst[2] = second_pair;
              }
            }
          }
          return {};
        }
      }
      CUTLASS_PRAGMA_UNROLL
      for (int i = 0; i < FragmentSize; i += 2) {
        const auto mn = coords(epi_v * FragmentSize + i);
        const int m = cute::get<0>(mn), n = cute::get<1>(mn);  // n even: (n, n + 1) = (gate_j, up_j)
        if (m < rows && n < cols)
          out[int64_t{m} * ld + n / 2] = __ushort_as_bfloat16(
              static_cast<unsigned short>(activation_pair(float(in[i]), float(in[i + 1]), 0.0f, 0.0f)));
      }
      return {};  // D is void: the collective stores nothing of this
    }
  };

  template <bool ReferenceSrc, class... Args>
  CUTLASS_DEVICE auto get_consumer_store_callbacks(
      cutlass::epilogue::fusion::detail::ConsumerStoreArgs<Args...> const& args) {
    auto [M, N, K, L] = args.problem_shape_mnkl;
    static_assert(decltype(cute::get<1>(args.tCcD(cute::_1{})) == cute::_1{})::value,
                  "the accumulator fragment does not hold column pairs in adjacent values");
    auto coords = cutlass::epilogue::fusion::sm90_partition_for_epilogue<ReferenceSrc>(
        cute::make_identity_tensor(cute::make_shape(M, N, L)), args.tile_shape_mnk, args.tile_coord_mnkl,
        args.epi_tile, args.tiled_copy, args.thread_idx);
    auto problem = cute::make_shape(M, N);
    // The quad stores' layout, checked once (the offsets within a subtile are compile-time
    // constants, so this folds but for the lane part): in each 16 values of a subtile the offsets
    // (8h, 8j + b) of value 4j + 2h + b, and lane q of every quad at column 2q of one row.
    auto first = coords(cute::_, cute::_, cute::_, 0, 0);
    bool quads = cute::size(first) % 16 == 0 && N % 8 == 0 && params_->ld % 4 == 0 &&
                 reinterpret_cast<uintptr_t>(params_->out) % 8 == 0;
    const int m0 = cute::get<0>(first(0)), n0 = cute::get<1>(first(0)), q = static_cast<int>(threadIdx.x) & 3;
    CUTLASS_PRAGMA_UNROLL
    for (int i = 0; i < int{cute::size(first)}; ++i) {
      const auto chunk = first(i - i % 16), value = first(i);
      quads = quads && cute::get<0>(value) == cute::get<0>(chunk) + 8 * ((i / 2) % 2) &&
              cute::get<1>(value) == cute::get<1>(chunk) + 8 * ((i % 16) / 4) + i % 2;
    }
    const int lead = (static_cast<int>(threadIdx.x) & ~3);
    const int lead_m = __shfl_sync(0xffffffffu, m0, lead & 31), lead_n = __shfl_sync(0xffffffffu, n0, lead & 31);
    quads = quads && n0 % 8 == 2 * q && lead_m == m0 && lead_n == n0 - 2 * q;
    quads = __all_sync(0xffffffffu, quads);
    return ConsumerStoreCallbacks<decltype(coords), decltype(problem)>(coords, problem, params_, quads);
  }
};

// The same activation for the transposed problem of the sparse scaled GEMM (gemm/sparse_scaled_gemm.h):
// the GEMM's rows are the weight's and its columns the tokens, and the gate_up weight comes in
// blocks of 16 rows, gate_8b+i then up_8b+i at i + 8 (interleave_gate_up_rows with a block of 8). On
// Hopper's warpgroup MMA a thread holds each value at row r and r + 8 of the same column in
// fragment values v and v + 2 (v % 4 < 2), so each thread holds whole (gate, up) pairs; out is
// [tokens, features] row-major, a feature per GEMM row pair and a token per column. The lanes of
// adjacent rows (lane ^ 4) swap one output so that each stores two adjacent features of one token
// in four bytes. The layout is checked once per tile set-up; a tile for which it does not hold
// traps (the GPU tests run every compiled tile).
struct Sm90Relu2MulTransposedStore : Relu2MulStoreBase<0, 16> {
  using Relu2MulStoreBase<0, 16>::Relu2MulStoreBase;

  template <class CoordTensor, class ProblemMN>
  struct ConsumerStoreCallbacks : CallbacksBase<CoordTensor, ProblemMN> {  // coordinates: (row, token)
    using CallbacksBase<CoordTensor, ProblemMN>::CallbacksBase;

    template <class ElementAccumulator, class ElementInput, int FragmentSize>
    CUTLASS_DEVICE cutlass::Array<cutlass::bfloat16_t, FragmentSize> visit(
        cutlass::Array<ElementAccumulator, FragmentSize> const&, int epi_v, int epi_m, int epi_n,
        cutlass::Array<ElementInput, FragmentSize> const& in) {
      static_assert(FragmentSize % 4 == 0, "the fragment must hold whole row pairs of two columns");
      auto coords = this->coords_(cute::_, cute::_, cute::_, epi_m, epi_n);
      const int rows = cute::get<0>(this->problem_), tokens = cute::get<1>(this->problem_);
      __nv_bfloat16* out = this->params_->out;
      const int64_t ld = this->params_->ld;
      CUTLASS_PRAGMA_UNROLL
      for (int v = 0; v < FragmentSize; v += 4) {
        const auto first = coords(epi_v * FragmentSize + v);
        const int row = cute::get<0>(first), token = cute::get<1>(first);
        const int feature = row / 16 * 8 + row % 16;
        const bool odd = feature & 1;  // the lane ^ 4 holds feature ^ 1
        // (token, token + 1) of this feature, token in the low half.
        const uint32_t pair = activation_pair(float(in[v]), float(in[v + 2]), float(in[v + 1]), float(in[v + 3]));
        const uint32_t theirs = __shfl_xor_sync(0xffffffffu, odd ? pair & 0xffffu : pair >> 16, 4);
        // Even lane: features f, f + 1 of its first token; odd lane: f - 1, f of its second.
        const uint32_t word = odd ? theirs | (pair & 0xffff0000u) : (pair & 0xffffu) | (theirs << 16);
        const int store_token = token + (odd ? 1 : 0);
        if (row < rows && store_token < tokens)
          *reinterpret_cast<uint32_t*>(out + int64_t{store_token} * ld + (feature & ~1)) = word;
      }
      return {};  // D is void: the collective stores nothing of this
    }
  };

  template <bool ReferenceSrc, class... Args>
  CUTLASS_DEVICE auto get_consumer_store_callbacks(
      cutlass::epilogue::fusion::detail::ConsumerStoreArgs<Args...> const& args) {
    // Checked on the first subtile (the others differ by whole multiples of 16 rows): value v + 2
    // eight rows below v, v + 1 one column right of it, v in the gate half of its 16-row block, and
    // lane ^ 4 on the next row of the same columns.
    return checked_callbacks<ConsumerStoreCallbacks, ReferenceSrc>(args, [&](auto first) {
      bool ok = cute::size(first) % 4 == 0 && cute::get<0>(args.tile_shape_mnk) % 16 == 0;
      CUTLASS_PRAGMA_UNROLL
      for (int v = 0; v + 3 < int{cute::size(first)}; v += 4) {
        const int row = cute::get<0>(first(v)), col = cute::get<1>(first(v));
        ok = ok && row % 16 < 8 && cute::get<0>(first(v + 2)) == row + 8 && cute::get<1>(first(v + 2)) == col &&
             cute::get<0>(first(v + 1)) == row && cute::get<1>(first(v + 1)) == col + 1 &&
             cute::get<0>(first(v + 3)) == row + 8 && cute::get<1>(first(v + 3)) == col + 1;
      }
      const int row0 = cute::get<0>(first(0)), col0 = cute::get<1>(first(0));
      const int next_row = __shfl_xor_sync(0xffffffffu, row0, 4), next_col = __shfl_xor_sync(0xffffffffu, col0, 4);
      return ok && next_row == (row0 ^ 1) && next_col == col0;
    });
  }
};

// The dense scaled GEMM on the sparse GEMM's gate_up order (blocks of 16 columns, gate_8b+i then
// up_8b+i at i + 8; the dense fallback of a 2:4 linear on the sparse scaled GEMM runs its weight as
// stored). In each 16 fragment values, value 4j + 2h + b sits at column +8j + b, so values v and
// v + 4 (j even) are a (gate, up) pair of one row, and b = 0, 1 two adjacent features: each thread
// stores them in four bytes. Layout checked once per tile set-up, as the transposed node's.
struct Sm90Relu2MulBlockStore : Relu2MulStoreBase<1, 16> {
  using Relu2MulStoreBase<1, 16>::Relu2MulStoreBase;

  template <class CoordTensor, class ProblemMN>
  struct ConsumerStoreCallbacks : CallbacksBase<CoordTensor, ProblemMN> {  // coordinates: (token, column)
    using CallbacksBase<CoordTensor, ProblemMN>::CallbacksBase;

    template <class ElementAccumulator, class ElementInput, int FragmentSize>
    CUTLASS_DEVICE cutlass::Array<cutlass::bfloat16_t, FragmentSize> visit(
        cutlass::Array<ElementAccumulator, FragmentSize> const&, int epi_v, int epi_m, int epi_n,
        cutlass::Array<ElementInput, FragmentSize> const& in) {
      static_assert(FragmentSize % 8 == 0, "the fragment must hold whole gate and up column groups");
      auto coords = this->coords_(cute::_, cute::_, cute::_, epi_m, epi_n);
      const int rows = cute::get<0>(this->problem_), cols = cute::get<1>(this->problem_);
      __nv_bfloat16* out = this->params_->out;
      const int64_t ld = this->params_->ld;
      CUTLASS_PRAGMA_UNROLL
      for (int v = 0; v < FragmentSize; v += 8) {
        CUTLASS_PRAGMA_UNROLL
        for (int h = 0; h < 2; ++h) {
          const int g = v + 2 * h;  // gate of features f, f + 1; their up values at g + 4
          const auto first = coords(epi_v * FragmentSize + g);
          const int row = cute::get<0>(first), col = cute::get<1>(first);
          const uint32_t pair = activation_pair(float(in[g]), float(in[g + 4]), float(in[g + 1]), float(in[g + 5]));
          if (row < rows && col < cols)
            *reinterpret_cast<uint32_t*>(out + int64_t{row} * ld + col / 16 * 8 + col % 16) = pair;
        }
      }
      return {};  // D is void: the collective stores nothing of this
    }
  };

  template <bool ReferenceSrc, class... Args>
  CUTLASS_DEVICE auto get_consumer_store_callbacks(
      cutlass::epilogue::fusion::detail::ConsumerStoreArgs<Args...> const& args) {
    // In each 8 values of the first subtile (the others differ by whole blocks of 16 columns):
    // values 0-3 in the gate half of a 16-column block, 4-7 eight columns right of them, and
    // v + 1 the next column of v's row.
    return checked_callbacks<ConsumerStoreCallbacks, ReferenceSrc>(args, [&](auto first) {
      bool ok = cute::size(first) % 8 == 0 && cute::get<1>(args.tile_shape_mnk) % 16 == 0;
      CUTLASS_PRAGMA_UNROLL
      for (int v = 0; v + 7 < int{cute::size(first)}; v += 8) {
        CUTLASS_PRAGMA_UNROLL
        for (int i = 0; i < 4; ++i) {
          const int row = cute::get<0>(first(v + i)), col = cute::get<1>(first(v + i));
          ok = ok && col % 16 < 8 && cute::get<0>(first(v + i + 4)) == row &&
               cute::get<1>(first(v + i + 4)) == col + 8;
          if (i % 2 == 0)
            ok = ok && col % 2 == 0 && cute::get<0>(first(v + i + 1)) == row &&
                 cute::get<1>(first(v + i + 1)) == col + 1;
        }
      }
      return ok;
    });
  }
};

}  // namespace slidesparse::scaled_gemm_detail
