#include "ops/registry.h"

namespace strata::ops {

void RegisterPoolOps(OpRegistry& r) {}

}  // namespace strata::ops
