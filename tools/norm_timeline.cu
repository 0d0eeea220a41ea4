// Where a row kernel's time goes, block by block: the INT8 tensor norm (each row in registers, as
// the engine runs it on BitNet's K = 2560; normN: its weight loaded at stage N of
// kWeightLoadStage) and a copy of the same rows with the same grid (16-byte loads of the bf16 row,
// all in flight, half the bytes written) each stamp every block's start and end with %globaltimer
// and its SM. Printed per row count and launch: the event-timed launch, the span from the first
// block's start to the last block's end, when the last block started, block durations (first wave
// and the rest), the launch's bandwidth against the measured copy ceiling, and the bandwidth of the
// middle 80% of the span. The part of the launch outside the span is launch and drain; the part of
// the span after the last start is the tail.
//
//   norm_timeline [--m-list 512,4096,16384,65536]
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/device_ceilings.h"
#include "bench/gpu_timer.h"
#include "bench/random_fill.h"
#include "core/error.h"
#include "gpu/cuda_check.h"
#include "gpu/device_buffer.h"
#include "gpu/device_info.h"
#include "kernels/norm_quant_registers.cuh"
#include "tools/probe_support.h"

using namespace slidesparse;
using quant_kernels::NormArgs;

namespace {

constexpr int kK = 2560;

struct BlockStamp {
  unsigned long long start, end;
  unsigned sm, pad;
};

__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

__device__ __forceinline__ void stamp_start(unsigned long long* start) {
  if (threadIdx.x == 0) *start = global_ns();
}

__device__ __forceinline__ void stamp_end(unsigned long long start, BlockStamp* stamps) {
  __syncthreads();
  if (threadIdx.x == 0) {
    unsigned sm;
    asm volatile("mov.u32 %0, %%smid;" : "=r"(sm));
    stamps[blockIdx.x] = {start, global_ns(), sm, 0};
  }
}

template <int kChunks, int kWeightStage>
__global__ void __launch_bounds__(quant_kernels::register_norm_max_threads(kChunks, 1))
    timed_norm(const NormArgs a, BlockStamp* stamps) {
  unsigned long long start = 0;
  stamp_start(&start);
  quant_kernels::register_norm_block<true, kChunks, quant_kernels::TensorRows, kWeightStage>(a);
  stamp_end(start, stamps);
}

// The same rows' bytes moved without the arithmetic: each team reads its bf16 row with every load in
// flight and writes one byte per value.
template <int kChunks>
__global__ void __launch_bounds__(quant_kernels::register_norm_max_threads(kChunks, 1))
    timed_copy(const NormArgs a, BlockStamp* stamps) {
  unsigned long long start = 0;
  stamp_start(&start);
  const quant_kernels::TeamRow position = quant_kernels::team_row(a.q.team);
  const int k_chunks = a.q.k / 8;
  const uint4* x = reinterpret_cast<const uint4*>(a.q.x + position.row * a.q.k);
  uint2* out = reinterpret_cast<uint2*>(a.q.out + position.row * a.q.out_cols);
  uint4 v[kChunks];
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c = position.t + j * a.q.team;
    v[j] = c < k_chunks ? x[c] : make_uint4(0, 0, 0, 0);
  }
#pragma unroll
  for (int j = 0; j < kChunks; ++j) {
    const int c = position.t + j * a.q.team;
    if (c < k_chunks) out[c] = make_uint2(v[j].x ^ v[j].y, v[j].z ^ v[j].w);
  }
  stamp_end(start, stamps);
}

struct Launch {
  int threads, rows_per_block;
};

using Kernel = void (*)(NormArgs, BlockStamp*);

// variant: 0-3 the tensor norm with its weight loaded at that stage (kWeightLoadStage), 4 the copy.
constexpr int kVariants = 5;

template <int kChunks>
Kernel kernel_of(int variant) {
  switch (variant) {
    case 0: return timed_norm<kChunks, 0>;
    case 1: return timed_norm<kChunks, 1>;
    case 2: return timed_norm<kChunks, 2>;
    case 3: return timed_norm<kChunks, 3>;
    default: return timed_copy<kChunks>;
  }
}

Kernel kernel_for(int variant, int chunks) {
  switch (chunks) {
    case 3: return kernel_of<3>(variant);
    case 5: return kernel_of<5>(variant);
    case 10: return kernel_of<10>(variant);
    default: fail("norm_timeline: no kernel for " + std::to_string(chunks) + " chunks per thread");
  }
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void report(const char* what, int64_t m, Launch launch, double event_us, const std::vector<BlockStamp>& s,
            int resident_blocks, double copy_gbps) {
  unsigned long long first = ~0ull, last_start = 0, last_end = 0;
  for (const BlockStamp& b : s) {
    first = std::min(first, b.start);
    last_start = std::max(last_start, b.start);
    last_end = std::max(last_end, b.end);
  }
  const double span = (last_end - first) / 1e3;
  const size_t wave = std::min(s.size(), static_cast<size_t>(resident_blocks));
  std::vector<double> first_wave, rest;
  for (size_t i = 0; i < s.size(); ++i) (i < wave ? first_wave : rest).push_back((s[i].end - s[i].start) / 1e3);
  // Bytes of the blocks that ran wholly inside the middle 80% of the span, over that window.
  const double lo = first + 0.1 * (last_end - first), hi = first + 0.9 * (last_end - first);
  double middle_bytes = 0;
  const double block_bytes = 3.0 * kK * launch.rows_per_block;  // bf16 in, one byte out per value
  for (const BlockStamp& b : s)
    if (b.start >= lo && b.end <= hi) middle_bytes += block_bytes;
  const double launch_gbps = block_bytes * s.size() / event_us / 1e3;
  std::printf("%-6s M=%6lld %4dx%d | launch %7.1f us, span %7.1f, last start at %7.1f | "
              "block us p50/p90 first wave %5.2f/%5.2f, rest %5.2f/%5.2f | %5.0f GB/s launch (%4.1f%% of copy), "
              "%5.0f middle\n",
              what, static_cast<long long>(m), launch.threads, launch.rows_per_block, event_us, span,
              (last_start - first) / 1e3, percentile(first_wave, 0.5), percentile(first_wave, 0.9),
              rest.empty() ? 0.0 : percentile(rest, 0.5), rest.empty() ? 0.0 : percentile(rest, 0.9),
              launch_gbps, 100.0 * launch_gbps / copy_gbps, middle_bytes / ((hi - lo) / 1e3) / 1e3);
}

}  // namespace

int main(int argc, char** argv) try {
  const std::vector<int64_t> ms =
      probe::parse_m_list(argc, argv, "512,4096,16384,65536", "norm_timeline [--m-list 512,16384,...]");
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const DeviceCeilings& ceilings = device_ceilings(stream);
  const int sm_count = query_device().sm_count;
  std::printf("ceilings: %s\n", ceilings.describe().c_str());
  const Launch launches[] = {{128, 1}, {128, 2}, {128, 4}, {256, 8}};
  for (int64_t m : ms) {
    DeviceBuffer x(size_t(m) * kK * 2, "x"), out(size_t(m) * kK, "codes"), scale(size_t(m) * 4, "scales");
    DeviceBuffer weight(kK * 2, "weight");
    fill_random_bf16_gpu(x.data(), m * kK, 1, stream);
    fill_random_bf16_gpu(weight.data(), kK, 2, stream);
    for (const Launch& launch : launches) {
      if (m % launch.rows_per_block != 0) continue;
      NormArgs a{};
      a.q.x = static_cast<const __nv_bfloat16*>(x.data());
      a.q.out = out.as<uint8_t>();
      a.q.scale = scale.as<float>();
      a.q.rows = a.q.rows_padded = m;
      a.q.k = a.q.out_cols = kK;
      a.q.team = launch.threads / launch.rows_per_block;
      a.q.vector_loads = true;
      a.weight = static_cast<const __nv_bfloat16*>(weight.data());
      a.eps = 1e-5f;
      const int chunks = (kK / 8 + a.q.team - 1) / a.q.team;
      const unsigned blocks = static_cast<unsigned>(m / launch.rows_per_block);
      DeviceBuffer stamps(size_t(blocks) * sizeof(BlockStamp), "stamps");
      for (int variant = 0; variant < kVariants; ++variant) {
        const char* names[kVariants] = {"norm0", "norm1", "norm2", "norm3", "copy"};
        const char* what = names[variant];
        const Kernel kernel = kernel_for(variant, chunks);
        const size_t smem = variant == 3 ? kK / 8 * sizeof(uint4) : 0;
        int blocks_per_sm = 0;
        CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks_per_sm, kernel, launch.threads, smem));
        BlockStamp* stamp_data = stamps.as<BlockStamp>();
        const double us = time_launches_us(
            [&] { kernel<<<blocks, launch.threads, smem, stream>>>(a, stamp_data); }, 5, 50, stream);
        CUDA_CHECK(cudaGetLastError());
        kernel<<<blocks, launch.threads, smem, stream>>>(a, stamp_data);
        CUDA_CHECK(cudaStreamSynchronize(stream));
        std::vector<BlockStamp> host(blocks);
        CUDA_CHECK(cudaMemcpy(host.data(), stamp_data, stamps.bytes(), cudaMemcpyDeviceToHost));
        report(what, m, launch, us, host, blocks_per_sm * sm_count, ceilings.copy_gbps);
      }
    }
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "norm_timeline: %s\n", e.what());
  return 1;
}
