// The dataflow graph: nodes with attributes, inputs and statically inferred
// output specs. Shapes are inferred as nodes are added; the first error is
// kept (with the node's name, op and shapes) and nothing runs on a graph that
// has one.
#ifndef STRATA_GRAPH_GRAPH_H_
#define STRATA_GRAPH_GRAPH_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "graph/attr.h"
#include "graph/op_def.h"
#include "graph/tensor.h"

namespace strata {

class Node;

// One output of a node: the edge type of the graph. An invalid Output stands
// for "no value" (a failed node, or no gradient).
struct Output {
  Node* node = nullptr;
  int index = 0;

  bool valid() const { return node != nullptr; }
  const TensorSpec& spec() const;
  const Shape& shape() const { return spec().shape; }
  DType dtype() const { return spec().dtype; }
  std::string name() const;  // "conv1/Conv2D:0"
  bool operator==(const Output& o) const { return node == o.node && index == o.index; }
};

class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& op() const { return def_->name; }
  const OpDef& def() const { return *def_; }
  const AttrMap& attrs() const { return attrs_; }
  const std::vector<Output>& inputs() const { return inputs_; }
  const std::vector<Node*>& control_inputs() const { return control_inputs_; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  const TensorSpec& output_spec(int i) const { return outputs_[i]; }
  const std::vector<TensorSpec>& output_specs() const { return outputs_; }
  Output output(int i = 0) { return Output{this, i}; }

  template <typename T>
  absl::StatusOr<T> Attr(const std::string& name) const { return attrs_.Get<T>(name); }
  // "Conv2D node 'conv1/Conv2D'", the prefix of every message about a node.
  std::string Describe() const;

 private:
  friend class Graph;
  int id_ = 0;
  std::string name_;
  const OpDef* def_ = nullptr;
  AttrMap attrs_;
  std::vector<Output> inputs_;
  std::vector<Node*> control_inputs_;
  std::vector<TensorSpec> outputs_;
};

class Graph {
 public:
  Graph() = default;
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Adds a node after checking its inputs and attributes and inferring its
  // outputs. Returns nullptr when the graph already has an error, when an
  // input is invalid, or when this node fails (the error is then recorded).
  // `name` is made unique within the current scope; empty means the op name.
  Node* AddNode(const OpDef& def, absl::string_view name, std::vector<Output> inputs,
                AttrMap attrs = {}, std::vector<Node*> control_inputs = {});
  // The same, but returns this node's error directly and keeps the exact name
  // (AlreadyExists if taken): for loaders, which must reproduce a graph.
  absl::StatusOr<Node*> AddNodeExact(const OpDef& def, absl::string_view name, std::vector<Output> inputs,
                                     AttrMap attrs, std::vector<Node*> control_inputs);

  // OK, or the first error recorded while building.
  const absl::Status& status() const { return status_; }
  // Records an error found by a builder outside AddNode (first one wins).
  void RecordError(absl::Status s) {
    if (status_.ok() && !s.ok()) status_ = std::move(s);
  }

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* FindNode(absl::string_view name) const;
  // NotFound listing a few known names when absent.
  absl::StatusOr<Output> FindOutput(absl::string_view name) const;

  // Names nodes added while alive as "<scope>/<name>"; scopes nest.
  class Scope {
   public:
    Scope(Graph& g, absl::string_view name);
    ~Scope();
   private:
    Graph& graph_;
    size_t previous_size_;
  };
  const std::string& scope() const { return scope_; }

 private:
  absl::StatusOr<Node*> AddNodeInternal(const OpDef& def, std::string name, std::vector<Output> inputs,
                                        AttrMap attrs, std::vector<Node*> control_inputs);
  std::string UniqueName(absl::string_view name);

  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, Node*> by_name_;
  std::string scope_;
  absl::Status status_;
};

template <typename T>
absl::StatusOr<T> InferenceContext::Attr(const std::string& name) const {
  auto v = node_.attrs().Get<T>(name);
  if (!v.ok()) return Error(v.status().message());
  return v;
}

template <typename T>
absl::StatusOr<T> KernelBuildContext::Attr(const std::string& name) const {
  auto v = node.attrs().Get<T>(name);
  if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(node.Describe(), ": ", v.status().message()));
  return v;
}

}  // namespace strata

#endif  // STRATA_GRAPH_GRAPH_H_
