#include "ops/registry.h"

namespace strata::ops {

void RegisterLrnOps(OpRegistry& r) {}

}  // namespace strata::ops
