#ifndef STRATA_ZOO_RESNET_H_
#define STRATA_ZOO_RESNET_H_

#include "zoo/model.h"

namespace strata::zoo {

// ResNet-18/34/50/101/152 [He et al. 2015] on 224x224x3, the paper's design:
// conv1 (7x7/2, 64), pool1 (3x3/2 max), stages conv2_x..conv5_x of basic
// blocks (18, 34: two 3x3 convs) or bottlenecks (50+: 1x1, 3x3, 1x1 x4),
// pool5 (global average), fc. Blocks are "conv3_1" .. with convs "conv_a",
// "conv_b"(, "conv_c") and, where the shape changes, a 1x1 projection
// "shortcut"; batch normalisation after every conv (no conv biases), He
// initialisation, ReLU after the residual add. The first block of conv3_x ..
// conv5_x downsamples by stride 2 in its first conv (the 1x1 of a
// bottleneck; config.resnet_v1_5 moves it to the 3x3). Trainable parameters
// (conv weights, BN gamma/beta, fc) for 1000 classes: 11,689,512,
// 21,797,672, 25,557,032, 44,549,160, 60,192,808.
absl::StatusOr<Model> ResNet(Graph& g, const ModelConfig& config, int depth);

// The CIFAR-10 nets of He et al. section 4.2 on 32x32x3: conv1 (3x3, 16), three
// stages conv2_x, conv3_x, conv4_x of n basic blocks with 16, 32, 64 filters
// (feature maps 32, 16, 8; stride 2 in the first conv of conv3_1 and conv4_1),
// global average pooling ("pool"), fc: 6n+2 weight layers, depth = 20, 32,
// 44, 56, 110 for n = 3, 5, 7, 9, 18. With `shortcuts` these are ResNets whose
// two shape-changing shortcuts are 1x1 projections with BN (the paper's
// option B; its CIFAR table used option A, zero-padding identities, which has
// no parameters): ResNet-20 has 272,474 parameters (option A: 269,722, the
// paper's 0.27M). Without, the plain nets: the same layers, no shortcuts
// (269,722 for plain-20).
absl::StatusOr<Model> CifarResNet(Graph& g, const ModelConfig& config, int depth, bool shortcuts);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_RESNET_H_
