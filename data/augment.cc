#include "data/augment.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace strata::data {
namespace {

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A counter-based stream: the i-th draw is a hash of (key, i), so an
// example's draws depend only on its key.
class ExampleRng {
 public:
  explicit ExampleRng(uint64_t key) : key_(key) {}
  uint64_t Next() { return SplitMix64(key_ + 0x632be59bd9b4e019ULL * ++counter_); }
  // Uniform in [0, bound), without modulo bias.
  uint64_t Below(uint64_t bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (true) {
      const uint64_t r = Next();
      if (r >= threshold) return r % bound;
    }
  }
  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "strata::data::Augmenter: %s\n", what.c_str());
  std::abort();
}

}  // namespace

Augmenter& Augmenter::RandomCrop(int64_t size, int64_t padding) {
  crop_size_ = size;
  padding_ = padding;
  return *this;
}

Augmenter& Augmenter::HorizontalFlip(double p) {
  flip_p_ = p;
  return *this;
}

Augmenter& Augmenter::Normalize(std::vector<float> mean, std::vector<float> std) {
  mean_ = std::move(mean);
  std_ = std::move(std);
  return *this;
}

absl::StatusOr<Shape> Augmenter::OutputShape(const Shape& input) const {
  if (input.rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat("augmentation needs [N,C,H,W] images, not ", input.ToString()));
  }
  const int64_t n = input[0], c = input[1], h = input[2], w = input[3];
  if (padding_ < 0) return absl::InvalidArgumentError(absl::StrCat("negative crop padding ", padding_));
  if (crop_size_ < 0 || (crop_size_ == 0 && padding_ != 0)) {
    return absl::InvalidArgumentError(absl::StrCat("crop size ", crop_size_, " must be positive"));
  }
  if (crop_size_ > 0 && (crop_size_ > h + 2 * padding_ || crop_size_ > w + 2 * padding_)) {
    return absl::InvalidArgumentError(absl::StrCat("a ", crop_size_, "x", crop_size_, " crop does not fit in ", h,
                                                   "x", w, " images padded by ", padding_));
  }
  if (mean_.size() != std_.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("normalisation has ", mean_.size(), " means but ", std_.size(), " standard deviations"));
  }
  if (!mean_.empty() && mean_.size() != 1 && static_cast<int64_t>(mean_.size()) != c) {
    return absl::InvalidArgumentError(
        absl::StrCat("normalisation has ", mean_.size(), " values per statistic for images with ", c, " channels"));
  }
  for (float s : std_) {
    if (!(s > 0)) return absl::InvalidArgumentError(absl::StrCat("normalisation std ", s, " is not positive"));
  }
  if (crop_size_ == 0) return input;
  return Shape{n, c, crop_size_, crop_size_};
}

Augmenter::Choice Augmenter::ChoiceFor(int64_t epoch, int64_t batch, int64_t k, int64_t h, int64_t w) const {
  uint64_t key = SplitMix64(seed_);
  key = SplitMix64(key ^ static_cast<uint64_t>(epoch));
  key = SplitMix64(key ^ static_cast<uint64_t>(batch));
  key = SplitMix64(key ^ static_cast<uint64_t>(k));
  ExampleRng rng(key);
  Choice choice;
  if (crop_size_ > 0) {
    choice.top = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(h + 2 * padding_ - crop_size_ + 1)));
    choice.left = static_cast<int64_t>(rng.Below(static_cast<uint64_t>(w + 2 * padding_ - crop_size_ + 1)));
  }
  if (flip_p_ > 0) choice.flip = rng.Uniform() < flip_p_;
  return choice;
}

void Augmenter::Run(const Tensor& input, bool train, int64_t epoch, int64_t batch, Tensor* output) const {
  auto shape = OutputShape(input.shape());
  if (!shape.ok()) Fail(std::string(shape.status().message()));
  if (input.dtype() != DType::kFloat32 || output->dtype() != DType::kFloat32) Fail("images must be float32");
  if (output->shape() != *shape) {
    Fail(absl::StrCat("output is ", output->shape().ToString(), ", not ", shape->ToString()));
  }
  if (input.SharesStorageWith(*output)) Fail("output must not share the input's storage");
  const int64_t n = input.shape()[0], c = input.shape()[1], h = input.shape()[2], w = input.shape()[3];
  const int64_t oh = (*shape)[2], ow = (*shape)[3];
  const float* src = input.data<float>();
  float* dst = output->data<float>();
  for (int64_t k = 0; k < n; ++k) {
    Choice choice;
    if (train) {
      choice = ChoiceFor(epoch, batch, k, h, w);
    } else if (crop_size_ > 0) {
      choice.top = (h + 2 * padding_ - crop_size_) / 2;
      choice.left = (w + 2 * padding_ - crop_size_) / 2;
    }
    // Output (y, x) reads padded (top + y, left + x'), x' mirrored on a flip;
    // padded coordinates are the input's plus `padding`.
    const int64_t y0 = choice.top - padding_, x0 = choice.left - padding_;
    for (int64_t ch = 0; ch < c; ++ch) {
      const float* plane = src + (k * c + ch) * h * w;
      float* out = dst + (k * c + ch) * oh * ow;
      float mean = 0, inv_std = 1;
      if (!mean_.empty()) {
        const size_t s = mean_.size() == 1 ? 0 : static_cast<size_t>(ch);
        mean = mean_[s];
        inv_std = 1.0f / std_[s];
      }
      for (int64_t y = 0; y < oh; ++y) {
        const int64_t sy = y0 + y;
        float* row = out + y * ow;
        if (sy < 0 || sy >= h) {
          for (int64_t x = 0; x < ow; ++x) row[x] = (0.0f - mean) * inv_std;
          continue;
        }
        const float* src_row = plane + sy * w;
        for (int64_t x = 0; x < ow; ++x) {
          const int64_t sx = x0 + (choice.flip ? ow - 1 - x : x);
          const float v = (sx < 0 || sx >= w) ? 0.0f : src_row[sx];
          row[x] = (v - mean) * inv_std;
        }
      }
    }
  }
}

void Augmenter::Apply(const Tensor& input, int64_t epoch, int64_t batch, Tensor* output) const {
  Run(input, /*train=*/true, epoch, batch, output);
}

void Augmenter::Eval(const Tensor& input, Tensor* output) const { Run(input, /*train=*/false, 0, 0, output); }

Tensor Augmenter::Apply(const Tensor& input, int64_t epoch, int64_t batch) const {
  auto shape = OutputShape(input.shape());
  if (!shape.ok()) Fail(std::string(shape.status().message()));
  Tensor output(DType::kFloat32, *shape);
  Apply(input, epoch, batch, &output);
  return output;
}

Tensor Augmenter::Eval(const Tensor& input) const {
  auto shape = OutputShape(input.shape());
  if (!shape.ok()) Fail(std::string(shape.status().message()));
  Tensor output(DType::kFloat32, *shape);
  Eval(input, &output);
  return output;
}

}  // namespace strata::data
