#include "runtime/variable_store.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace strata::runtime {

absl::StatusOr<Tensor> VariableStore::Get(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return absl::NotFoundError(absl::StrCat("variable '", name, "' has no value"));
  return it->second;
}

absl::Status VariableStore::Set(absl::string_view name, const Tensor& value) {
  ++generation_;
  auto it = values_.find(std::string(name));
  if (it == values_.end()) {
    values_.emplace(std::string(name), value.Clone());
    return absl::OkStatus();
  }
  if (it->second.spec() != value.spec()) {
    return absl::InvalidArgumentError(absl::StrCat("variable '", name, "' is ", it->second.spec().ToString(),
                                                   ", cannot assign ", value.spec().ToString()));
  }
  if (!value.SharesStorageWith(it->second)) std::memcpy(it->second.raw_data(), value.raw_data(), value.num_bytes());
  return absl::OkStatus();
}

}  // namespace strata::runtime
