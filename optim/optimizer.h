// Optimizers as graph builders: Minimize adds the gradient graph, optional
// clipping by global norm, one in-place update per variable (ops/training.h)
// and a step counter, and returns the training step (a Group node to pass as
// a Session::Run target). Each optimizer follows PyTorch's torch.optim rule.
//
// All optimizer state lives in variables, so checkpoints hold it:
//   "optimizer/learning_rate"  float32 scalar, written by schedules
//   "optimizer/step"           float32 scalar, completed steps (exact to 2^24)
//   "<variable>/<slot>"        per-variable slots:
//       sgd      momentum
//       adam(w)  m, v
//       rmsprop  square_avg, grad_avg (centered), momentum (momentum > 0)
//       adagrad  sum
#ifndef STRATA_OPTIM_OPTIMIZER_H_
#define STRATA_OPTIM_OPTIMIZER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "runtime/variable_store.h"

namespace strata::optim {

inline constexpr char kLearningRateVariable[] = "optimizer/learning_rate";
inline constexpr char kStepVariable[] = "optimizer/step";

enum class OptimizerKind { kSGD, kAdam, kAdamW, kRMSProp, kAdaGrad };

// "sgd", "adam", "adamw", "rmsprop", "adagrad".
absl::string_view OptimizerKindName(OptimizerKind kind);
// The inverse (case-insensitive); InvalidArgument listing the names.
absl::StatusOr<OptimizerKind> ParseOptimizerKind(absl::string_view name);

// Which variables get weight decay. The default rule exempts biases and
// batch-norm parameters: names ending in "bias" (conv1/bias), "/gamma" or
// "/beta" (and the bare names "gamma", "beta"); every other variable decays.
// `decay_all` decays every variable (PyTorch's behaviour when all parameters
// are in one group); `decay`, when set, decides alone.
struct VariableOptions {
  bool decay_all = false;
  std::function<bool(absl::string_view variable_name)> decay;

  bool Decays(absl::string_view variable_name) const;
};

// The default rule above.
bool DecaysByDefault(absl::string_view variable_name);

// Hyper-parameters of every kind; a kind reads only its own. The factories
// set PyTorch's defaults for their kind (AdamW's weight decay is 1e-2,
// AdaGrad's epsilon 1e-10).
struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::kSGD;
  double learning_rate = 0.01;
  double weight_decay = 0.0;  // L2 on the gradient; AdamW: decoupled
  double momentum = 0.0;      // SGD, RMSProp
  bool nesterov = false;      // SGD (needs momentum > 0)
  double beta1 = 0.9;         // Adam, AdamW
  double beta2 = 0.999;
  double epsilon = 1e-8;      // Adam, AdamW, RMSProp, AdaGrad
  double alpha = 0.99;        // RMSProp smoothing
  bool centered = false;      // RMSProp
  double lr_decay = 0.0;      // AdaGrad
  double initial_accumulator_value = 0.0;  // AdaGrad
  // Clip the gradients by their global norm (PyTorch's clip_grad_norm_) to
  // this value before the update; 0 = off.
  double clip_global_norm = 0.0;
  VariableOptions variable_options;
  // Optional: what happens between the gradients and the clipping and
  // updates, without optim knowing how (data-parallel training averages the
  // gradients across processes here; see distributed/). on_gradient is
  // called during the backward sweep as soon as variables[index]'s gradient
  // is final (autodiff::GradientReadyFn: nodes it adds run as soon as that
  // gradient is computed); finish then returns the gradients to apply, one
  // per variable with its spec. Both empty: the gradients are applied as
  // they are.
  struct GradientTransform {
    std::function<absl::Status(Graph& g, int index, const Output& variable, const Output& grad)> on_gradient;
    std::function<absl::StatusOr<std::vector<Output>>(Graph& g, const std::vector<Output>& variables,
                                                      const std::vector<Output>& grads)>
        finish;
  };
  GradientTransform gradient_transform;

  static OptimizerConfig Defaults(OptimizerKind kind);
  static OptimizerConfig SGD(double learning_rate, double momentum = 0, double weight_decay = 0,
                             bool nesterov = false);
  static OptimizerConfig Adam(double learning_rate = 1e-3, double weight_decay = 0);
  static OptimizerConfig AdamW(double learning_rate = 1e-3, double weight_decay = 1e-2);
  static OptimizerConfig RMSProp(double learning_rate = 1e-2, double alpha = 0.99, double momentum = 0,
                                 bool centered = false, double weight_decay = 0);
  static OptimizerConfig AdaGrad(double learning_rate = 1e-2, double lr_decay = 0,
                                 double initial_accumulator_value = 0, double weight_decay = 0);
};

// InvalidArgument naming the optimizer and the offending value.
absl::Status Validate(const OptimizerConfig& config);

struct TrainStep {
  Node* step = nullptr;         // run this as a target
  Output gradient_norm;         // global norm of the gradients before clipping (fetch to log it)
  std::vector<Output> variables;
  std::vector<Output> gradients;  // as applied (after clipping)
};

// Builds the training step. `variables` defaults to every trainable
// variable. The learning-rate and step variables are reused when the graph
// already has them (the existing learning rate's value then wins). Errors:
// invalid hyper-parameters, a loss that does not depend on a variable, a
// slot name already taken.
absl::StatusOr<TrainStep> BuildTrainStep(Graph& g, Output loss, const OptimizerConfig& config,
                                         std::vector<Output> variables = {});
absl::StatusOr<Node*> Minimize(Graph& g, Output loss, const OptimizerConfig& config,
                               std::vector<Output> variables = {});

absl::Status SetLearningRate(runtime::VariableStore& store, double learning_rate);
absl::StatusOr<double> GetLearningRate(const runtime::VariableStore& store);
// Completed steps (the value of "optimizer/step").
absl::StatusOr<int64_t> GetStep(const runtime::VariableStore& store);

}  // namespace strata::optim

#endif  // STRATA_OPTIM_OPTIMIZER_H_
