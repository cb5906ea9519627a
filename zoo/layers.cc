#include "zoo/layers.h"

#include <cmath>

#include "ops/array.h"
#include "ops/conv.h"
#include "ops/dropout.h"
#include "ops/math.h"
#include "ops/nn.h"

namespace strata::zoo {
namespace {

ops::Initializer WeightInit(LayerInit init, int64_t fan_in) {
  const double limit = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return init == LayerInit::kHe ? ops::Initializer::HeNormal() : ops::Initializer::Uniform(-limit, limit);
}

ops::Initializer BiasInit(LayerInit init, int64_t fan_in) {
  const double limit = 1.0 / std::sqrt(static_cast<double>(fan_in));
  return init == LayerInit::kHe ? ops::Initializer::Zeros() : ops::Initializer::Uniform(-limit, limit);
}

// The convolution of a layer, in the current scope.
Output Conv(Graph& g, Output x, const ConvSpec& spec, bool bias) {
  if (!x.valid()) return Output{};
  const Shape& in = x.shape();
  const int64_t in_channels = in.rank() == 4 ? in[1] : 0;
  const int64_t fan_in = (spec.groups > 0 ? in_channels / spec.groups : 0) * spec.size * spec.size;
  Output w = ops::Variable(g, "weights", {spec.filters, spec.groups > 0 ? in_channels / spec.groups : 0,
                                          spec.size, spec.size},
                           WeightInit(spec.init, fan_in));
  Output b = bias ? ops::Variable(g, "bias", {spec.filters}, BiasInit(spec.init, fan_in)) : Output{};
  return ops::Conv2D(g, x, w, b, ops::Conv2DOptions{spec.stride, spec.pad, spec.groups, spec.floor}, "conv");
}

}  // namespace

Output ConvLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  return Conv(g, x, spec, spec.bias);
}

Output ConvReluLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  return ops::Relu(g, Conv(g, x, spec, spec.bias), "relu");
}

Output ConvBnLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec, bool relu) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  Output y = BatchNormLayer(g, "bn", Conv(g, x, spec, /*bias=*/false));
  return relu ? ops::Relu(g, y, "relu") : y;
}

Output BatchNormLayer(Graph& g, absl::string_view name, Output x, ops::BatchNormOptions opts) {
  if (!x.valid()) return Output{};
  const int64_t c = x.shape().rank() >= 2 ? x.shape()[1] : 0;
  Output gamma, beta, mean, var;
  {
    Graph::Scope scope(g, name);
    gamma = ops::Variable(g, "gamma", {c}, ops::Initializer::Constant(1.0));
    beta = ops::Variable(g, "beta", {c}, ops::Initializer::Zeros());
    mean = ops::Variable(g, "running_mean", {c}, ops::Initializer::Zeros(), /*trainable=*/false);
    var = ops::Variable(g, "running_var", {c}, ops::Initializer::Constant(1.0), /*trainable=*/false);
  }
  return ops::BatchNorm(g, x, gamma, beta, mean, var, opts, name);
}

Output DenseLayer(Graph& g, absl::string_view name, Output x, int64_t units, LayerInit init) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  if (x.shape().rank() > 2) x = ops::Flatten(g, x, "flatten");
  if (!x.valid()) return Output{};
  const int64_t fan_in = x.shape()[1];
  Output w = ops::Variable(g, "weights", {fan_in, units}, WeightInit(init, fan_in));
  Output b = ops::Variable(g, "bias", {units}, BiasInit(init, fan_in));
  return ops::FullyConnected(g, x, w, b, "fc");
}

Output DenseReluLayer(Graph& g, absl::string_view name, Output x, int64_t units, double dropout_rate,
                      LayerInit init) {
  if (!x.valid()) return Output{};
  Output y = DenseLayer(g, name, x, units, init);
  Graph::Scope scope(g, name);
  y = ops::Relu(g, y, "relu");
  return dropout_rate > 0 ? ops::Dropout(g, y, dropout_rate, "dropout") : y;
}

}  // namespace strata::zoo
