#include "ops/registry.h"

namespace strata::ops {

void RegisterTrainingOps(OpRegistry& r) {}

}  // namespace strata::ops
