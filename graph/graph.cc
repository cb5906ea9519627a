#include "graph/graph.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"

namespace strata {
namespace {

// Every dimension positive and elements * element size within int64.
bool ValidByteSize(const TensorSpec& spec) {
  int64_t bytes = SizeOf(spec.dtype);
  if (bytes <= 0) return false;
  for (int64_t d : spec.shape.dims()) {
    if (d <= 0 || bytes > std::numeric_limits<int64_t>::max() / d) return false;
    bytes *= d;
  }
  return true;
}

}  // namespace

const TensorSpec& Output::spec() const { return node->output_spec(index); }

std::string Output::name() const { return absl::StrCat(node->name(), ":", index); }

std::string Node::Describe() const { return absl::StrCat(op(), " node '", name_, "'"); }

InferenceContext::InferenceContext(const Node& node, std::vector<TensorSpec> inputs, int num_outputs)
    : node_(node), inputs_(std::move(inputs)), outputs_(num_outputs) {}

absl::Status InferenceContext::Error(absl::string_view message) const {
  std::vector<std::string> specs;
  for (const TensorSpec& s : inputs_) specs.push_back(s.ToString());
  return absl::InvalidArgumentError(absl::StrCat(node_.Describe(), ": ", message,
                                                 specs.empty() ? "" : " (inputs: ",
                                                 absl::StrJoin(specs, ", "), specs.empty() ? "" : ")"));
}

absl::Status InferenceContext::ExpectRank(int i, int rank) const {
  if (inputs_[i].shape.rank() == rank) return absl::OkStatus();
  return Error(absl::StrCat("input ", i, " must have rank ", rank, ", got ", inputs_[i].shape.ToString()));
}

absl::Status InferenceContext::ExpectDType(int i, DType dtype) const {
  if (inputs_[i].dtype == dtype) return absl::OkStatus();
  return Error(absl::StrCat("input ", i, " must be ", DTypeName(dtype), ", got ", DTypeName(inputs_[i].dtype)));
}

Graph::Scope::Scope(Graph& g, absl::string_view name) : graph_(g), previous_size_(g.scope_.size()) {
  g.scope_ = g.scope_.empty() ? std::string(name) : absl::StrCat(g.scope_, "/", name);
}

Graph::Scope::~Scope() { graph_.scope_.resize(previous_size_); }

std::string Graph::UniqueName(absl::string_view name) {
  std::string base = scope_.empty() ? std::string(name) : absl::StrCat(scope_, "/", name);
  if (!by_name_.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string candidate = absl::StrCat(base, "_", i);
    if (!by_name_.count(candidate)) return candidate;
  }
}

Node* Graph::AddNode(const OpDef& def, absl::string_view name, std::vector<Output> inputs, AttrMap attrs,
                     std::vector<Node*> control_inputs) {
  if (!status_.ok()) return nullptr;
  for (const Output& in : inputs) {
    // A failed upstream node has already recorded its error.
    if (!in.valid()) {
      RecordError(absl::InvalidArgumentError(
          absl::StrCat(def.name, " node '", name, "' has an invalid input (a failed or missing node)")));
      return nullptr;
    }
  }
  auto node = AddNodeInternal(def, UniqueName(name.empty() ? def.name : name), std::move(inputs),
                              std::move(attrs), std::move(control_inputs));
  if (!node.ok()) {
    RecordError(node.status());
    return nullptr;
  }
  return *node;
}

absl::StatusOr<Node*> Graph::AddNodeExact(const OpDef& def, absl::string_view name, std::vector<Output> inputs,
                                          AttrMap attrs, std::vector<Node*> control_inputs) {
  if (by_name_.count(std::string(name))) {
    return absl::AlreadyExistsError(absl::StrCat("a node named '", name, "' already exists"));
  }
  for (const Output& in : inputs) {
    if (!in.valid()) return absl::InvalidArgumentError(absl::StrCat("node '", name, "' has an invalid input"));
  }
  return AddNodeInternal(def, std::string(name), std::move(inputs), std::move(attrs), std::move(control_inputs));
}

absl::StatusOr<Node*> Graph::AddNodeInternal(const OpDef& def, std::string name, std::vector<Output> inputs,
                                             AttrMap attrs, std::vector<Node*> control_inputs) {
  auto node = std::make_unique<Node>();
  node->id_ = static_cast<int>(nodes_.size());
  node->name_ = std::move(name);
  node->def_ = &def;
  const std::string where = node->Describe();

  if (def.num_inputs >= 0 && static_cast<int>(inputs.size()) != def.num_inputs) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expects ", def.num_inputs, " inputs, got ", inputs.size()));
  }
  if (def.num_inputs < 0 && inputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expects at least one input"));
  }
  for (const Node* c : control_inputs) {
    if (c == nullptr) return absl::InvalidArgumentError(absl::StrCat(where, ": a control input is null"));
  }
  for (const Output& in : inputs) {
    if (in.index < 0 || in.index >= in.node->num_outputs()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input ", in.node->name(), ":", in.index,
                                                     " is out of range"));
    }
  }
  // Every given attribute must be known; defaults fill the rest.
  for (const auto& [key, value] : attrs.values()) {
    bool known = def.attr_defaults.Has(key);
    for (const std::string& r : def.required_attrs) known |= (r == key);
    if (!known) return absl::InvalidArgumentError(absl::StrCat(where, ": unknown attribute '", key, "'"));
    if (def.attr_defaults.Has(key) &&
        def.attr_defaults.values().at(key).index() != value.index()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": attribute '", key, "' must be ",
                                                     AttrTypeName(def.attr_defaults.values().at(key)),
                                                     ", got ", AttrTypeName(value)));
    }
  }
  for (const std::string& r : def.required_attrs) {
    if (!attrs.Has(r)) return absl::InvalidArgumentError(absl::StrCat(where, ": missing attribute '", r, "'"));
  }
  for (const auto& [key, value] : def.attr_defaults.values()) {
    if (!attrs.Has(key)) attrs.Set(key, value);
  }
  node->attrs_ = std::move(attrs);
  node->inputs_ = std::move(inputs);
  node->control_inputs_ = std::move(control_inputs);

  std::vector<TensorSpec> in_specs;
  for (const Output& in : node->inputs_) in_specs.push_back(in.spec());
  InferenceContext ctx(*node, std::move(in_specs), def.num_outputs);
  if (def.shape_fn) STRATA_RETURN_IF_ERROR(def.shape_fn(ctx));
  for (int i = 0; i < def.num_outputs; ++i) {
    const TensorSpec& spec = ctx.outputs()[i];
    if (spec.dtype == DType::kInvalid) {
      return absl::InternalError(absl::StrCat(where, ": shape function left output ", i, " unset"));
    }
    // A Session allocates every output with its inferred spec, so a size that
    // cannot be represented is refused here, while nothing is allocated.
    if (!ValidByteSize(spec)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": output ", i, " ", spec.ToString(),
                                                     " has a dimension <= 0 or a byte size that overflows int64"));
    }
  }
  node->outputs_ = ctx.outputs();

  Node* raw = node.get();
  by_name_[raw->name_] = raw;
  nodes_.push_back(std::move(node));
  return raw;
}

Node* Graph::FindNode(absl::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : it->second;
}

absl::StatusOr<Output> Graph::FindOutput(absl::string_view name) const {
  absl::string_view node_name = name;
  int index = 0;
  if (size_t colon = name.rfind(':'); colon != absl::string_view::npos) {
    node_name = name.substr(0, colon);
    if (!absl::SimpleAtoi(name.substr(colon + 1), &index)) index = -1;
  }
  Node* n = FindNode(node_name);
  if (n == nullptr || index < 0 || index >= n->num_outputs()) {
    std::vector<std::string> some;
    for (size_t i = 0; i < nodes_.size() && some.size() < 10; ++i) some.push_back(nodes_[i]->name());
    return absl::NotFoundError(absl::StrCat("no output '", name, "' in the graph (", nodes_.size(),
                                            " nodes, e.g. ", absl::StrJoin(some, ", "), ")"));
  }
  return Output{n, index};
}

}  // namespace strata
