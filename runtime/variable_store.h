// Variable values by name, shared by the sessions (and plans) that use them.
#ifndef STRATA_RUNTIME_VARIABLE_STORE_H_
#define STRATA_RUNTIME_VARIABLE_STORE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "graph/tensor.h"

namespace strata::runtime {

class VariableStore {
 public:
  bool Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }
  // NotFound naming the variable.
  absl::StatusOr<Tensor> Get(absl::string_view name) const;
  // Inserts a copy, or copies into the existing storage (so compiled plans
  // see the new value); InvalidArgument if dtype or shape differ.
  absl::Status Set(absl::string_view name, const Tensor& value);
  const std::map<std::string, Tensor>& values() const { return values_; }

  // Changes whenever a value may have changed: on Set, and when a session
  // has run a plan that updates variables in place (MarkWritten). Kernels
  // keep copies derived from variables (weights in a convolution's layout)
  // while it stays the same. Write variables through Set: writes into the
  // storage of a Tensor from Get are not seen.
  uint64_t generation() const { return generation_; }
  void MarkWritten() { ++generation_; }

 private:
  std::map<std::string, Tensor> values_;
  uint64_t generation_ = 0;
};

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_VARIABLE_STORE_H_
