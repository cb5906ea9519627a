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

 private:
  std::map<std::string, Tensor> values_;
};

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_VARIABLE_STORE_H_
