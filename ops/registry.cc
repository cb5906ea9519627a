#include "ops/registry.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace strata::ops {

void OpRegistry::Add(OpDef def) {
  if (ops_.count(def.name)) {
    if (status_.ok()) status_ = absl::InternalError(absl::StrCat("op '", def.name, "' registered twice"));
    return;
  }
  std::string name = def.name;
  ops_.emplace(std::move(name), std::make_unique<OpDef>(std::move(def)));
}

const OpDef* OpRegistry::Find(absl::string_view name) const {
  auto it = ops_.find(name);
  return it == ops_.end() ? nullptr : it->second.get();
}

absl::StatusOr<const OpDef*> OpRegistry::Lookup(absl::string_view name) const {
  if (const OpDef* d = Find(name)) return d;
  return absl::NotFoundError(absl::StrCat("unknown op '", name, "'; known ops: ", absl::StrJoin(Names(), ", ")));
}

std::vector<std::string> OpRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [name, def] : ops_) names.push_back(name);
  return names;
}

const OpRegistry& Registry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterStateOps(*r);
    RegisterMathOps(*r);
    RegisterArrayOps(*r);
    RegisterNnOps(*r);
    RegisterConvOps(*r);
    RegisterPoolOps(*r);
    RegisterTrainingOps(*r);
    RegisterBatchNormOps(*r);
    RegisterDropoutOps(*r);
    RegisterLrnOps(*r);
    return r;
  }();
  return *registry;
}

const OpDef& Def(absl::string_view name) {
  const OpDef* d = Registry().Find(name);
  if (d == nullptr) {
    std::fprintf(stderr, "strata: internal error: op '%.*s' is not registered\n", static_cast<int>(name.size()),
                 name.data());
    std::abort();
  }
  return *d;
}

}  // namespace strata::ops
