#include "serialization/graph_def.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

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

absl::StatusOr<AttrValue> AttrFromProto(const proto::AttrValue& v) {
  switch (v.value_case()) {
    case proto::AttrValue::kI: return AttrValue(v.i());
    case proto::AttrValue::kF: return AttrValue(v.f());
    case proto::AttrValue::kB: return AttrValue(v.b());
    case proto::AttrValue::kS: return AttrValue(v.s());
    case proto::AttrValue::kList:
      return AttrValue(std::vector<int64_t>(v.list().i().begin(), v.list().i().end()));
    case proto::AttrValue::kTensor: {
      STRATA_ASSIGN_OR_RETURN(Tensor t, TensorFromProto(v.tensor()));
      return AttrValue(std::move(t));
    }
    case proto::AttrValue::VALUE_NOT_SET: break;
  }
  return absl::InvalidArgumentError("has no value");
}

// "node:index" (ToGraphDef's form) or a bare "node" for output 0.
void ParseInput(const std::string& input, std::string* node, int* index) {
  *node = input;
  *index = 0;
  size_t colon = input.rfind(':');
  if (colon == std::string::npos) return;
  int i = 0;
  if (absl::SimpleAtoi(absl::string_view(input).substr(colon + 1), &i) && i >= 0) {
    *node = input.substr(0, colon);
    *index = i;
  }
}

absl::Status NodeFromProto(const proto::NodeDef& nd, int position, Graph* out) {
  if (nd.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("GraphDef node #", position, " (op '", nd.op(), "') has no name"));
  }
  const std::string where = absl::StrCat("GraphDef node '", nd.name(), "' (op '", nd.op(), "')");
  auto def = ops::Registry().Lookup(nd.op());
  if (!def.ok()) return absl::Status(def.status().code(), absl::StrCat(where, ": ", def.status().message()));

  std::vector<Output> inputs;
  for (const std::string& in : nd.input()) {
    std::string name;
    int index = 0;
    ParseInput(in, &name, &index);
    Node* src = out->FindNode(name);
    if (src == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input '", in,
                                                     "' is not defined before it (inputs must precede their consumers)"));
    }
    if (index >= src->num_outputs()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": input '", in, "' is out of range (node '", name,
                                                     "' has ", src->num_outputs(), " outputs)"));
    }
    inputs.push_back(src->output(index));
  }
  std::vector<Node*> control;
  for (const std::string& name : nd.control_input()) {
    Node* src = out->FindNode(name);
    if (src == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": control input '", name,
                                                     "' is not defined before it (inputs must precede their consumers)"));
    }
    control.push_back(src);
  }
  AttrMap attrs;
  for (const auto& [key, value] : nd.attr()) {
    auto v = AttrFromProto(value);
    if (!v.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": attribute '", key, "' ", v.status().message()));
    attrs.Set(key, *std::move(v));
  }
  return out->AddNodeExact(**def, nd.name(), std::move(inputs), std::move(attrs), std::move(control)).status();
}

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, absl::StrCat(what, " ", path, ": cannot open"));
  std::string data;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
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

absl::Status FromGraphDef(const proto::GraphDef& def, Graph* out) {
  if (def.version() != kGraphDefVersion) {
    return absl::InvalidArgumentError(absl::StrCat("GraphDef version ", def.version(),
                                                   " is not supported (this build reads version ",
                                                   kGraphDefVersion, ")"));
  }
  for (int i = 0; i < def.node_size(); ++i) STRATA_RETURN_IF_ERROR(NodeFromProto(def.node(i), i, out));
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

absl::StatusOr<std::unique_ptr<Graph>> LoadGraph(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, "graph file"));
  proto::GraphDef def;
  if (!def.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("graph file ", path, ": not a valid GraphDef (", bytes.size(), " bytes)"));
  }
  auto graph = std::make_unique<Graph>();
  absl::Status s = FromGraphDef(def, graph.get());
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat("graph file ", path, ": ", s.message()));
  return graph;
}

}  // namespace strata::serialization
