// Stochastic gradient descent as a graph builder: Minimize adds the gradient
// graph and one in-place update per variable, and returns the training step
// (a Group node to pass as a Session::Run target).
#ifndef STRATA_OPTIM_SGD_H_
#define STRATA_OPTIM_SGD_H_

#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "runtime/variable_store.h"

namespace strata::optim {

struct SGDOptions {
  double learning_rate = 0.01;
  double momentum = 0.0;
  double weight_decay = 0.0;  // L2, added to the gradient (PyTorch's convention)
  bool nesterov = false;
};

// The variable holding the learning rate: a schedule writes it between steps
// (SetLearningRate) and checkpoints keep it.
inline constexpr char kLearningRateVariable[] = "optimizer/learning_rate";

// Slots are variables named "<variable>/momentum", so they are checkpointed
// with the weights. `variables` defaults to every trainable variable.
absl::StatusOr<Node*> MinimizeWithSGD(Graph& g, Output loss, const SGDOptions& options,
                                      std::vector<Output> variables = {});

absl::Status SetLearningRate(runtime::VariableStore& store, double learning_rate);
absl::StatusOr<double> GetLearningRate(const runtime::VariableStore& store);

}  // namespace strata::optim

#endif  // STRATA_OPTIM_SGD_H_
