#ifndef STRATA_ZOO_ALEXNET_H_
#define STRATA_ZOO_ALEXNET_H_

#include "zoo/model.h"

namespace strata::zoo {

// AlexNet [Krizhevsky et al. 2012] in the lecture's layout, on 227x227x3:
// conv1 (96 11x11/4) pool1 norm1 conv2 (256 5x5 pad 2) pool2 norm2 conv3 (384
// 3x3) conv4 (384 3x3) conv5 (256 3x3) pool3, fc6 fc7 (4096, dropout 0.5),
// fc8; ReLU after every conv and fc6/fc7, 3x3/2 max pooling, LRN size 5,
// alpha 1e-4, beta 0.75, k 2. 62,378,344 parameters for 1000 classes;
// config.groups = 2 splits conv2, conv4 and conv5 into the paper's two
// towers: 60,965,224.
absl::StatusOr<Model> AlexNet(Graph& g, const ModelConfig& config);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_ALEXNET_H_
