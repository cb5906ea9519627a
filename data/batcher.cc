#include "data/batcher.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <utility>

namespace strata::data {
namespace {

// Spreads nearby seeds and epochs (0, 1, 2...) over the whole 64-bit space
// before they seed the Mersenne Twister.
uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, bound): rejecting the low (2^64 mod bound) values removes the
// modulo bias.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  while (true) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

[[noreturn]] void Fail(const char* what, int64_t a, int64_t b) {
  std::fprintf(stderr, "strata::data::Batcher: %s (%lld vs %lld)\n", what, static_cast<long long>(a),
               static_cast<long long>(b));
  std::abort();
}

}  // namespace

Batcher::Batcher(const Dataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_remainder)
    : dataset_(dataset), batch_size_(batch_size), shuffle_(shuffle), seed_(seed), drop_remainder_(drop_remainder) {
  const int64_t n = dataset_.size();
  if (n > 0) example_elements_ = dataset_.images.num_elements() / n;
  StartEpoch(0);
}

void Batcher::StartEpoch(int64_t epoch) {
  const int64_t n = dataset_.size();
  order_.resize(n);
  for (int64_t i = 0; i < n; ++i) order_[i] = i;
  if (!shuffle_ || n < 2) return;
  std::mt19937_64 rng(SplitMix64(seed_ ^ SplitMix64(static_cast<uint64_t>(epoch))));
  for (int64_t i = n - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(UniformBelow(rng, static_cast<uint64_t>(i) + 1));
    std::swap(order_[i], order_[j]);
  }
}

int64_t Batcher::num_batches() const {
  if (batch_size_ < 1) return 0;
  const int64_t n = dataset_.size();
  return drop_remainder_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

int64_t Batcher::BatchSize(int64_t i) const {
  if (i < 0 || i >= num_batches()) return 0;
  return std::min(batch_size_, dataset_.size() - i * batch_size_);
}

void Batcher::Batch(int64_t i, Tensor* images, Tensor* labels) const {
  if (i < 0 || i >= num_batches()) Fail("batch index out of range", i, num_batches());
  const int64_t b = BatchSize(i);
  if (images->dtype() != DType::kFloat32 || labels->dtype() != DType::kInt32) {
    Fail("images must be float32 and labels int32", static_cast<int64_t>(images->dtype()),
         static_cast<int64_t>(labels->dtype()));
  }
  if (images->num_elements() != b * example_elements_) {
    Fail("images tensor does not hold exactly this batch", images->num_elements(), b * example_elements_);
  }
  if (labels->num_elements() != b) Fail("labels tensor does not hold exactly this batch", labels->num_elements(), b);

  const float* src_images = dataset_.images.data<float>();
  const int32_t* src_labels = dataset_.labels.data<int32_t>();
  float* dst_images = images->data<float>();
  int32_t* dst_labels = labels->data<int32_t>();
  const size_t example_bytes = static_cast<size_t>(example_elements_) * sizeof(float);
  const int64_t first = i * batch_size_;
  for (int64_t k = 0; k < b; ++k) {
    const int64_t e = order_[first + k];
    std::memcpy(dst_images + k * example_elements_, src_images + e * example_elements_, example_bytes);
    dst_labels[k] = src_labels[e];
  }
}

}  // namespace strata::data
