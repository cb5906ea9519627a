// Synthetic image classification data of any size, for training models whose
// real data set (ImageNet, CIFAR-10) is not bundled: every class has its own
// fixed pattern and each example is its class's pattern plus Gaussian noise,
// so a model can learn the task and its test accuracy means something.
#ifndef STRATA_DATA_SYNTHETIC_H_
#define STRATA_DATA_SYNTHETIC_H_

#include <cstdint>

#include "data/mnist.h"

namespace strata::data {

// n examples: images float32 [n, channels, size, size], labels int32 [n].
//
// The pattern of class k is a 4x4 grid of blocks per channel (each block
// +1 or -1, scaled to the image size), drawn from (channels, size, classes,
// k) alone: datasets with different seeds share the patterns and differ only
// in their noise and order, so one seed gives the training split and another
// the test split of the same task. An example is its pattern plus N(0, 0.5^2)
// noise per value, already centred and scaled (no normalisation needed).
// Labels are balanced (i % classes, shuffled by `seed`). Deterministic: the
// same arguments give the same bytes on any platform (the generator and its
// Gaussian draws are written out here, not taken from <random>).
// Arguments below 1 (classes below 2) give an empty dataset.
Dataset Synthetic(int64_t n, int64_t channels, int64_t size, int64_t classes, uint64_t seed);

}  // namespace strata::data

#endif  // STRATA_DATA_SYNTHETIC_H_
