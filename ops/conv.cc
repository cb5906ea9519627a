#include "ops/registry.h"

namespace strata::ops {

void RegisterConvOps(OpRegistry& r) {}

}  // namespace strata::ops
