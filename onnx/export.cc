#include "onnx/export.h"

#include <exception>
#include <set>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "onnx/checker.h"
#include "onnx/tensor_proto.h"
#include "serialization/checkpoint.h"

namespace strata::onnx_io {
namespace {

// The ONNX value name of a Strata output: the node's name, ":<i>" for i > 0.
std::string ValueName(const Output& o) {
  return o.index == 0 ? o.node->name() : absl::StrCat(o.node->name(), ":", o.index);
}

void SetTensorType(const TensorSpec& spec, const std::string& name, onnx::ValueInfoProto* info) {
  info->set_name(name);
  auto* t = info->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : spec.shape.dims()) t->mutable_shape()->add_dim()->set_dim_value(d);
}

class Exporter {
 public:
  Exporter(const std::map<std::string, Tensor>& variables, onnx::GraphProto* graph)
      : variables_(variables), graph_(graph) {}

  absl::Status Export(const Node& n);

 private:
  absl::Status Unimplemented(const Node& n, absl::string_view why) const {
    return absl::UnimplementedError(absl::StrCat(n.Describe(), ": cannot be exported to ONNX: ", why));
  }
  onnx::NodeProto* AddNode(const Node& n, absl::string_view op_type, std::vector<std::string> inputs,
                           std::string output = "") {
    onnx::NodeProto* p = graph_->add_node();
    p->set_name(n.name());
    p->set_op_type(std::string(op_type));
    for (auto& i : inputs) p->add_input(i);
    p->add_output(output.empty() ? n.name() : output);
    return p;
  }
  std::vector<std::string> Inputs(const Node& n) const {
    std::vector<std::string> names;
    for (const Output& in : n.inputs()) names.push_back(ValueName(in));
    return names;
  }
  static void Ints(onnx::NodeProto* p, const std::string& name, std::vector<int64_t> values) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void Int(onnx::NodeProto* p, const std::string& name, int64_t value) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void Float(onnx::NodeProto* p, const std::string& name, double value) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(value));
  }
  std::string Int64Constant(const std::string& name, std::vector<int64_t> values) {
    WriteInt64Tensor({static_cast<int64_t>(values.size())}, values, name, graph_->add_initializer());
    return name;
  }
  absl::Status Pool(const Node& n, absl::string_view op_type);

  const std::map<std::string, Tensor>& variables_;
  onnx::GraphProto* graph_;
};

absl::Status Exporter::Pool(const Node& n, absl::string_view op_type) {
  STRATA_ASSIGN_OR_RETURN(int64_t size, n.Attr<int64_t>("size"));
  STRATA_ASSIGN_OR_RETURN(int64_t stride, n.Attr<int64_t>("stride"));
  STRATA_ASSIGN_OR_RETURN(int64_t pad, n.Attr<int64_t>("pad"));
  STRATA_ASSIGN_OR_RETURN(bool ceil_mode, n.Attr<bool>("ceil_mode"));
  onnx::NodeProto* p = AddNode(n, op_type, Inputs(n));
  Ints(p, "kernel_shape", {size, size});
  Ints(p, "strides", {stride, stride});
  Ints(p, "pads", {pad, pad, pad, pad});
  Int(p, "ceil_mode", ceil_mode);
  if (op_type == "AveragePool") Int(p, "count_include_pad", 0);  // Strata never counts padding
  return absl::OkStatus();
}

absl::Status Exporter::Export(const Node& n) {
  const std::string& op = n.op();
  if (op == "Placeholder") {
    if (n.output_spec(0).dtype != DType::kFloat32) return Unimplemented(n, "only float32 inputs are exported");
    SetTensorType(n.output_spec(0), n.name(), graph_->add_input());
    return absl::OkStatus();
  }
  if (op == "Variable" || op == "Const") {
    Tensor value;
    if (op == "Variable") {
      auto it = variables_.find(n.name());
      if (it == variables_.end()) {
        return absl::NotFoundError(absl::StrCat(n.Describe(), ": no value for the variable (load a checkpoint or "
                                                "initialise the variables first)"));
      }
      value = it->second;
    } else {
      STRATA_ASSIGN_OR_RETURN(value, n.Attr<Tensor>("value"));
    }
    if (value.dtype() != DType::kFloat32 || value.shape() != n.output_spec(0).shape) {
      return absl::InvalidArgumentError(absl::StrCat(n.Describe(), ": value ", value.spec().ToString(),
                                                     " does not match ", n.output_spec(0).ToString()));
    }
    WriteFloatTensor(value, n.name(), graph_->add_initializer());
    return absl::OkStatus();
  }
  if (op == "Conv2D") {
    STRATA_ASSIGN_OR_RETURN(int64_t stride, n.Attr<int64_t>("stride"));
    STRATA_ASSIGN_OR_RETURN(int64_t pad, n.Attr<int64_t>("pad"));
    STRATA_ASSIGN_OR_RETURN(int64_t groups, n.Attr<int64_t>("groups"));
    // floor_mode needs nothing: ONNX always rounds down, and without it the
    // division is exact.
    const Shape& w = n.inputs()[1].shape();
    onnx::NodeProto* p = AddNode(n, "Conv", Inputs(n));
    Ints(p, "kernel_shape", {w[2], w[3]});
    Ints(p, "strides", {stride, stride});
    Ints(p, "pads", {pad, pad, pad, pad});
    Int(p, "group", groups);
    return absl::OkStatus();
  }
  if (op == "MatMul") {
    STRATA_ASSIGN_OR_RETURN(bool ta, n.Attr<bool>("transpose_a"));
    STRATA_ASSIGN_OR_RETURN(bool tb, n.Attr<bool>("transpose_b"));
    if (!ta && !tb) {
      AddNode(n, "MatMul", Inputs(n));
    } else {
      onnx::NodeProto* p = AddNode(n, "Gemm", Inputs(n));
      Int(p, "transA", ta);
      Int(p, "transB", tb);
    }
    return absl::OkStatus();
  }
  if (op == "BiasAdd") {
    std::vector<std::string> in = Inputs(n);
    const Shape& x = n.inputs()[0].shape();
    if (x.rank() > 2) {
      // ONNX broadcasts from the last axis: the bias becomes [C,1,...,1].
      std::vector<int64_t> dims(x.rank() - 1, 1);
      dims[0] = x[1];
      const std::string shaped = absl::StrCat(n.name(), "/bias");
      onnx::NodeProto* r = graph_->add_node();
      r->set_name(shaped);
      r->set_op_type("Reshape");
      r->add_input(in[1]);
      r->add_input(Int64Constant(absl::StrCat(n.name(), "/bias_shape"), dims));
      r->add_output(shaped);
      in[1] = shaped;
    }
    AddNode(n, "Add", in);
    return absl::OkStatus();
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Relu" || op == "Tanh" || op == "Sigmoid") {
    AddNode(n, op, Inputs(n));
    return absl::OkStatus();
  }
  if (op == "Softmax") {
    Int(AddNode(n, "Softmax", Inputs(n)), "axis", 1);  // [N,C]: axis 1 is the last
    return absl::OkStatus();
  }
  if (op == "MaxPool") return Pool(n, "MaxPool");
  if (op == "AvgPool") return Pool(n, "AveragePool");
  if (op == "GlobalAvgPool") {
    AddNode(n, "GlobalAveragePool", Inputs(n));
    return absl::OkStatus();
  }
  if (op == "BatchNorm") {
    STRATA_ASSIGN_OR_RETURN(double epsilon, n.Attr<double>("epsilon"));
    STRATA_ASSIGN_OR_RETURN(double momentum, n.Attr<double>("momentum"));
    onnx::NodeProto* p = AddNode(n, "BatchNormalization", Inputs(n));
    Float(p, "epsilon", epsilon);
    Float(p, "momentum", 1.0 - momentum);  // ONNX weighs the running value
    return absl::OkStatus();
  }
  if (op == "LRN") {
    STRATA_ASSIGN_OR_RETURN(int64_t size, n.Attr<int64_t>("size"));
    STRATA_ASSIGN_OR_RETURN(double alpha, n.Attr<double>("alpha"));
    STRATA_ASSIGN_OR_RETURN(double beta, n.Attr<double>("beta"));
    STRATA_ASSIGN_OR_RETURN(double k, n.Attr<double>("k"));
    onnx::NodeProto* p = AddNode(n, "LRN", Inputs(n));
    Int(p, "size", size);
    Float(p, "alpha", alpha);
    Float(p, "beta", beta);
    Float(p, "bias", k);
    return absl::OkStatus();
  }
  if (op == "Dropout") {
    STRATA_ASSIGN_OR_RETURN(double rate, n.Attr<double>("rate"));
    const std::string ratio = absl::StrCat(n.name(), "/ratio");
    WriteFloatTensor(Tensor::Scalar<float>(static_cast<float>(rate)), ratio, graph_->add_initializer());
    AddNode(n, "Dropout", {ValueName(n.inputs()[0]), ratio});
    return absl::OkStatus();
  }
  if (op == "Concat") {
    STRATA_ASSIGN_OR_RETURN(int64_t axis, n.Attr<int64_t>("axis"));
    Int(AddNode(n, "Concat", Inputs(n)), "axis", axis);
    return absl::OkStatus();
  }
  if (op == "Reshape") {
    // The inferred shape, so no -1 is left for ONNX to work out.
    AddNode(n, "Reshape",
            {ValueName(n.inputs()[0]), Int64Constant(absl::StrCat(n.name(), "/shape"), n.output_spec(0).shape.dims())});
    return absl::OkStatus();
  }
  if (op == "Slice") {
    STRATA_ASSIGN_OR_RETURN(int64_t axis, n.Attr<int64_t>("axis"));
    STRATA_ASSIGN_OR_RETURN(int64_t begin, n.Attr<int64_t>("begin"));
    STRATA_ASSIGN_OR_RETURN(int64_t size, n.Attr<int64_t>("size"));
    AddNode(n, "Slice",
            {ValueName(n.inputs()[0]), Int64Constant(absl::StrCat(n.name(), "/starts"), {begin}),
             Int64Constant(absl::StrCat(n.name(), "/ends"), {begin + size}),
             Int64Constant(absl::StrCat(n.name(), "/axes"), {axis})});
    return absl::OkStatus();
  }
  return Unimplemented(n, "no ONNX counterpart (an inference graph is exported: fetch the logits, not the loss)");
}

}  // namespace

absl::StatusOr<onnx::ModelProto> ExportOnnx(const Graph& graph, const std::vector<Output>& outputs,
                                            const std::map<std::string, Tensor>& variables,
                                            const ExportOptions& options) {
  STRATA_RETURN_IF_ERROR(graph.status());
  if (outputs.empty()) return absl::InvalidArgumentError("nothing to export: no outputs");
  if (!options.output_names.empty() && options.output_names.size() != outputs.size()) {
    return absl::InvalidArgumentError("output_names must name every output");
  }
  // What the outputs need, and which outputs of multi-output nodes are read.
  std::set<const Node*> needed;
  std::vector<const Node*> stack;
  for (const Output& o : outputs) {
    if (!o.valid()) return absl::InvalidArgumentError("an output to export is invalid");
    stack.push_back(o.node);
  }
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!needed.insert(n).second) continue;
    for (const Output& in : n->inputs()) {
      if (in.index != 0) {
        return absl::UnimplementedError(absl::StrCat(n->Describe(), ": reads output ", in.index, " of ",
                                                     in.node->Describe(), ", which ONNX has no counterpart for"));
      }
      stack.push_back(in.node);
    }
  }
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name(options.producer_name);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(kExportOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(options.graph_name);
  Exporter exporter(variables, g);
  for (const auto& node : graph.nodes()) {  // nodes are in topological order (inputs come first)
    if (needed.count(node.get())) STRATA_RETURN_IF_ERROR(exporter.Export(*node));
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    std::string name = ValueName(outputs[i]);
    if (!options.output_names.empty() && options.output_names[i] != name) {
      onnx::NodeProto* id = g->add_node();
      id->set_name(options.output_names[i]);
      id->set_op_type("Identity");
      id->add_input(name);
      id->add_output(options.output_names[i]);
      name = options.output_names[i];
    }
    SetTensorType(outputs[i].spec(), name, g->add_output());
  }
  return model;
}

absl::Status CheckOnnxModel(const onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("the ONNX checker rejects the model: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status SaveOnnxFile(const onnx::ModelProto& model, const std::string& path) {
  std::string bytes;
  if (!model.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serialise the ONNX model for '", path, "' (over 2 GiB?)"));
  }
  return serialization::WriteFileAtomically(path, bytes, "ONNX file");
}

}  // namespace strata::onnx_io
