#include "ops/registry.h"

namespace strata::ops {

void RegisterArrayOps(OpRegistry& r) {}

}  // namespace strata::ops
