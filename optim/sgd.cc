#include "optim/sgd.h"

namespace strata::optim {

absl::StatusOr<Node*> MinimizeWithSGD(Graph& g, Output loss, const SGDOptions& options,
                                      std::vector<Output> variables) {
  OptimizerConfig config =
      OptimizerConfig::SGD(options.learning_rate, options.momentum, options.weight_decay, options.nesterov);
  config.variable_options.decay_all = true;
  return Minimize(g, loss, config, std::move(variables));
}

}  // namespace strata::optim
