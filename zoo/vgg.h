#ifndef STRATA_ZOO_VGG_H_
#define STRATA_ZOO_VGG_H_

#include "zoo/model.h"

namespace strata::zoo {

// VGGNet [Simonyan & Zisserman 2014], configuration `layout` 'A'..'E' of the
// paper's Table 1 on 224x224x3: 3x3 convolutions stride 1 pad 1 (and C's 1x1
// convolutions), each followed by ReLU, in five blocks closed by 2x2/2 max
// pooling (conv1_1 .. conv5_N, pool1 .. pool5), then fc6 and fc7 (4096, ReLU,
// dropout 0.5) and fc8. `lrn` adds A-LRN's local response normalisation
// ("norm1") after conv1_1. For 1000 classes: A 132,863,336 parameters,
// B 133,047,848, C 133,638,952, D 138,357,544, E 143,667,240.
absl::StatusOr<Model> Vgg(Graph& g, const ModelConfig& config, char layout, bool lrn = false);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_VGG_H_
