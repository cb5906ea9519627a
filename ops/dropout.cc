#include "ops/registry.h"

namespace strata::ops {

void RegisterDropoutOps(OpRegistry& r) {}

}  // namespace strata::ops
