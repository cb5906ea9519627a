#include "onnx/import.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "onnx/convert_context.h"
#include "onnx/converters.h"
#include "ops/state.h"

namespace strata::onnx_io {
namespace {

constexpr int64_t kMinOpset = 9;
constexpr int64_t kMaxOpset = 17;

absl::StatusOr<int64_t> DefaultDomainOpset(const onnx::ModelProto& model) {
  int64_t opset = -1;
  for (const auto& o : model.opset_import()) {
    if (o.domain().empty() || o.domain() == "ai.onnx") opset = o.version();
  }
  if (opset < 0) return absl::InvalidArgumentError("the model imports no opset of the default ONNX domain");
  if (opset < kMinOpset || opset > kMaxOpset) {
    return absl::UnimplementedError(
        absl::StrCat("opset ", opset, " is not supported (opsets ", kMinOpset, " to ", kMaxOpset, " are)"));
  }
  return opset;
}

// A graph input as a float32 Placeholder with static dims.
absl::StatusOr<Output> AddPlaceholder(Graph& g, const onnx::ValueInfoProto& input, const ImportOptions& options) {
  const std::string what = absl::StrCat("graph input '", input.name(), "'");
  if (!input.type().has_tensor_type()) return absl::UnimplementedError(absl::StrCat(what, ": not a tensor"));
  const auto& tt = input.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT) {
    return absl::UnimplementedError(absl::StrCat(what, ": only FLOAT inputs are supported"));
  }
  if (!tt.has_shape()) return absl::UnimplementedError(absl::StrCat(what, ": has no shape"));
  std::vector<int64_t> dims;
  for (int i = 0; i < tt.shape().dim_size(); ++i) {
    const auto& d = tt.shape().dim(i);
    if (d.has_dim_value() && d.dim_value() > 0) {
      dims.push_back(d.dim_value());
    } else if (i == 0) {
      dims.push_back(options.batch_size);
    } else {
      return absl::UnimplementedError(absl::StrCat(what, ": dimension ", i, " is not a fixed size (",
                                                   d.dim_param(), "); Strata's shapes are static"));
    }
  }
  STRATA_ASSIGN_OR_RETURN(Shape shape, Shape::Validated(dims));
  Output p = ops::Placeholder(g, SanitizeName(input.name()), shape);
  if (!p.valid()) return g.status();
  return p;
}

}  // namespace

absl::StatusOr<ImportedModel> ImportOnnx(const onnx::ModelProto& model, const ImportOptions& options) {
  ImportedModel result;
  result.graph = std::make_unique<Graph>();
  Graph& g = *result.graph;
  ImportState state(g);
  STRATA_ASSIGN_OR_RETURN(state.opset, DefaultDomainOpset(model));
  result.opset = state.opset;
  const onnx::GraphProto& graph = model.graph();

  for (const auto& init : graph.initializer()) {
    STRATA_ASSIGN_OR_RETURN(OnnxTensor t, ReadTensorProto(init, absl::StrCat("initializer '", init.name(), "'")));
    Value& v = state.values[init.name()];
    v.constant = std::move(t);
    v.initializer = true;
    v.onnx_name = init.name();
  }
  for (const auto& input : graph.input()) {
    if (state.values.count(input.name())) continue;  // IR < 4 lists initializers as inputs too
    STRATA_ASSIGN_OR_RETURN(Output p, AddPlaceholder(g, input, options));
    state.values[input.name()].output = p;
    state.values[input.name()].onnx_name = input.name();
    result.inputs.push_back(p);
    result.input_names.push_back(input.name());
  }

  const auto& table = Converters();
  for (int n = 0; n < graph.node_size(); ++n) {
    const onnx::NodeProto& node = graph.node(n);
    std::string name = NodeName(node.name());
    if (name.empty()) name = absl::StrCat(node.op_type(), "_", n);
    ConvertContext c(state, node, name);
    if (!node.domain().empty() && node.domain() != "ai.onnx") {
      return absl::UnimplementedError(
          absl::StrCat(c.Describe(), ": domain '", node.domain(), "' is not supported (only the default one)"));
    }
    auto it = table.find(node.op_type());
    if (it == table.end()) {
      std::vector<std::string> known;
      for (const auto& [op, conv] : table) known.push_back(op);
      return absl::UnimplementedError(absl::StrCat(c.Describe(), ": op '", node.op_type(),
                                                   "' is not supported (supported: ", absl::StrJoin(known, ", "),
                                                   ")"));
    }
    const std::vector<std::string>& allowed = it->second.attributes;
    for (const auto& a : node.attribute()) {
      if (std::find(allowed.begin(), allowed.end(), a.name()) == allowed.end()) {
        return c.Unimplemented(a.name(), "this attribute is not supported");
      }
    }
    STRATA_RETURN_IF_ERROR(it->second.convert(c));
  }

  for (const auto& output : graph.output()) {
    auto it = state.values.find(output.name());
    if (it == state.values.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("graph output '", output.name(), "' is not produced by any node"));
    }
    Value& v = it->second;
    if (!v.output.valid()) {
      STRATA_ASSIGN_OR_RETURN(Tensor t, ToStrataTensor(*v.constant, absl::StrCat("graph output '", output.name(), "'")));
      v.output = ops::Const(g, t, SanitizeName(output.name()));
      if (!v.output.valid()) return g.status();
    }
    result.outputs.push_back(v.output);
    result.output_names.push_back(output.name());
  }
  if (result.outputs.empty()) return absl::InvalidArgumentError("the model has no outputs");
  STRATA_RETURN_IF_ERROR(g.status());
  result.initial_values = std::move(state.initial_values);
  result.variable_sources = std::move(state.variable_sources);
  return result;
}

absl::StatusOr<onnx::ModelProto> ReadOnnxFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ONNX file '", path, "'"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  onnx::ModelProto model;
  if (!model.ParseFromString(buffer.str())) {
    return absl::DataLossError(absl::StrCat("'", path, "' is not an ONNX model (it does not parse)"));
  }
  return model;
}

absl::StatusOr<ImportedModel> ImportOnnxFile(const std::string& path, const ImportOptions& options) {
  STRATA_ASSIGN_OR_RETURN(onnx::ModelProto model, ReadOnnxFile(path));
  auto imported = ImportOnnx(model, options);
  if (!imported.ok()) {
    return absl::Status(imported.status().code(), absl::StrCat(path, ": ", imported.status().message()));
  }
  return imported;
}

absl::Status LoadInitialValues(const ImportedModel& model, runtime::VariableStore* store) {
  for (const auto& [name, value] : model.initial_values) STRATA_RETURN_IF_ERROR(store->Set(name, value));
  return absl::OkStatus();
}

}  // namespace strata::onnx_io
