#include "zoo/layers.h"

#include "ops/conv.h"
#include "ops/math.h"

#include <cmath>

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

}  // namespace

Output ConvLayer(Graph& g, absl::string_view name, Output x, const ConvSpec& spec) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  const int64_t in_channels = x.shape().rank() == 4 ? x.shape()[1] : 0;
  const int64_t fan_in = in_channels * spec.size * spec.size;
  Output w = ops::Variable(g, "weights", {spec.filters, in_channels, spec.size, spec.size},
                           WeightInit(spec.init, fan_in));
  Output b = spec.bias ? ops::Variable(g, "bias", {spec.filters}, BiasInit(spec.init, fan_in)) : Output{};
  return ops::Conv2D(g, x, w, b, ops::Conv2DOptions{spec.stride, spec.pad}, "conv");
}

Output DenseLayer(Graph& g, absl::string_view name, Output x, int64_t units, LayerInit init) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  const int64_t fan_in = x.shape()[1];
  Output w = ops::Variable(g, "weights", {fan_in, units}, WeightInit(init, fan_in));
  Output b = ops::Variable(g, "bias", {units}, BiasInit(init, fan_in));
  return ops::FullyConnected(g, x, w, b, "fc");
}

}  // namespace strata::zoo
