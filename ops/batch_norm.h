// Batch normalisation over the channel axis (dimension 1) of [N,C,H,W] or
// [N,C] activations, with PyTorch's running-statistics convention.
#ifndef STRATA_OPS_BATCH_NORM_H_
#define STRATA_OPS_BATCH_NORM_H_

#include "graph/graph.h"

namespace strata::ops {

struct BatchNormOptions {
  double epsilon = 1e-5;
  double momentum = 0.1;  // PyTorch's convention: running = (1 - momentum) * running + momentum * batch
};

// x [N,C,H,W] or [N,C]; gamma, beta, running_mean, running_var: [C].
// Training runs (RunOptions.training) normalise with the batch statistics and
// update running_mean / running_var in place (running_var with the unbiased
// batch variance, as PyTorch does); inference runs use the running statistics.
// Returns output 0 (y).
//
// The node ("BatchNorm") has two more outputs, saved_mean and saved_var [C]:
// the statistics this run normalised with (the batch's, variance biased, in
// training runs; copies of the running ones in inference runs), which the
// gradient reads. The gradient follows the run's mode too, so it is exact in
// both. running_mean / running_var should be non-trainable Variables: they
// get no gradient. Training with one value per channel (N*H*W == 1) is a run
// error, as the unbiased variance is undefined.
Output BatchNorm(Graph& g, Output x, Output gamma, Output beta, Output running_mean, Output running_var,
                 BatchNormOptions opts = {}, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_BATCH_NORM_H_
