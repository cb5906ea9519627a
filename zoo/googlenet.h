#ifndef STRATA_ZOO_GOOGLENET_H_
#define STRATA_ZOO_GOOGLENET_H_

#include "zoo/model.h"

namespace strata::zoo {

// GoogLeNet [Szegedy et al. 2014] on 224x224x3, as the paper's Table 1 and
// Caffe's bvlc_googlenet: conv1 (7x7/2, 64), pool1 + LRN, conv2_reduce (1x1,
// 64), conv2 (3x3, 192) + LRN, pool2, inception_3a/3b, pool3, inception_4a..4e,
// pool4, inception_5a/5b, pool5 (7x7 average), dropout 0.4, loss3/classifier.
// ReLU after every convolution; max pools 3x3/2 rounding up (112 -> 56 -> 28
// -> 14 -> 7). 6,998,552 parameters for 1000 classes; with
// config.aux_classifiers, the two auxiliary heads loss1 (on 4a) and loss2 (on
// 4d) add 3,188,840 + 3,190,888 and their losses, weighted 0.3, join the loss.
absl::StatusOr<Model> GoogLeNet(Graph& g, const ModelConfig& config);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_GOOGLENET_H_
