#include "optim/sgd.h"

#include "absl/strings/str_cat.h"
#include "autodiff/gradients.h"
#include "graph/status_macros.h"
#include "ops/state.h"
#include "ops/training.h"

namespace strata::optim {

absl::StatusOr<Node*> MinimizeWithSGD(Graph& g, Output loss, const SGDOptions& options,
                                      std::vector<Output> variables) {
  if (options.learning_rate < 0 || options.momentum < 0 || options.weight_decay < 0) {
    return absl::InvalidArgumentError(absl::StrCat("SGD: learning rate (", options.learning_rate,
                                                   "), momentum (", options.momentum, ") and weight decay (",
                                                   options.weight_decay, ") must be >= 0"));
  }
  if (variables.empty()) {
    for (Node* v : ops::Variables(g, /*trainable_only=*/true)) variables.push_back(v->output(0));
  }
  if (variables.empty()) return absl::InvalidArgumentError("SGD: the graph has no trainable variables");
  STRATA_ASSIGN_OR_RETURN(std::vector<Output> grads, autodiff::Gradients(g, loss, variables));

  Output lr = ops::Variable(g, kLearningRateVariable, Shape{}, ops::Initializer::Constant(options.learning_rate),
                            /*trainable=*/false);
  std::vector<Node*> updates;
  for (size_t i = 0; i < variables.size(); ++i) {
    const Output& var = variables[i];
    if (!grads[i].valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SGD: the loss ", loss.name(), " does not depend on variable '", var.node->name(), "'"));
    }
    Output velocity = ops::Variable(g, absl::StrCat(var.node->name(), "/momentum"), var.shape(),
                                    ops::Initializer::Zeros(), /*trainable=*/false);
    Graph::Scope scope(g, absl::StrCat("sgd/", var.node->name()));
    updates.push_back(ops::ApplySGD(g, var, grads[i], velocity, lr, options.momentum, options.weight_decay,
                                    options.nesterov));
  }
  Node* step = ops::Group(g, updates, "train_step");
  STRATA_RETURN_IF_ERROR(g.status());
  return step;
}

absl::Status SetLearningRate(runtime::VariableStore& store, double learning_rate) {
  return store.Set(kLearningRateVariable, Tensor::Scalar<float>(static_cast<float>(learning_rate)));
}

absl::StatusOr<double> GetLearningRate(const runtime::VariableStore& store) {
  STRATA_ASSIGN_OR_RETURN(Tensor t, store.Get(kLearningRateVariable));
  return static_cast<double>(t.data<float>()[0]);
}

}  // namespace strata::optim
