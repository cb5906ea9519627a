// AlexNet, layer by layer as the lecture's table (output sizes at 227x227):
//   conv1 55x55x96, pool1 27x27x96, norm1, conv2 27x27x256, pool2 13x13x256,
//   norm2, conv3 13x13x384, conv4 13x13x384, conv5 13x13x256, pool3 6x6x256,
//   fc6 4096, fc7 4096, fc8 classes.
// The paper's 224x224 input does not fit conv1 ((224 - 11)/4 + 1 = 54.25):
// such an image size is refused with the lecture's error, naming conv1.
#include "zoo/alexnet.h"

#include "ops/lrn.h"
#include "ops/pool.h"
#include "zoo/layers.h"

namespace strata::zoo {

absl::StatusOr<Model> AlexNet(Graph& g, const ModelConfig& config) {
  Model m = ClassifierInputs(g, config, 3, 227);
  const int64_t groups = config.groups;
  const ops::PoolOptions pool{3, 2};
  const ops::LRNOptions lrn{5, 1e-4, 0.75, 2.0};
  Output x = ConvReluLayer(g, "conv1", m.images, {96, 11, 4, 0});
  x = ops::MaxPool(g, x, pool, "pool1");
  x = ops::LRN(g, x, lrn, "norm1");
  x = ConvReluLayer(g, "conv2", x, {256, 5, 1, 2, true, LayerInit::kHe, groups});
  x = ops::MaxPool(g, x, pool, "pool2");
  x = ops::LRN(g, x, lrn, "norm2");
  x = ConvReluLayer(g, "conv3", x, {384, 3, 1, 1});
  x = ConvReluLayer(g, "conv4", x, {384, 3, 1, 1, true, LayerInit::kHe, groups});
  x = ConvReluLayer(g, "conv5", x, {256, 3, 1, 1, true, LayerInit::kHe, groups});
  x = ops::MaxPool(g, x, pool, "pool3");
  x = DenseReluLayer(g, "fc6", x, 4096, /*dropout_rate=*/0.5);
  x = DenseReluLayer(g, "fc7", x, 4096, /*dropout_rate=*/0.5);
  m.logits = DenseLayer(g, "fc8", x, config.num_classes);
  return FinishClassifier(g, m);
}

}  // namespace strata::zoo
