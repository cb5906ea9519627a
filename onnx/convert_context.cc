#include "onnx/convert_context.h"

#include <cctype>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/array.h"
#include "ops/state.h"

namespace strata::onnx_io {

std::string SanitizeName(absl::string_view onnx_name) {
  while (!onnx_name.empty() && onnx_name.front() == '/') onnx_name.remove_prefix(1);
  std::string out;
  for (char c : onnx_name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' || c == '-';
    out.push_back(ok ? c : '_');
  }
  return out;
}

std::string NodeName(absl::string_view onnx_name) {
  std::vector<std::string> parts = absl::StrSplit(onnx_name, '/', absl::SkipEmpty());
  if (parts.size() < 2) return SanitizeName(onnx_name);
  // A scope that extends the previous one ("layer1" then "layer1.0",
  // "downsample" then "downsample.0") replaces it; others nest.
  std::vector<std::string> scopes;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!scopes.empty() && absl::StartsWith(parts[i], absl::StrCat(scopes.back(), "."))) {
      scopes.back() = parts[i];
    } else {
      scopes.push_back(parts[i]);
    }
  }
  return SanitizeName(absl::StrCat(absl::StrJoin(scopes, "."), "/", parts.back()));
}

std::string VariableName(absl::string_view onnx_name, absl::string_view node_name, absl::string_view op_type,
                         int index) {
  if (absl::StrContains(onnx_name, '/')) return SanitizeName(onnx_name);
  // Strata's names for the parameters (zoo/layers.h): the summary counts
  // "weights" as weights, and weight decay exempts "bias", "gamma", "beta".
  static const auto* roles = new std::map<std::string, std::vector<std::string>, std::less<>>{
      {"Conv", {"", "weights", "bias"}},
      {"Gemm", {"", "weights", "bias"}},
      {"MatMul", {"", "weights"}},
      {"BatchNormalization", {"", "gamma", "beta", "running_mean", "running_var"}},
  };
  std::string role;
  if (auto it = roles->find(op_type); it != roles->end() && index < static_cast<int>(it->second.size())) {
    role = it->second[index];
  }
  const bool generated = onnx_name.empty() || absl::StartsWith(onnx_name, "onnx::");
  if (generated) return absl::StrCat(node_name, "/", role.empty() ? absl::StrCat("input", index) : role);
  std::string name(onnx_name);
  if (size_t dot = name.rfind('.'); dot != std::string::npos && dot > 0) {
    name = absl::StrCat(name.substr(0, dot), "/", role.empty() ? name.substr(dot + 1) : role);
  }
  return SanitizeName(name);
}

std::string ConvertContext::Describe() const {
  return absl::StrCat("ONNX node '", node_.name(), "' (", node_.op_type(), ")");
}

bool ConvertContext::HasInput(int i) const { return i < node_.input_size() && !node_.input(i).empty(); }

Value* ConvertContext::FindValue(int i) {
  if (!HasInput(i)) return nullptr;
  auto it = state_.values.find(node_.input(i));
  return it == state_.values.end() ? nullptr : &it->second;
}

absl::StatusOr<Output> ConvertContext::Input(int i, bool trainable) { return Materialize(i, trainable, nullptr); }

absl::StatusOr<Output> ConvertContext::InputAs(int i, std::vector<int64_t> dims, absl::string_view suffix) {
  Value* v = FindValue(i);
  if (v != nullptr && !v->output.valid() && v->constant.has_value()) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    if (n == v->constant->num_elements()) return Materialize(i, /*trainable=*/true, &dims);
  }
  STRATA_ASSIGN_OR_RETURN(Output x, Input(i));
  if (x.shape().dims() == dims) return x;
  Output y = ops::Reshape(state_.graph, x, dims, SubName(suffix));
  if (!y.valid()) return GraphError();
  return y;
}

absl::StatusOr<Value*> ConvertContext::Lookup(int i) {
  if (!HasInput(i)) return Invalid(absl::StrCat("input ", i, " is missing"));
  Value* v = FindValue(i);
  if (v == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(), ": input ", i, " '", node_.input(i),
                                                   "' is not a graph input, an initializer or an earlier "
                                                   "node's output"));
  }
  return v;
}

absl::StatusOr<Output> ConvertContext::Materialize(int i, bool trainable, const std::vector<int64_t>* dims) {
  STRATA_ASSIGN_OR_RETURN(Value * v, Lookup(i));
  if (v->output.valid()) return v->output;
  const std::string what = absl::StrCat(Describe(), ": input '", node_.input(i), "'");
  STRATA_ASSIGN_OR_RETURN(Tensor value, ToStrataTensor(*v->constant, what));
  if (dims != nullptr) value = value.Reshaped(Shape(*dims));
  Graph& g = state_.graph;
  if (v->initializer) {
    v->output = ops::Variable(g, VariableName(v->onnx_name, name_, node_.op_type(), i), value.shape(),
                              ops::Initializer::Zeros(), trainable);
    if (!v->output.valid()) return GraphError();
    state_.initial_values[v->output.node->name()] = value;
    state_.variable_sources[v->output.node->name()] = v->onnx_name;
  } else {
    v->output = ops::Const(g, value, VariableName(v->onnx_name, name_, node_.op_type(), i));
    if (!v->output.valid()) return GraphError();
  }
  return v->output;
}

absl::StatusOr<OnnxTensor> ConvertContext::ConstantInput(int i, absl::string_view role) {
  Value* v = FindValue(i);
  if (v == nullptr || !v->constant.has_value()) {
    return Unimplemented("", absl::StrCat("input ", i, " (", role, ") '", HasInput(i) ? node_.input(i) : "",
                                          "' must be an initializer or a Constant: Strata's shapes are static"));
  }
  return *v->constant;
}

bool ConvertContext::IsConstantInput(int i) {
  Value* v = FindValue(i);
  return v != nullptr && v->constant.has_value() && !v->output.valid();
}

absl::StatusOr<std::vector<int64_t>> ConvertContext::InputDims(int i) {
  STRATA_ASSIGN_OR_RETURN(Value * v, Lookup(i));
  if (v->output.valid()) return v->output.shape().dims();
  return v->constant->dims;
}

const onnx::AttributeProto* ConvertContext::FindAttr(absl::string_view name) const {
  for (const auto& a : node_.attribute()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

absl::StatusOr<int64_t> ConvertContext::IntAttr(absl::string_view name, int64_t default_value) const {
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (a->type() != onnx::AttributeProto::INT) return Invalid(absl::StrCat("attribute '", name, "' must be an int"));
  return a->i();
}

absl::StatusOr<float> ConvertContext::FloatAttr(absl::string_view name, float default_value) const {
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (a->type() != onnx::AttributeProto::FLOAT) {
    return Invalid(absl::StrCat("attribute '", name, "' must be a float"));
  }
  return a->f();
}

absl::StatusOr<std::vector<int64_t>> ConvertContext::IntsAttr(absl::string_view name,
                                                              std::vector<int64_t> default_value) const {
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (a->type() != onnx::AttributeProto::INTS) {
    return Invalid(absl::StrCat("attribute '", name, "' must be a list of ints"));
  }
  return std::vector<int64_t>(a->ints().begin(), a->ints().end());
}

absl::StatusOr<std::string> ConvertContext::StringAttr(absl::string_view name, std::string default_value) const {
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return default_value;
  if (a->type() != onnx::AttributeProto::STRING) {
    return Invalid(absl::StrCat("attribute '", name, "' must be a string"));
  }
  return a->s();
}

std::string ConvertContext::AttrToString(absl::string_view name) const {
  const onnx::AttributeProto* a = FindAttr(name);
  if (a == nullptr) return "";
  switch (a->type()) {
    case onnx::AttributeProto::INT: return absl::StrCat(" = ", a->i());
    case onnx::AttributeProto::FLOAT: return absl::StrCat(" = ", a->f());
    case onnx::AttributeProto::STRING: return absl::StrCat(" = \"", a->s(), "\"");
    case onnx::AttributeProto::INTS: return absl::StrCat(" = [", absl::StrJoin(a->ints(), ","), "]");
    case onnx::AttributeProto::FLOATS: return absl::StrCat(" = [", absl::StrJoin(a->floats(), ","), "]");
    default: return "";
  }
}

absl::Status ConvertContext::SetOutput(int i, Output o) {
  if (!o.valid()) return GraphError();
  if (!OutputRequested(i)) return absl::OkStatus();
  Value& v = state_.values[node_.output(i)];
  v = Value{};
  v.output = o;
  v.onnx_name = node_.output(i);
  return absl::OkStatus();
}

absl::Status ConvertContext::SetConstantOutput(int i, OnnxTensor t) {
  if (!OutputRequested(i)) return absl::OkStatus();
  Value& v = state_.values[node_.output(i)];
  v = Value{};
  v.constant = std::move(t);
  v.onnx_name = node_.output(i);
  return absl::OkStatus();
}

absl::Status ConvertContext::RejectOutputsFrom(int i, absl::string_view what) const {
  for (int k = i; k < node_.output_size(); ++k) {
    if (OutputRequested(k)) {
      return Unimplemented("", absl::StrCat("output ", k, " (", what, ") is not supported"));
    }
  }
  return absl::OkStatus();
}

absl::Status ConvertContext::Unimplemented(absl::string_view attribute, absl::string_view why) const {
  if (attribute.empty()) return absl::UnimplementedError(absl::StrCat(Describe(), ": ", why));
  return absl::UnimplementedError(
      absl::StrCat(Describe(), ": attribute '", attribute, "'", AttrToString(attribute), ": ", why));
}

absl::Status ConvertContext::Invalid(absl::string_view why) const {
  return absl::InvalidArgumentError(absl::StrCat(Describe(), ": ", why));
}

absl::Status ConvertContext::GraphError() const {
  const absl::Status& s = state_.graph.status();
  if (s.ok()) return Invalid("could not be converted");
  return absl::Status(s.code(), absl::StrCat(Describe(), ": ", s.message()));
}

}  // namespace strata::onnx_io
