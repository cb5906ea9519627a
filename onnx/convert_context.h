// What a converter (one ONNX op -> Strata ops) sees: the node's inputs as
// graph values or as constants known at import time, its attributes with
// ONNX's defaults, and helpers whose errors name the node, the op and the
// attribute. The importer (onnx/import.cc) owns the state across nodes.
#ifndef STRATA_ONNX_CONVERT_CONTEXT_H_
#define STRATA_ONNX_CONVERT_CONTEXT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "onnx/onnx_pb.h"
#include "onnx/tensor_proto.h"

namespace strata::onnx_io {

// One ONNX value (a name in the graph): a graph Output once materialised,
// and its data when it is known at import time.
struct Value {
  Output output;
  std::optional<OnnxTensor> constant;
  // A graph initializer: it becomes a Variable (trainable, checkpointed)
  // when a converter uses it as a graph value, a plain constant otherwise.
  bool initializer = false;
  std::string onnx_name;
};

struct ImportState {
  explicit ImportState(Graph& g) : graph(g) {}
  Graph& graph;
  int64_t opset = 0;
  std::map<std::string, Value> values;
  // Variable node name -> initial value, for every initializer made a Variable.
  std::map<std::string, Tensor> initial_values;
  // Variable node name -> the ONNX initializer it came from.
  std::map<std::string, std::string> variable_sources;
};

// A name Strata can use: ONNX's "/layer1/layer1.0/conv1/Conv" becomes
// "layer1/layer1.0/conv1/Conv"; characters outside [A-Za-z0-9_./-] (":" would
// break "node:index" references) become '_'.
std::string SanitizeName(absl::string_view onnx_name);

// The Strata name of a node. PyTorch names nodes by module scopes, each the
// full dotted path so far ("/layer1/layer1.0/conv1/Conv"); these become one
// path as PyTorch names the parameters, "layer1.0.conv1/Conv", so that a
// layer's nodes and its variables ("layer1.0.conv1/weights", see
// VariableName) share their first component, which is how `strata summary`
// groups a layer.
std::string NodeName(absl::string_view onnx_name);

// The Strata name of a variable made from an initializer first used as
// input `index` of a node of type `op_type` named `node_name` (Strata's).
// Names with a '/' are kept (Strata's own exports). Otherwise parameters get
// Strata's names: "conv1.weight" of a Conv becomes "conv1/weights", a batch
// norm's "bn1.weight" and "bn1.bias" "bn1/gamma" and "bn1/beta"; names
// PyTorch generates for folded constants ("onnx::Conv_193") become
// "<node_name>/weights" and the like.
std::string VariableName(absl::string_view onnx_name, absl::string_view node_name, absl::string_view op_type,
                         int index);

class ConvertContext {
 public:
  ConvertContext(ImportState& state, const onnx::NodeProto& node, std::string name)
      : state_(state), node_(node), name_(std::move(name)) {}

  Graph& graph() { return state_.graph; }
  int64_t opset() const { return state_.opset; }
  const onnx::NodeProto& node() const { return node_; }
  // The Strata name of the node's main op; helper ops are SubName("pad"), ...
  const std::string& name() const { return name_; }
  std::string SubName(absl::string_view suffix) const { return absl::StrCat(name_, "/", suffix); }
  // "ONNX node 'conv1' (Conv)": how every message starts.
  std::string Describe() const;

  // Inputs. An optional input left out is an empty name.
  bool HasInput(int i) const;
  // Input i as a float graph value: an initializer becomes a Variable (the
  // first use decides `trainable`), a constant a Const.
  absl::StatusOr<Output> Input(int i, bool trainable = true);
  // Input i with these dims (same element count): an initializer or constant
  // not used yet is created in that shape (a bias [C,1,1] becomes a [C]
  // variable), anything else is reshaped by a node named SubName(suffix).
  absl::StatusOr<Output> InputAs(int i, std::vector<int64_t> dims, absl::string_view suffix);
  // Input i's data, which must be known at import time (an initializer or a
  // Constant's output): Unimplemented otherwise, naming the input.
  absl::StatusOr<OnnxTensor> ConstantInput(int i, absl::string_view role);
  // True when input i's data is known at import time and it is not yet a
  // graph value (an initializer or a Constant's or folded node's output).
  bool IsConstantInput(int i);
  // Shape of input i (constant or graph value).
  absl::StatusOr<std::vector<int64_t>> InputDims(int i);

  // Attributes, with ONNX's defaults when absent; a wrong type is
  // InvalidArgument naming the attribute.
  bool HasAttr(absl::string_view name) const { return FindAttr(name) != nullptr; }
  absl::StatusOr<int64_t> IntAttr(absl::string_view name, int64_t default_value) const;
  absl::StatusOr<float> FloatAttr(absl::string_view name, float default_value) const;
  absl::StatusOr<std::vector<int64_t>> IntsAttr(absl::string_view name, std::vector<int64_t> default_value) const;
  absl::StatusOr<std::string> StringAttr(absl::string_view name, std::string default_value) const;
  const onnx::AttributeProto* FindAttr(absl::string_view name) const;

  // Outputs: a requested output has a non-empty name.
  bool OutputRequested(int i) const { return i < node_.output_size() && !node_.output(i).empty(); }
  // Records output i; an invalid Output means the graph recorded an error,
  // which is returned prefixed with Describe().
  absl::Status SetOutput(int i, Output o);
  absl::Status SetConstantOutput(int i, OnnxTensor t);
  // Any optional output i and above that is requested: Unimplemented.
  absl::Status RejectOutputsFrom(int i, absl::string_view what) const;

  // Errors. Unimplemented: "ONNX node 'x' (Conv): attribute 'dilations' =
  // [2,2]: <why>"; an empty attribute leaves that part out.
  absl::Status Unimplemented(absl::string_view attribute, absl::string_view why) const;
  absl::Status Invalid(absl::string_view why) const;
  // The graph's error (after a builder returned an invalid Output), prefixed.
  absl::Status GraphError() const;

 private:
  Value* FindValue(int i);
  // The value of input i, or the error naming it.
  absl::StatusOr<Value*> Lookup(int i);
  absl::StatusOr<Output> Materialize(int i, bool trainable, const std::vector<int64_t>* dims);
  std::string AttrToString(absl::string_view name) const;

  ImportState& state_;
  const onnx::NodeProto& node_;
  std::string name_;
};

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_CONVERT_CONTEXT_H_
