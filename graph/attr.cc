#include "graph/attr.h"

#include "absl/strings/str_join.h"

namespace strata {

absl::string_view AttrTypeName(const AttrValue& v) {
  static constexpr absl::string_view kNames[] = {"int", "float", "bool", "string", "list(int)", "tensor"};
  return kNames[v.index()];
}

std::string AttrValueToString(const AttrValue& v) {
  struct Visitor {
    std::string operator()(int64_t x) const { return absl::StrCat(x); }
    std::string operator()(double x) const { return absl::StrCat(x); }
    std::string operator()(bool x) const { return x ? "true" : "false"; }
    std::string operator()(const std::string& x) const { return absl::StrCat("\"", x, "\""); }
    std::string operator()(const std::vector<int64_t>& x) const { return absl::StrCat("[", absl::StrJoin(x, ","), "]"); }
    std::string operator()(const Tensor& x) const { return absl::StrCat("tensor ", x.spec().ToString()); }
  };
  return std::visit(Visitor{}, v);
}

}  // namespace strata
