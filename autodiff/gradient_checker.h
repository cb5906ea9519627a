// The shared numerical gradient checker: compares the analytic gradient
// (autodiff graph, float32 oneDNN kernels) with central differences computed
// on the float64 reference kernels. Usable from any test.
#ifndef STRATA_AUTODIFF_GRADIENT_CHECKER_H_
#define STRATA_AUTODIFF_GRADIENT_CHECKER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::autodiff {

struct GradientCheckOptions {
  double delta = 1e-3;  // central difference step, in float64
  // An element passes when |analytic - numeric| <= rtol * max(|a|, |n|, 1) + atol.
  double rtol = 2e-3;
  double atol = 2e-4;
  uint64_t seed = 1;    // for the random projection of the output
  // Passed to every Session::Run: training mode (batch norm with batch
  // statistics, dropout active with a mask fixed by run.seed and run.step).
  RunOptions run;
};

struct GradientCheckReport {
  bool ok = true;
  double max_error = 0;  // the largest |analytic - numeric| seen
  int64_t checked = 0;   // elements compared
  std::string worst;     // "input x[3]: analytic 0.5, numeric 0.49"
};

// Checks d(sum(y * r))/d(input) for each placeholder in `inputs`, with r a
// fixed random tensor (so every output element's gradient path is used).
// The graph must be built from the given placeholders; it gains a few nodes.
absl::StatusOr<GradientCheckReport> CheckGradients(Graph& g, Output y,
                                                   const std::vector<std::pair<Output, Tensor>>& inputs,
                                                   const GradientCheckOptions& options = {});

// Test inputs: uniform values in [low, high).
Tensor RandomTensor(const Shape& shape, uint64_t seed, float low = -1.f, float high = 1.f);
// Values that are all distinct and at least `gap` apart, shuffled: keeps
// max pooling away from ties and ReLU away from 0 (with an offset).
Tensor DistinctTensor(const Shape& shape, uint64_t seed, float gap = 0.01f);

}  // namespace strata::autodiff

#endif  // STRATA_AUTODIFF_GRADIENT_CHECKER_H_
