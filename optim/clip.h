// Gradient clipping by global norm, as graph nodes (so it composes with the
// optimizers): PyTorch's torch.nn.utils.clip_grad_norm_ with the 2-norm.
#ifndef STRATA_OPTIM_CLIP_H_
#define STRATA_OPTIM_CLIP_H_

#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::optim {

struct ClippedGradients {
  std::vector<Output> gradients;  // g * min(1, max_norm / (global_norm + 1e-6)), same order
  Output global_norm;             // sqrt(sum over all gradients of g^2), before clipping
};

// A norm below max_norm leaves the gradients unchanged (up to PyTorch's 1e-6
// in the denominator: a norm within 1e-6 of max_norm is scaled by
// max_norm / (norm + 1e-6), just under 1). Nodes go under "clip_by_global_norm/".
// InvalidArgument for max_norm <= 0, no gradients or an invalid one.
absl::StatusOr<ClippedGradients> ClipByGlobalNorm(Graph& g, const std::vector<Output>& gradients, double max_norm);

}  // namespace strata::optim

#endif  // STRATA_OPTIM_CLIP_H_
