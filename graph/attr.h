// Node attributes: a small closed set of value types, so that every attribute
// serializes to one generic AttrValue message (no per-op schema fields).
#ifndef STRATA_GRAPH_ATTR_H_
#define STRATA_GRAPH_ATTR_H_

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "graph/tensor.h"

namespace strata {

using AttrValue = std::variant<int64_t, double, bool, std::string, std::vector<int64_t>, Tensor>;

// Names of the alternatives, in variant order, for error messages.
absl::string_view AttrTypeName(const AttrValue& v);
std::string AttrValueToString(const AttrValue& v);

class AttrMap {
 public:
  AttrMap() = default;
  AttrMap(std::initializer_list<std::pair<const std::string, AttrValue>> init) : values_(init) {}

  void Set(const std::string& name, AttrValue v) { values_[name] = std::move(v); }
  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  const std::map<std::string, AttrValue>& values() const { return values_; }

  // The attribute as type T, or InvalidArgument naming the attribute when it
  // is missing or has another type. int attributes also read as int64_t.
  template <typename T>
  absl::StatusOr<T> Get(const std::string& name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return absl::InvalidArgumentError(absl::StrCat("missing attribute '", name, "'"));
    if constexpr (std::is_same_v<T, int>) {
      if (auto* p = std::get_if<int64_t>(&it->second)) return static_cast<int>(*p);
    } else {
      if (auto* p = std::get_if<T>(&it->second)) return *p;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("attribute '", name, "' has type ", AttrTypeName(it->second)));
  }

 private:
  std::map<std::string, AttrValue> values_;
};

}  // namespace strata

#endif  // STRATA_GRAPH_ATTR_H_
