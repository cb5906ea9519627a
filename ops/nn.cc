#include "ops/registry.h"

namespace strata::ops {

void RegisterNnOps(OpRegistry& r) {}

}  // namespace strata::ops
