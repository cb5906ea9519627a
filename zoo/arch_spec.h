// A one-line model spec for the lecture's typical convolutional net,
// [(CONV-RELU)*N-POOL?]*M-(FC-RELU)*K-SOFTMAX, written for example
//
//   [(conv3-32,relu)*2,pool2]*2,fc-128,relu,fc-10
//
// Grammar (spaces between tokens are ignored, letters may be upper case):
//   spec  := [input ':'] list
//   input := 'in' C 'x' S 'x' S          channels x height x width (square);
//                                         default in1x28x28, MNIST's digits
//   list  := item (',' item)*
//   item  := layer | '(' list ')' ['*' N] | '[' list ']' ['*' N]
//   layer := 'conv' K '-' F ['-s' S] ['-p' P]
//                     K x K convolution, F filters, stride S (default 1),
//                     padding P (default (K-1)/2: 'same' for odd K at stride 1)
//          | 'relu' | 'tanh' | 'sigmoid'
//          | 'pool' K | 'avgpool' K   K x K max / average pooling, stride K
//                                     (the output size rounds down;
//                                     'maxpool' K is 'pool' K)
//          | 'bn'                     batch normalisation of the channels
//          | 'dropout' P              inverted dropout of rate P, 0 <= P < 1
//          | 'fc-' N                  fully connected, N units (flattens)
// A group repeats its items N times (once without '*N'); '(' and '[' mean
// the same and only have to match (32 levels deep at most). The last layer
// must be an fc: its units are the logits, so N must equal the model's class
// count; zoo::FinishClassifier adds the softmax cross-entropy loss.
//
// Layers are named as the zoo names them (zoo/layers.h): "conv1", "conv2",
// ... ("conv1/weights", "conv1/bias", "conv1/conv"), "pool1", ..., "fc1", ...;
// an activation, batch norm or dropout belongs to the layer before it
// ("conv1/relu", "conv1/bn/gamma", "fc1/dropout"; before any, to "input").
// Weights and biases start as PyTorch's Conv2d and Linear do
// (LayerInit::kFanInUniform).
//
// Errors are InvalidArgument. Parse errors name the 1-based character
// position in the spec and the token ("arch spec position 14: expected a
// number after 'conv3-'"); a layer that does not fit its input names the
// layer's 1-based index among the expanded layers, its text, its position
// and the shapes.
#ifndef STRATA_ZOO_ARCH_SPEC_H_
#define STRATA_ZOO_ARCH_SPEC_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "zoo/model.h"

namespace strata::zoo {

// zoo::BuildModel builds "arch:SPEC" from SPEC.
inline constexpr char kArchPrefix[] = "arch:";

struct ArchLayer {
  enum class Kind { kConv, kRelu, kTanh, kSigmoid, kMaxPool, kAvgPool, kBatchNorm, kDropout, kFc };
  Kind kind = Kind::kRelu;
  int64_t size = 0;     // conv and pool window
  int64_t units = 0;    // conv filters, fc units
  int64_t stride = 1;   // conv (pools stride by their size)
  int64_t pad = 0;      // conv
  double rate = 0;      // dropout
  std::string text;     // as written, e.g. "conv3-32"
  int64_t position = 0; // 1-based character position in the spec
};

struct ArchSpec {
  int64_t channels = 1;
  int64_t image_size = 28;
  bool input_given = false;      // the spec started with inCxSxS:
  std::vector<ArchLayer> layers;  // groups expanded, in order
};

// At most this many layers after expanding the groups.
inline constexpr int64_t kMaxArchLayers = 10000;

absl::StatusOr<ArchSpec> ParseArchSpec(absl::string_view spec);

// The logits' width: the units of the last layer (an fc).
int64_t ArchClasses(const ArchSpec& spec);

// Builds the model of `spec` (without the "arch:" prefix). The input is
// channels x S x S with S = config.image_size when it is not 0, else the
// spec's (28 by default). config.num_classes must equal the last fc's units.
absl::StatusOr<Model> BuildArchModel(Graph& g, const ModelConfig& config, absl::string_view spec);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_ARCH_SPEC_H_
