// Optimizer updates and gradient clipping.
//
// The Apply* ops update their variable and slot inputs in place (WritesInputs),
// so the runtime schedules them after every node that reads those variables.
// Each follows PyTorch's update rule for its optimizer (torch.optim), which is
// the framework's reference; hyper-parameters are attributes, validated when
// the node is added. `lr` is a scalar variable, so a schedule changes it
// between steps without recompiling. `step` is a scalar variable holding the
// number of completed steps: an update uses t = step + 1 and CountStep, run
// after every update, increments it.
#ifndef STRATA_OPS_TRAINING_H_
#define STRATA_OPS_TRAINING_H_

#include <vector>

#include "graph/graph.h"

namespace strata::ops {

// PyTorch's SGD, the framework's reference (DESIGN.md, "Momentum"):
//   g = grad + weight_decay * w
//   v = momentum * v + g
//   w -= lr * (nesterov ? g + momentum * v : v)
// With momentum 0, `velocity` is unused but still required (a zero slot).
Node* ApplySGD(Graph& g, Output var, Output grad, Output velocity, Output lr, double momentum,
               double weight_decay, bool nesterov, absl::string_view name = "apply_sgd");

// Adam (decoupled = false) and AdamW (decoupled = true), as torch.optim.Adam
// and torch.optim.AdamW with amsgrad = false:
//   AdamW: w *= 1 - lr * weight_decay;  g = grad
//   Adam:  g = grad + weight_decay * w
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   w -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
struct AdamAttrs {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;
};
Node* ApplyAdam(Graph& g, Output var, Output grad, Output m, Output v, Output lr, Output step,
                const AdamAttrs& attrs, absl::string_view name = "apply_adam");

// torch.optim.RMSprop:
//   g = grad + weight_decay * w
//   square_avg = alpha * square_avg + (1 - alpha) * g^2
//   centered:  grad_avg = alpha * grad_avg + (1 - alpha) * g
//              avg = sqrt(max(square_avg - grad_avg^2, 0)) + epsilon
//   otherwise: avg = sqrt(square_avg) + epsilon
//   momentum > 0: buf = momentum * buf + g / avg;  w -= lr * buf
//   otherwise:    w -= lr * g / avg
// (PyTorch takes the square root of a rounding-negative difference, giving
// NaN; here it is clamped at 0.) `grad_avg` is required only when centered,
// `momentum_buf` only when momentum > 0: pass an invalid Output otherwise.
struct RMSPropAttrs {
  double alpha = 0.99;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
  double momentum = 0.0;
  bool centered = false;
};
Node* ApplyRMSProp(Graph& g, Output var, Output grad, Output square_avg, Output grad_avg, Output momentum_buf,
                   Output lr, const RMSPropAttrs& attrs, absl::string_view name = "apply_rmsprop");

// torch.optim.Adagrad (the accumulator's initial value is its slot's
// initializer):
//   g = grad + weight_decay * w
//   clr = lr / (1 + (t - 1) * lr_decay)
//   sum += g^2
//   w -= clr * g / (sqrt(sum) + epsilon)
struct AdaGradAttrs {
  double lr_decay = 0.0;
  double epsilon = 1e-10;
  double weight_decay = 0.0;
};
Node* ApplyAdaGrad(Graph& g, Output var, Output grad, Output sum, Output lr, Output step,
                   const AdaGradAttrs& attrs, absl::string_view name = "apply_adagrad");

// step += 1, after every node of `after` (control dependencies).
Node* CountStep(Graph& g, Output step, std::vector<Node*> after, absl::string_view name = "count_step");

// sqrt of the sum of squares of every element of every input: a float32
// scalar (accumulated in double).
Output GlobalNorm(Graph& g, std::vector<Output> xs, absl::string_view name = "global_norm");

// x * min(1, max_norm / (norm + 1e-6)), PyTorch's clip_grad_norm_ scaling
// for one tensor given the global norm (a scalar). max_norm must be > 0.
Output ClipByNorm(Graph& g, Output x, Output norm, double max_norm, absl::string_view name = "clip_by_norm");

}  // namespace strata::ops

#endif  // STRATA_OPS_TRAINING_H_
