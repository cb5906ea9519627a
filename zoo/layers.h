// Layer helpers shared by the zoo's builders. Each layer opens a Graph::Scope
// of its name, so its variables ("conv1/weights", "conv1/bias",
// "conv1/bn/gamma") and its ops ("conv1/conv", "conv1/bn", "conv1/relu") all
// share the layer's name as their first component(s), which is how a summary
// groups nodes into layers.
#ifndef STRATA_ZOO_LAYERS_H_
#define STRATA_ZOO_LAYERS_H_

#include "graph/graph.h"
#include "ops/batch_norm.h"
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
  // Grouped convolution (AlexNet's two towers): each of `groups` filter
  // groups sees in_channels/groups input channels.
  int64_t groups = 1;
  // Round the output size down when (H - F + 2P) is not a multiple of the
  // stride, as Caffe and PyTorch do (ResNet's and GoogLeNet's 7x7/2 pad 3 on
  // 224 -> 112, 1x1/2 and 3x3/2 pad 1 on 56 -> 28): the conv's floor_mode
  // (Conv2DOptions), which pads the bottom/right by P - r instead of P (r = the
  // remainder) so the rows and columns that only a partial last window would
  // reach are dropped. Off, such a layer "does not fit" and the graph records
  // the lecture's error.
  bool floor = false;
};

// Convolution with OIHW weights "<name>/weights" and bias "<name>/bias"; the
// conv node is "<name>/conv".
Output ConvLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec);
// ConvLayer followed by "<name>/relu".
Output ConvReluLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec);
// Convolution (no bias, whatever spec.bias says: BN's beta is the bias), then
// batch normalisation "<name>/bn", then "<name>/relu" when `relu`.
Output ConvBnLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec, bool relu = true);

// Batch normalisation over dimension 1 in the current scope: variables
// "<name>/gamma" (ones), "<name>/beta" (zeros), and the non-trainable
// "<name>/running_mean" (zeros) and "<name>/running_var" (ones); the op node
// is "<name>". Inside a layer's scope, name "bn" gives "conv1/bn/gamma".
Output BatchNormLayer(Graph& g, absl::string_view name, Output x, ops::BatchNormOptions opts = {});

// Fully connected layer: [K, units] weights "<name>/weights", [units] bias,
// node "<name>/fc". Input of rank > 2 is flattened first ("<name>/flatten").
Output DenseLayer(Graph& g, absl::string_view name, Output x, int64_t units, LayerInit init = LayerInit::kHe);
// DenseLayer, "<name>/relu", and "<name>/dropout" when dropout_rate > 0
// (active only in training runs).
Output DenseReluLayer(Graph& g, absl::string_view name, Output x, int64_t units, double dropout_rate = 0,
                      LayerInit init = LayerInit::kHe);

}  // namespace strata::zoo

#endif  // STRATA_ZOO_LAYERS_H_
