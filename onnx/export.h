// Strata -> ONNX: the part of an inference graph that computes `outputs`,
// with its variables' values as initializers, as an opset-13 ModelProto that
// onnx::checker accepts and that ImportOnnx reads back to the same outputs.
// Placeholders reached become the graph inputs; ops without an exact ONNX
// counterpart are Unimplemented naming the node and the op.
#ifndef STRATA_ONNX_EXPORT_H_
#define STRATA_ONNX_EXPORT_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "onnx/onnx_pb.h"

namespace strata::onnx_io {

inline constexpr int64_t kExportOpset = 13;

struct ExportOptions {
  std::string producer_name = "strata";
  std::string graph_name = "strata";
  // ONNX names for the outputs (default: the output's node name).
  std::vector<std::string> output_names;
};

// `variables` holds every reached Variable's value by name (a Session's
// variables().values(), or a checkpoint's tensors).
absl::StatusOr<onnx::ModelProto> ExportOnnx(const Graph& graph, const std::vector<Output>& outputs,
                                            const std::map<std::string, Tensor>& variables,
                                            const ExportOptions& options = {});

// onnx::checker::check_model, its ValidationError as InvalidArgument.
absl::Status CheckOnnxModel(const onnx::ModelProto& model);

// Writes the model atomically; errors name the file.
absl::Status SaveOnnxFile(const onnx::ModelProto& model, const std::string& path);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_EXPORT_H_
