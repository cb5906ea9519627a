#include "optim/clip.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/training.h"

namespace strata::optim {

absl::StatusOr<ClippedGradients> ClipByGlobalNorm(Graph& g, const std::vector<Output>& gradients, double max_norm) {
  if (!std::isfinite(max_norm) || max_norm <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("ClipByGlobalNorm: max_norm (", max_norm, ") must be > 0"));
  }
  if (gradients.empty()) return absl::InvalidArgumentError("ClipByGlobalNorm: no gradients");
  for (size_t i = 0; i < gradients.size(); ++i) {
    if (!gradients[i].valid()) {
      return absl::InvalidArgumentError(absl::StrCat("ClipByGlobalNorm: gradient ", i, " is invalid"));
    }
  }
  Graph::Scope scope(g, "clip_by_global_norm");
  ClippedGradients out;
  out.global_norm = ops::GlobalNorm(g, gradients, "global_norm");
  for (const Output& grad : gradients) {
    out.gradients.push_back(ops::ClipByNorm(g, grad, out.global_norm, max_norm, "clip"));
  }
  STRATA_RETURN_IF_ERROR(g.status());
  return out;
}

}  // namespace strata::optim
