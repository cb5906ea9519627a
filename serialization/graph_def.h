// Graphs to and from GraphDef protos (serialization/strata.proto), and graph
// files: a model is a graph file plus a checkpoint, loadable with no model code.
#ifndef STRATA_SERIALIZATION_GRAPH_DEF_H_
#define STRATA_SERIALIZATION_GRAPH_DEF_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "graph/graph.h"
#include "serialization/strata.pb.h"

namespace strata::serialization {

// The GraphDef version this build writes and the newest it reads.
inline constexpr int32_t kGraphDefVersion = 1;

// Every node in graph order, with all attributes (defaults included) and
// inputs as "node:index".
proto::GraphDef ToGraphDef(const Graph& graph);

// What a GraphDef may ask for: a graph file is untrusted input, and every
// limit is checked before the memory it guards is allocated. Exceeding one is
// ResourceExhausted naming the node and the limit; a size that overflows
// int64 is InvalidArgument whatever the limits.
struct GraphLimits {
  int64_t max_nodes = 1'000'000;
  // Per tensor: every inferred output of every node (what a Session would
  // allocate for it) and every tensor attribute (Const values).
  int64_t max_tensor_bytes = int64_t{4} << 30;
  // All tensor attributes of the GraphDef together.
  int64_t max_total_const_bytes = int64_t{4} << 30;
};

// Adds the nodes of `def` to `out` (normally empty) under their exact names,
// looking ops up in ops::Registry(). Every input and control input must name
// a node defined earlier (in `def` or already in `out`): a cycle is therefore
// always an error. Inputs are "node:index" or a bare "node" (output 0).
// Errors name the node; an unknown op is NotFound listing the known ops. On
// error `out` may hold the nodes added before the failing one (and, when the
// failing node exceeded a size limit, that node too, with the error recorded
// in out->status() so that no Session runs it).
absl::Status FromGraphDef(const proto::GraphDef& def, Graph* out, const GraphLimits& limits = GraphLimits());

// A binary GraphDef file, written atomically like checkpoints. Errors name
// the file; a missing file is NotFound, an unparsable one DataLoss, one that
// is not a regular file FailedPrecondition.
absl::Status SaveGraph(const Graph& graph, const std::string& path);
absl::StatusOr<std::unique_ptr<Graph>> LoadGraph(const std::string& path,
                                                 const GraphLimits& limits = GraphLimits());

// Tensor <-> TensorProto (raw little-endian data).
void TensorToProto(const Tensor& tensor, proto::TensorProto* out);
// Checks the dtype is known, every dimension positive, the element count
// sane and the data exactly elements * dtype size; InvalidArgument otherwise.
absl::StatusOr<Tensor> TensorFromProto(const proto::TensorProto& proto);

// A spec from a serialized dtype number and dims, with the checks above;
// the message says what is wrong but not where (callers add that).
absl::StatusOr<TensorSpec> SpecFromProto(int dtype, absl::Span<const int64_t> dims);

// Serializes with maps in sorted order, so equal messages give equal bytes
// (saving the same graph or checkpoint twice gives the same file). False if
// the message cannot be serialized (over 2 GiB).
bool SerializeDeterministic(const google::protobuf::MessageLite& message, std::string* out);

}  // namespace strata::serialization

#endif  // STRATA_SERIALIZATION_GRAPH_DEF_H_
