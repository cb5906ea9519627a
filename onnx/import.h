// ONNX -> Strata: an ONNX model (default domain, opsets 9 to 17) becomes an
// ordinary Strata graph: graph inputs are Placeholders, initializers used as
// values are Variables (trainable, except batch norm's running statistics),
// so the result can be run, differentiated, fine-tuned, checkpointed and
// summarised like a zoo model. Any op, attribute or broadcast Strata cannot
// reproduce exactly is Unimplemented naming the node, the op and the
// attribute. Supported ops: onnx/converters.cc.
#ifndef STRATA_ONNX_IMPORT_H_
#define STRATA_ONNX_IMPORT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "onnx/onnx_pb.h"
#include "runtime/variable_store.h"

namespace strata::onnx_io {

struct ImportOptions {
  // The size of a graph input's dimension 0 when the model leaves it
  // symbolic ("batch_size"): Strata's shapes are static.
  int64_t batch_size = 1;
};

struct ImportedModel {
  std::unique_ptr<Graph> graph;
  std::vector<Output> inputs;   // Placeholders, in the model's input order
  std::vector<std::string> input_names;   // the ONNX names
  std::vector<Output> outputs;  // in the model's output order
  std::vector<std::string> output_names;  // the ONNX names
  // Each Variable's value (by node name), from the initializers.
  std::map<std::string, Tensor> initial_values;
  // Variable node name -> ONNX initializer name.
  std::map<std::string, std::string> variable_sources;
  int64_t opset = 0;
};

absl::StatusOr<ImportedModel> ImportOnnx(const onnx::ModelProto& model, const ImportOptions& options = {});
// Reads a .onnx file (NotFound / DataLoss naming it) and imports it.
absl::StatusOr<ImportedModel> ImportOnnxFile(const std::string& path, const ImportOptions& options = {});
absl::StatusOr<onnx::ModelProto> ReadOnnxFile(const std::string& path);

// Sets the imported variables' values in a store (a Session's variables()).
absl::Status LoadInitialValues(const ImportedModel& model, runtime::VariableStore* store);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_IMPORT_H_
