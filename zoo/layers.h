// Layer helpers shared by the zoo's builders: each creates its variables
// under its own scope ("conv1/weights", "conv1/bias") and its ops.
#ifndef STRATA_ZOO_LAYERS_H_
#define STRATA_ZOO_LAYERS_H_

#include "graph/graph.h"
#include "ops/state.h"

namespace strata::zoo {

// How a layer's weights and bias start.
enum class LayerInit {
  // Weights N(0, sqrt(2/fan_in)) ("Xavier/2"), bias 0: the ResNet/VGG recipe.
  kHe,
  // Weights and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)): PyTorch's default for
  // Conv2d and Linear, so recipes tuned on PyTorch carry over unchanged.
  kFanInUniform,
};

struct ConvSpec {
  int64_t filters;
  int64_t size;
  int64_t stride = 1;
  int64_t pad = 0;
  bool bias = true;
  LayerInit init = LayerInit::kHe;
};

// Convolution with OIHW weights "<name>/weights" and bias "<name>/bias".
Output ConvLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec);
// Fully connected layer on [N, K] input: [K, units] weights, [units] bias.
Output DenseLayer(Graph& g, absl::string_view name, Output x, int64_t units, LayerInit init = LayerInit::kHe);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_LAYERS_H_
