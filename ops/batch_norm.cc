#include "ops/registry.h"

namespace strata::ops {

void RegisterBatchNormOps(OpRegistry& r) {}

}  // namespace strata::ops
