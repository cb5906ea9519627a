// Stochastic gradient descent, the framework's first optimizer: a thin
// wrapper over Minimize (optim/optimizer.h) that keeps decaying every
// variable, biases included (PyTorch's default for plain SGD, under which the
// LeNet-5 accuracy figures were measured). Also brings in the learning-rate
// helpers (kLearningRateVariable, SetLearningRate, GetLearningRate).
#ifndef STRATA_OPTIM_SGD_H_
#define STRATA_OPTIM_SGD_H_

#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "optim/optimizer.h"

namespace strata::optim {

struct SGDOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;  // L2, added to the gradient (PyTorch's convention)
  bool nesterov = false;      // needs momentum > 0
};

// Slots are variables named "<variable>/momentum", so they are checkpointed
// with the weights, as are "optimizer/learning_rate" and "optimizer/step".
// `variables` defaults to every trainable variable.
absl::StatusOr<Node*> MinimizeWithSGD(Graph& g, Output loss, const SGDOptions& options,
                                      std::vector<Output> variables = {});

}  // namespace strata::optim

#endif  // STRATA_OPTIM_SGD_H_
