// The op registry: every op of every family, built once by explicit calls to
// each family's Register function (no static initialisers), then immutable.
#ifndef STRATA_OPS_REGISTRY_H_
#define STRATA_OPS_REGISTRY_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/op_def.h"

namespace strata::ops {

class OpRegistry {
 public:
  // Registering the same name twice is a bug in a family file: the registry
  // keeps the first and records the error, which a registry test checks.
  void Add(OpDef def);
  const OpDef* Find(absl::string_view name) const;
  // NotFound listing the known ops.
  absl::StatusOr<const OpDef*> Lookup(absl::string_view name) const;
  std::vector<std::string> Names() const;
  const absl::Status& status() const { return status_; }

 private:
  std::map<std::string, std::unique_ptr<OpDef>, std::less<>> ops_;
  absl::Status status_;
};

// All ops of all families.
const OpRegistry& Registry();
// The definition of an op the calling family registered itself; a missing
// name is a programming error inside Strata, so this aborts.
const OpDef& Def(absl::string_view name);

// One per family file.
void RegisterStateOps(OpRegistry& r);     // ops/state.cc
void RegisterMathOps(OpRegistry& r);      // ops/math.cc
void RegisterArrayOps(OpRegistry& r);     // ops/array.cc
void RegisterNnOps(OpRegistry& r);        // ops/nn.cc
void RegisterConvOps(OpRegistry& r);      // ops/conv.cc
void RegisterPoolOps(OpRegistry& r);      // ops/pool.cc
void RegisterTrainingOps(OpRegistry& r);  // ops/training.cc
void RegisterBatchNormOps(OpRegistry& r); // ops/batch_norm.cc
void RegisterDropoutOps(OpRegistry& r);   // ops/dropout.cc
void RegisterLrnOps(OpRegistry& r);       // ops/lrn.cc

}  // namespace strata::ops

#endif  // STRATA_OPS_REGISTRY_H_
