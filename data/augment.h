// Training-time image augmentation for batches of float32 NCHW images:
// random crop (with optional zero padding), horizontal flip and per-channel
// normalisation, as the CIFAR-10 and AlexNet recipes use them.
//
// Every random choice comes from a counter-based generator keyed on
// (seed, epoch, batch index, example index within the batch), so a batch's
// result depends on nothing else: not on threads, not on which batches were
// augmented before it, not on the standard library.
#ifndef STRATA_DATA_AUGMENT_H_
#define STRATA_DATA_AUGMENT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/shape.h"
#include "graph/tensor.h"

namespace strata::data {

class Augmenter {
 public:
  // The identity (no crop, no flip, no normalisation) until configured.
  explicit Augmenter(uint64_t seed = 0) : seed_(seed) {}

  // Configuration; each returns *this so the calls chain:
  //   Augmenter(seed).RandomCrop(32, 4).HorizontalFlip().Normalize(mean, std)
  //
  // Pads every side with `padding` zeros, then takes a random size x size
  // window (uniform over every position that fits). padding 0 and a larger
  // input is the AlexNet crop (227 out of 256).
  Augmenter& RandomCrop(int64_t size, int64_t padding = 0);
  // Mirrors an example left-right with probability p.
  Augmenter& HorizontalFlip(double p = 0.5);
  // x = (x - mean[c]) / std[c] after cropping and flipping; mean and std hold
  // one value per channel, or one value for all channels.
  Augmenter& Normalize(std::vector<float> mean, std::vector<float> std);

  // AlexNet: a random 227x227 crop of a 256x256 image, flipped half the time.
  static Augmenter AlexNet(uint64_t seed) { return Augmenter(seed).RandomCrop(227).HorizontalFlip(0.5); }
  // CIFAR-10: pad 4, random 32x32 crop, flip half the time.
  static Augmenter Cifar(uint64_t seed) { return Augmenter(seed).RandomCrop(32, 4).HorizontalFlip(0.5); }

  // The output shape for a float32 [N,C,H,W] input; InvalidArgument when the
  // input is not rank 4, the crop does not fit in the padded image, or
  // mean/std do not match C (or std is not positive).
  absl::StatusOr<Shape> OutputShape(const Shape& input) const;

  // Training path: augments `input` (float32 [N,C,H,W]) into *output, which
  // the caller allocates once with OutputShape's shape and reuses. Aborts
  // when the shapes are wrong (a caller bug; check OutputShape first).
  void Apply(const Tensor& input, int64_t epoch, int64_t batch, Tensor* output) const;
  // Evaluation path: the centre crop (of the padded image, so CIFAR's
  // pad-4-crop-32 leaves the image as it is), no flip, normalised.
  void Eval(const Tensor& input, Tensor* output) const;

  // Allocating conveniences (abort on a shape OutputShape rejects).
  Tensor Apply(const Tensor& input, int64_t epoch, int64_t batch) const;
  Tensor Eval(const Tensor& input) const;

  // True when Apply and Eval would only copy the input.
  bool is_identity() const { return crop_size_ == 0 && flip_p_ <= 0 && mean_.empty(); }

  // What Apply would do to example k of batch `batch` in `epoch` for an
  // input of height h and width w: the crop's top-left corner in padded
  // coordinates and whether it flips (for tests and diagnostics).
  struct Choice {
    int64_t top = 0;
    int64_t left = 0;
    bool flip = false;
  };
  Choice ChoiceFor(int64_t epoch, int64_t batch, int64_t k, int64_t h, int64_t w) const;

  uint64_t seed() const { return seed_; }

 private:
  void Run(const Tensor& input, bool train, int64_t epoch, int64_t batch, Tensor* output) const;

  uint64_t seed_;
  int64_t crop_size_ = 0;  // 0: keep H and W
  int64_t padding_ = 0;
  double flip_p_ = 0;
  std::vector<float> mean_, std_;
};

}  // namespace strata::data

#endif  // STRATA_DATA_AUGMENT_H_
