// The tensor-core peaks benchmarks report against: datasheet figures for known GPUs, keyed by name
// and SM count, else an estimate from the architecture, SM count and maximum SM clock.
#include "bench/device_ceilings.h"

#include <gtest/gtest.h>

namespace slidesparse {
namespace {

DeviceInfo device(const std::string& name, int cc, int sms, int clock_mhz) {
  DeviceInfo d;
  d.name = name;
  d.cc_major = cc / 10;
  d.cc_minor = cc % 10;
  d.sm_count = sms;
  d.sm_clock_khz = clock_mhz * 1000;
  return d;
}

TEST(TensorPeaks, H200AndH100SxmShareTheDatasheetPeaks) {
  for (const char* name : {"NVIDIA H200", "NVIDIA H100 80GB HBM3"}) {
    const TensorPeaks p = tensor_peaks(device(name, 90, 132, 1980));
    EXPECT_EQ(p.int8_tops, 1979) << name;
    EXPECT_EQ(p.fp8_tops, 1979) << name;
    EXPECT_EQ(p.bf16_tflops, 989) << name;
    EXPECT_EQ(p.source, "datasheet") << name;
  }
}

TEST(TensorPeaks, ThePcieH100IsToldApartByItsSmCount) {
  const TensorPeaks p = tensor_peaks(device("NVIDIA H100 PCIe", 90, 114, 1755));
  EXPECT_EQ(p.int8_tops, 1513);
  EXPECT_EQ(p.bf16_tflops, 756);
}

TEST(TensorPeaks, UnknownGpusAreEstimatedFromTheirClocks) {
  const TensorPeaks hopper = tensor_peaks(device("NVIDIA Hopper Engineering Sample", 90, 100, 1500));
  EXPECT_DOUBLE_EQ(hopper.int8_tops, 8192 * 100 * 1.5e9 / 1e12);
  EXPECT_DOUBLE_EQ(hopper.bf16_tflops, 4096 * 100 * 1.5e9 / 1e12);
  EXPECT_EQ(hopper.source, "estimated: 100 SMs x 1500 MHz");
  const TensorPeaks ampere = tensor_peaks(device("NVIDIA RTX A6000", 86, 84, 1800));
  EXPECT_EQ(ampere.fp8_tops, 0);  // no FP8 tensor cores before cc 8.9
  EXPECT_EQ(tensor_peaks(device("Tesla T4", 75, 40, 1590)).int8_tops, 0);
}

TEST(DeviceCeilings, DescribeNamesEveryCeilingAndItsSource) {
  DeviceCeilings c;
  c.gpu = "NVIDIA H200";
  c.peaks = tensor_peaks(device("NVIDIA H200", 90, 132, 1980));
  c.copy_gbps = 4262.4;
  EXPECT_EQ(c.describe(),
            "NVIDIA H200: dense INT8 1979 / FP8 1979 TOPS, bf16 989 TFLOP/s (datasheet); copy 4262 GB/s (measured)");
}

}  // namespace
}  // namespace slidesparse
