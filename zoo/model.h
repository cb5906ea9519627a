// The model zoo's common interface: a builder adds a model's layers to a
// graph and returns the handles a trainer or evaluator needs.
#ifndef STRATA_ZOO_MODEL_H_
#define STRATA_ZOO_MODEL_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::zoo {

struct ModelConfig {
  int64_t batch_size = 64;  // part of every static shape
  int64_t num_classes = 10;
};

struct Model {
  Output images;       // placeholder, float32 [N, C, H, W]
  Output labels;       // placeholder, int32 [N]
  Output logits;       // [N, num_classes]
  Output loss;         // mean softmax cross-entropy, a scalar
  Output predictions;  // ArgMax of the logits, int32 [N]
};

using ModelBuilder = std::function<absl::StatusOr<Model>(Graph&, const ModelConfig&)>;

// Builds a model by name ("lenet5", ...); NotFound lists the known names.
absl::StatusOr<Model> BuildModel(absl::string_view name, Graph& g, const ModelConfig& config);
std::vector<std::string> ModelNames();

// Number of trainable parameters (weights and biases) of a graph.
int64_t CountTrainableParameters(const Graph& g);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_MODEL_H_
