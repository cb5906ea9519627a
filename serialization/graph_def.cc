#include "serialization/graph_def.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "graph/status_macros.h"
#include "ops/registry.h"
#include "serialization/checkpoint.h"

namespace strata::serialization {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor data is stored as raw little-endian bytes; a big-endian host needs byte swapping");

bool KnownDType(int dtype) {
  return dtype == static_cast<int>(DType::kFloat32) || dtype == static_cast<int>(DType::kFloat64) ||
         dtype == static_cast<int>(DType::kInt32) || dtype == static_cast<int>(DType::kUInt8);
}

void AttrToProto(const AttrValue& v, proto::AttrValue* out) {
  struct Visitor {
    proto::AttrValue* out;
    void operator()(int64_t x) const { out->set_i(x); }
    void operator()(double x) const { out->set_f(x); }
    void operator()(bool x) const { out->set_b(x); }
    void operator()(const std::string& x) const { out->set_s(x); }
    void operator()(const std::vector<int64_t>& x) const {
      out->mutable_list()->mutable_i()->Add(x.begin(), x.end());
    }
    void operator()(const Tensor& x) const { TensorToProto(x, out->mutable_tensor()); }
  };
  std::visit(Visitor{out}, v);
}

// The byte size of `spec`, or nullopt when it overflows int64 (or a
// dimension is not positive, or the dtype unknown).
std::optional<int64_t> CheckedByteSize(const TensorSpec& spec) {
  int64_t bytes = SizeOf(spec.dtype);
  if (bytes <= 0) return std::nullopt;
  for (int64_t d : spec.shape.dims()) {
    if (d <= 0 || bytes > std::numeric_limits<int64_t>::max() / d) return std::nullopt;
    bytes *= d;
  }
  return bytes;
}

// What one FromGraphDef call may still allocate for tensor attributes.
struct ConstBudget {
  const GraphLimits& limits;
  int64_t total = 0;
};

// A tensor attribute's size is checked against the limits from its dtype and
// dims alone, before the tensor is allocated.
absl::Status CheckTensorAttr(const proto::TensorProto& p, ConstBudget& budget) {
  auto spec = SpecFromProto(p.dtype(), absl::MakeConstSpan(p.dims().data(), p.dims().size()));
  if (!spec.ok()) return absl::InvalidArgumentError(absl::StrCat("tensor: ", spec.status().message()));
  std::optional<int64_t> bytes = CheckedByteSize(*spec);
  if (!bytes) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", spec->ToString(), ": byte size overflows int64"));
  }
  if (*bytes > budget.limits.max_tensor_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("tensor ", spec->ToString(), " is ", *bytes,
                                                     " bytes, over the limit of ", budget.limits.max_tensor_bytes,
                                                     " (GraphLimits::max_tensor_bytes)"));
  }
  if (*bytes > budget.limits.max_total_const_bytes - budget.total) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tensor ", spec->ToString(), " is ", *bytes, " bytes, which takes the graph's tensor attributes over ",
        budget.limits.max_total_const_bytes, " bytes in all (GraphLimits::max_total_const_bytes)"));
  }
  budget.total += *bytes;
  return absl::OkStatus();
}

absl::StatusOr<AttrValue> AttrFromProto(const proto::AttrValue& v, ConstBudget& budget) {
  switch (v.value_case()) {
    case proto::AttrValue::kI: return AttrValue(v.i());
    case proto::AttrValue::kF: return AttrValue(v.f());
    case proto::AttrValue::kB: return AttrValue(v.b());
    case proto::AttrValue::kS: return AttrValue(v.s());
    case proto::AttrValue::kList:
      return AttrValue(std::vector<int64_t>(v.list().i().begin(), v.list().i().end()));
    case proto::AttrValue::kTensor: {
      STRATA_RETURN_IF_ERROR(CheckTensorAttr(v.tensor(), budget));
      STRATA_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(v.tensor()));
      return AttrValue(std::move(t));
    }
    case proto::AttrValue::VALUE_NOT_SET: break;
  }
  return absl::InvalidArgumentError("has no value");
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Where each name of the GraphDef is defined, so that an input that names a
// later node (or the node itself) is reported as the cycle it would make.
using Positions = absl::flat_hash_map<absl::string_view, int>;

absl::Status Undefined(const std::string& where, absl::string_view kind, const std::string& input,
                       absl::string_view name, int position, const Positions& positions) {
  auto it = positions.find(name);
  std::string why;
  if (it != positions.end() && it->second == position) {
    why = "names the node itself (a cycle)";
  } else if (it != positions.end() && it->second > position) {
    why = absl::StrCat("names node #", it->second, ", defined after it (a cycle, or nodes out of order)");
  } else {
    why = "names no node defined before it";
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": ", kind, " '", input, "' ", why, " (inputs must precede their consumers)"));
}

// "node:index" (ToGraphDef's form) or a bare "node" for output 0. A name that
// itself contains ':' may be given bare when what follows its last ':' is not
// an index.
absl::StatusOr<Output> ResolveInput(const Graph& g, const std::string& input, const std::string& where,
                                    int position, const Positions& positions) {
  absl::string_view name = input;
  int index = 0;
  const size_t colon = input.rfind(':');
  if (colon != std::string::npos) {
    const absl::string_view suffix = absl::string_view(input).substr(colon + 1);
    int64_t i = 0;
    if (AllDigits(suffix) && suffix.size() <= 10 && absl::SimpleAtoi(suffix, &i) &&
        i <= std::numeric_limits<int>::max()) {
      name = absl::string_view(input).substr(0, colon);
      index = static_cast<int>(i);
    } else if (g.FindNode(input) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input '", input, "' has an invalid output index '",
                                                     suffix, "' (inputs are 'node:index' or 'node')"));
    }
  }
  Node* src = g.FindNode(name);
  if (src == nullptr) return Undefined(where, "input", input, name, position, positions);
  if (index >= src->num_outputs()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": input '", input, "' is out of range (node '", name,
                                                   "' has ", src->num_outputs(), " outputs)"));
  }
  return src->output(index);
}

absl::Status NodeFromProto(const proto::NodeDef& nd, int position, const Positions& positions,
                           ConstBudget& budget, Graph* out) {
  if (nd.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("GraphDef node #", position, " (op '", nd.op(), "') has no name"));
  }
  const std::string where = absl::StrCat("GraphDef node '", nd.name(), "' (op '", nd.op(), "')");
  if (out->FindNode(nd.name()) != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat(where, ": the name is already taken by an earlier node"));
  }
  auto def = ops::Registry().Lookup(nd.op());
  if (!def.ok()) return absl::Status(def.status().code(), absl::StrCat(where, ": ", def.status().message()));

  std::vector<Output> inputs;
  inputs.reserve(nd.input_size());
  for (const std::string& in : nd.input()) {
    STRATA_ASSIGN_OR_RETURN(Output o, ResolveInput(*out, in, where, position, positions));
    inputs.push_back(o);
  }
  std::vector<Node*> control;
  for (const std::string& name : nd.control_input()) {
    Node* src = out->FindNode(name);
    if (src == nullptr) return Undefined(where, "control input", name, name, position, positions);
    control.push_back(src);
  }
  AttrMap attrs;
  for (const auto& [key, value] : nd.attr()) {
    auto v = AttrFromProto(value, budget);
    if (!v.ok()) return absl::Status(v.status().code(), absl::StrCat(where, ": attribute '", key, "' ", v.status().message()));
    attrs.Set(key, *std::move(v));
  }
  STRATA_ASSIGN_OR_RETURN(Node * node,
                          out->AddNodeExact(**def, nd.name(), std::move(inputs), std::move(attrs), std::move(control)));
  // The graph only infers specs; nothing is allocated until a Session plans
  // the node, so checking its outputs here is still before any allocation.
  for (int i = 0; i < node->num_outputs(); ++i) {
    const TensorSpec& spec = node->output_spec(i);
    std::optional<int64_t> bytes = CheckedByteSize(spec);
    absl::Status s;
    if (!bytes) {
      s = absl::InvalidArgumentError(absl::StrCat(where, ": output ", i, " ", spec.ToString(),
                                                  " has a byte size that overflows int64"));
    } else if (*bytes > budget.limits.max_tensor_bytes) {
      s = absl::ResourceExhaustedError(absl::StrCat(where, ": output ", i, " ", spec.ToString(), " is ", *bytes,
                                                    " bytes, over the limit of ", budget.limits.max_tensor_bytes,
                                                    " (GraphLimits::max_tensor_bytes)"));
    }
    if (!s.ok()) {
      out->RecordError(s);
      return s;
    }
  }
  return absl::OkStatus();
}

// Protobuf cannot parse a message over 2 GiB, so nothing larger is read.
constexpr uint64_t kMaxGraphFileBytes = std::numeric_limits<int>::max();

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path, ": cannot open"));
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path, ": cannot stat"));
  }
  // A device or pipe (/dev/zero) could be read forever.
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": not a regular file"));
  }
  auto too_large = [&](uint64_t size) {
    return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": ", size, " bytes, over the ",
                                                   kMaxGraphFileBytes, "-byte limit of a GraphDef"));
  };
  if (static_cast<uint64_t>(st.st_size) > kMaxGraphFileBytes) {
    ::close(fd);
    return too_large(static_cast<uint64_t>(st.st_size));
  }
  data.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return absl::ErrnoToStatus(err, absl::StrCat(what, " ", path, ": read failed"));
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > kMaxGraphFileBytes) {  // it grew while being read
      ::close(fd);
      return too_large(data.size());
    }
  }
  ::close(fd);
  return data;
}

}  // namespace

bool SerializeDeterministic(const google::protobuf::MessageLite& m, std::string* out) {
  out->clear();
  google::protobuf::io::StringOutputStream stream(out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  return m.SerializeToCodedStream(&coded) && !coded.HadError();
}

absl::StatusOr<TensorSpec> SpecFromProto(int dtype, absl::Span<const int64_t> dims) {
  if (!KnownDType(dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown dtype ", dtype,
                                                   " (1 float32, 2 float64, 3 int32, 4 uint8)"));
  }
  STRATA_ASSIGN_OR_RETURN(Shape shape, Shape::Validated(std::vector<int64_t>(dims.begin(), dims.end())));
  return TensorSpec{static_cast<DType>(dtype), std::move(shape)};
}

void TensorToProto(const Tensor& tensor, proto::TensorProto* out) {
  out->set_dtype(static_cast<proto::DataType>(tensor.dtype()));
  out->mutable_dims()->Add(tensor.shape().dims().begin(), tensor.shape().dims().end());
  if (tensor.valid()) out->set_data(tensor.raw_data(), static_cast<size_t>(tensor.num_bytes()));
}

absl::StatusOr<Tensor> TensorFromProto(const proto::TensorProto& p) {
  auto spec = SpecFromProto(p.dtype(), absl::MakeConstSpan(p.dims().data(), p.dims().size()));
  if (!spec.ok()) return absl::InvalidArgumentError(absl::StrCat("tensor: ", spec.status().message()));
  const int64_t expected = spec->shape.num_elements() * SizeOf(spec->dtype);
  if (static_cast<uint64_t>(p.data().size()) != static_cast<uint64_t>(expected)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", spec->ToString(), ": data has ", p.data().size(),
                                                   " bytes, expected ", expected));
  }
  Tensor t(*spec);
  std::memcpy(t.raw_data(), p.data().data(), p.data().size());
  return t;
}

proto::GraphDef ToGraphDef(const Graph& graph) {
  proto::GraphDef def;
  def.set_version(kGraphDefVersion);
  for (const auto& node : graph.nodes()) {
    proto::NodeDef* nd = def.add_node();
    nd->set_name(node->name());
    nd->set_op(node->op());
    for (const Output& in : node->inputs()) nd->add_input(in.name());
    for (const Node* c : node->control_inputs()) nd->add_control_input(c->name());
    for (const auto& [key, value] : node->attrs().values()) AttrToProto(value, &(*nd->mutable_attr())[key]);
  }
  return def;
}

absl::Status FromGraphDef(const proto::GraphDef& def, Graph* out, const GraphLimits& limits) {
  if (def.version() != kGraphDefVersion) {
    return absl::InvalidArgumentError(absl::StrCat("GraphDef version ", def.version(),
                                                   " is not supported (this build reads version ",
                                                   kGraphDefVersion, ")"));
  }
  if (def.node_size() > limits.max_nodes - out->num_nodes()) {
    return absl::ResourceExhaustedError(absl::StrCat("GraphDef has ", def.node_size(), " nodes",
                                                     out->num_nodes() > 0 ? absl::StrCat(" (the graph already has ", out->num_nodes(), ")") : "",
                                                     ", over the limit of ", limits.max_nodes,
                                                     " (GraphLimits::max_nodes)"));
  }
  Positions positions;
  positions.reserve(def.node_size());
  for (int i = 0; i < def.node_size(); ++i) positions.emplace(def.node(i).name(), i);  // keeps the first
  ConstBudget budget{limits};
  for (int i = 0; i < def.node_size(); ++i) {
    STRATA_RETURN_IF_ERROR(NodeFromProto(def.node(i), i, positions, budget, out));
  }
  return absl::OkStatus();
}

absl::Status SaveGraph(const Graph& graph, const std::string& path) {
  if (!graph.status().ok()) {
    return absl::FailedPreconditionError(absl::StrCat("graph file ", path, ": cannot save a graph with an error: ",
                                                      graph.status().message()));
  }
  std::string bytes;
  if (!SerializeDeterministic(ToGraphDef(graph), &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("graph file ", path,
                                                   ": the GraphDef cannot be serialized (over 2 GiB of constants?)"));
  }
  return WriteFileAtomically(path, bytes, "graph file");
}

absl::StatusOr<std::unique_ptr<Graph>> LoadGraph(const std::string& path, const GraphLimits& limits) {
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, "graph file"));
  proto::GraphDef def;
  if (!def.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("graph file ", path, ": not a valid GraphDef (", bytes.size(), " bytes)"));
  }
  auto graph = std::make_unique<Graph>();
  absl::Status s = FromGraphDef(def, graph.get(), limits);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("graph file ", path, ": ", s.message()));
  return graph;
}

}  // namespace strata::serialization
