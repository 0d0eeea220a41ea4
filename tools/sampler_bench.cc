// The CPU Sampler's time per row (sequences/sampler.h) on a 128,256-token row, CPU only: the
// reference backend draws every token this way and the GPU sampler's tests use it as their oracle.
// Two rows: logits uniform in [-20, 20] (the rows `bench engine-kernels` samples) and a normal(0, 2.5)
// bulk with eight tokens at 14..21 (a peaked next-token distribution); temperature 0.8 without a cut,
// with top-p 0.95, and with top-k 50 + top-p 0.95. The sum of the drawn tokens is printed so that
// two builds can be checked to draw the same ones (docs/PERF.md).
// Usage: sampler_bench [--vocab N] [--rows N]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "sequences/sampler.h"

int main(int argc, char** argv) {
  using namespace slidesparse;
  int vocab = 128256, rows = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--vocab")) vocab = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--rows")) rows = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: sampler_bench [--vocab N] [--rows N]\n");
      return 2;
    }
  }
  if (vocab < 8 || rows < 1) {
    std::fprintf(stderr, "sampler_bench: need --vocab >= 8 and --rows >= 1\n");
    return 2;
  }
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(-20.0f, 20.0f);
  std::normal_distribution<float> normal(0.0f, 2.5f);
  std::vector<float> flat(vocab), peaked(vocab);
  for (int i = 0; i < vocab; ++i) {
    flat[i] = uniform(rng);
    peaked[i] = normal(rng);
  }
  for (int i = 0; i < 8; ++i) peaked[rng() % vocab] = 14.0f + static_cast<float>(i);

  struct Case {
    const char* name;
    int top_k;
    float top_p;
  };
  const Case cases[] = {
      {"T 0.8", 0, 1.0f}, {"T 0.8, top-p 0.95", 0, 0.95f}, {"T 0.8, top-k 50, top-p 0.95", 50, 0.95f}};
  Sampler sampler(vocab);
  for (const auto* row : {&flat, &peaked}) {
    for (const Case& c : cases) {
      SamplingParams params;
      params.temperature = 0.8f;
      params.top_k = c.top_k;
      params.top_p = c.top_p;
      long long token_sum = 0;
      const auto start = std::chrono::steady_clock::now();
      for (int r = 0; r < rows; ++r) token_sum += sampler.sample(row->data(), params, 1, r);
      const double us =
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / rows;
      std::printf("%-28s %-30s %9.0f us/row  (tokens drawn sum to %lld)\n",
                  row == &flat ? "uniform in [-20, 20]" : "normal(0, 2.5) + 8 at 14..21", c.name, us, token_sum);
    }
  }
  return 0;
}
