#include "data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace strata::data {
namespace {

// SplitMix64: a tiny, well-mixed generator with a fixed algorithm.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1]: never 0, so log() below is finite.
  double Uniform() { return (static_cast<double>(Next() >> 11) + 1.0) * 0x1.0p-53; }
  // Standard normal by Box-Muller (one draw per call, the pair's second discarded).
  double Normal() {
    constexpr double kTwoPi = 6.283185307179586;
    const double r = std::sqrt(-2.0 * std::log(Uniform()));
    return r * std::cos(kTwoPi * Uniform());
  }
  // Uniform in [0, n), without modulo bias.
  uint64_t Below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = Next(); while (x >= limit);
    return x % n;
  }

 private:
  uint64_t state_;
};

constexpr int64_t kGrid = 4;          // blocks per side of a class pattern
constexpr double kNoiseStd = 0.5;
constexpr uint64_t kPatternSeed = 0x5EED0F5A17E5ull;

}  // namespace

Dataset Synthetic(int64_t n, int64_t channels, int64_t size, int64_t classes, uint64_t seed) {
  Dataset ds;
  if (n < 1 || channels < 1 || size < 1 || classes < 2) {
    ds.images = Tensor(DType::kFloat32, Shape{0, std::max<int64_t>(channels, 1), std::max<int64_t>(size, 1),
                                              std::max<int64_t>(size, 1)});
    ds.labels = Tensor(DType::kInt32, Shape{0});
    return ds;
  }
  // Class patterns: +-1 per (class, channel, block), from the shapes alone.
  Rng pattern_rng(kPatternSeed ^ (static_cast<uint64_t>(channels) << 40) ^ (static_cast<uint64_t>(size) << 20) ^
                  static_cast<uint64_t>(classes));
  std::vector<float> blocks(classes * channels * kGrid * kGrid);
  for (float& b : blocks) b = (pattern_rng.Next() >> 63) ? 1.0f : -1.0f;

  Rng rng(seed * 0x2545F4914F6CDD1Dull + 0x1234567ull);
  std::vector<int32_t> labels(n);
  for (int64_t i = 0; i < n; ++i) labels[i] = static_cast<int32_t>(i % classes);
  for (int64_t i = n - 1; i > 0; --i) std::swap(labels[i], labels[rng.Below(i + 1)]);

  ds.images = Tensor(DType::kFloat32, Shape{n, channels, size, size});
  ds.labels = Tensor(DType::kInt32, Shape{n});
  float* x = ds.images.data<float>();
  std::vector<int64_t> block_of(size);
  for (int64_t p = 0; p < size; ++p) block_of[p] = p * kGrid / size;
  for (int64_t i = 0; i < n; ++i) {
    ds.labels.data<int32_t>()[i] = labels[i];
    const float* pattern = &blocks[labels[i] * channels * kGrid * kGrid];
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t y = 0; y < size; ++y) {
        const float* row = pattern + (c * kGrid + block_of[y]) * kGrid;
        for (int64_t xx = 0; xx < size; ++xx) {
          *x++ = row[block_of[xx]] + static_cast<float>(kNoiseStd * rng.Normal());
        }
      }
    }
  }
  return ds;
}

}  // namespace strata::data
