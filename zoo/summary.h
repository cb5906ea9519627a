// A model's layer table, as the lecture tabulates architectures: for each
// layer its output volume, the activation values it stores per image, its
// weights and biases and the multiply-adds it costs per image, with totals;
// the lecture's (and papers') own figures are printed beside ours where they
// give one. Built from the graph alone: no Session is created, so no variable
// is allocated and even VGG-E or ResNet-152 is summarised in milliseconds.
#ifndef STRATA_ZOO_SUMMARY_H_
#define STRATA_ZOO_SUMMARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "zoo/model.h"

namespace strata::zoo {

// One layer: the forward nodes whose names share their first component
// ("conv1_1/conv", "conv1_1/relu", "conv1_1/weights" are layer conv1_1;
// "inception_3a/3x3/conv" is layer inception_3a).
//
// What is counted, as the papers count it:
// - output: the output of the layer's last forward node, per image (without
//   the batch dimension): for an inception module its Concat.
// - activations: the elements of that output (ReLU works in place and is not
//   a layer of its own; the INPUT row counts the image).
// - weights: trainable variables whose name ends in "weights" (convolution
//   and FC weights); biases: every other trainable variable (biases and batch
//   norm's gamma and beta). Batch norm's running statistics are not
//   trainable and are not counted.
// - multiply_adds per image: a convolution K*(C/groups)*F*G*Hout*Wout, a
//   fully connected layer in*out. Pooling, ReLU, batch norm, LRN and the
//   residual additions are not counted (as in the VGG/GoogLeNet/ResNet papers).
// Layers made only of ReLU/dropout/reshape nodes (a separate "flatten") add
// no row: their values are views of, or in place of, the previous layer's.
struct LayerRow {
  std::string name;  // "images" for the input row
  std::string op;    // "input", "conv 3x3/1", "maxpool 2x2/2", "fc", "6 conv, maxpool, concat", ...
  Shape output;      // per image: [C,H,W] or [units]
  int64_t activations = 0;
  int64_t weights = 0;
  int64_t biases = 0;
  int64_t multiply_adds = 0;
};

struct ModelSummary {
  std::string model;  // as asked for ("vgg16"), or "graph" for SummarizeGraph
  Shape input;        // per image, [C,H,W]
  int64_t num_classes = 0;  // the logits' width (what ArgMax reads), else the last row's elements
  std::vector<LayerRow> rows;
  int64_t total_weights = 0;
  int64_t total_biases = 0;
  int64_t total_multiply_adds = 0;  // per image
  // Sum of the rows' activations (INPUT included): values stored per image
  // by the forward pass.
  int64_t forward_activation_values = 0;
  int64_t forward_bytes = 0;  // forward_activation_values * 4 (float32)
  // A rough training footprint for ONE image (batch 1), in bytes: the
  // forward activations kept for the backward pass plus their gradients
  // (2 * forward_bytes), plus the parameters three times over (values,
  // gradients and SGD momentum: 3 * 4 * (weights + biases)). It leaves out
  // ReLU/BN intermediates, oneDNN workspaces and scratch; with a batch of B
  // the activation part scales by B and the parameter part does not.
  int64_t training_bytes_estimate = 0;

  int64_t total_parameters() const { return total_weights + total_biases; }
};

// Builds `model` with `config` (its batch size forced to 1) into a scratch
// graph and summarises it. Pass num_classes = 1000 for the ImageNet models'
// paper figures (see PaperNumClasses).
absl::StatusOr<ModelSummary> Summarize(absl::string_view model, const ModelConfig& config);

// Summarises any graph built with the zoo's conventions: the batch is the
// first dimension of the "images" placeholder (or of the first float
// placeholder). Only the forward model counts: when the graph has a loss
// (SoftmaxCrossEntropyWithLogits) or predictions (ArgMax), the nodes they
// depend on, else every node; in both cases less nodes under "gradients/",
// "sgd/", "optimizer/" and "gradient_check/" and the "loss", "predictions"
// and "labels" layers. So a training graph summarises like its forward
// model. FailedPrecondition when the graph has a build error.
absl::StatusOr<ModelSummary> SummarizeGraph(const Graph& graph);

// The aligned table: one line per row (thousands separators), totals, memory
// per image, and a "lecture" column with the lecture's or paper's figure
// where one exists for this model, this row and the paper's input size and
// class count (otherwise the column is left out).
std::string FormatSummary(const ModelSummary& summary);

// The class count the paper's figures assume: 10 for lenet5 and the CIFAR
// models, 1000 for the ImageNet ones, the last fc's units for "arch:SPEC".
int64_t PaperNumClasses(absl::string_view model);

// "138,344,128".
std::string WithThousands(int64_t value);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_SUMMARY_H_
