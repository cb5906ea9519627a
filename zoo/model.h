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
  // Input height = width; 0 means the architecture's own: 28 for LeNet-5, 227
  // for AlexNet, 224 for VGG, GoogLeNet and ResNet, 32 for the CIFAR nets.
  // A size the net cannot take is a build error naming the layer.
  int64_t image_size = 0;
  // AlexNet only: 2 is the original two-GPU layout (CONV2, CONV4 and CONV5
  // split into groups); 1 is the single tower.
  int64_t groups = 1;
  // GoogLeNet only: the two auxiliary classifiers (on 4a and 4d), whose
  // losses are added to the main one with weight 0.3.
  bool aux_classifiers = false;
  // ResNet-50/101/152 only: the stride 2 of a downsampling bottleneck on its
  // 3x3 ("v1.5") instead of its first 1x1 (the paper's design, the default).
  bool resnet_v1_5 = false;
};

struct Model {
  Output images;       // placeholder, float32 [N, C, H, W]
  Output labels;       // placeholder, int32 [N]
  Output logits;       // [N, num_classes]
  Output loss;         // mean softmax cross-entropy, a scalar
  Output predictions;  // ArgMax of the logits, int32 [N]
};

using ModelBuilder = std::function<absl::StatusOr<Model>(Graph&, const ModelConfig&)>;

// Builds a model by name ("lenet5", "alexnet", "vgg16", "googlenet",
// "resnet50", "cifar_resnet20", ...) or, for a name "arch:SPEC", from the
// one-line spec SPEC (zoo/arch_spec.h); NotFound lists the known names, and an
// option the model does not have (groups, aux_classifiers, resnet_v1_5) is
// InvalidArgument.
absl::StatusOr<Model> BuildModel(absl::string_view name, Graph& g, const ModelConfig& config);
std::vector<std::string> ModelNames();

// Number of trainable parameters (weights and biases) of a graph.
int64_t CountTrainableParameters(const Graph& g);

// For builders: the placeholders "images" float32 [N, channels, S, S] (S =
// config.image_size, or default_size when 0) and "labels" int32 [N].
Model ClassifierInputs(Graph& g, const ModelConfig& config, int64_t channels, int64_t default_size);
// For builders: adds the loss ("loss", mean softmax cross-entropy of
// m.logits) unless m.loss is already set, and "predictions" (ArgMax); returns
// the graph's first error, if any.
absl::StatusOr<Model> FinishClassifier(Graph& g, Model m);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_MODEL_H_
