#ifndef STRATA_ZOO_LENET5_H_
#define STRATA_ZOO_LENET5_H_

#include "zoo/model.h"

namespace strata::zoo {

// LeNet-5 on 28x28x1 inputs (C1 pads by 2): 61,706 parameters for 10 classes.
absl::StatusOr<Model> LeNet5(Graph& g, const ModelConfig& config);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_LENET5_H_
