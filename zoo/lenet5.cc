// LeNet-5 [LeCun et al. 1998] as the lecture gives it: CONV-POOL-CONV-POOL-
// CONV-FC-FC, 5x5 convolutions stride 1, 2x2 max pooling stride 2, ReLU, and
// a fully connected C3: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706
// parameters for 10 classes. MNIST's 28x28 digits are padded by C1 (pad 2),
// which is the paper's 32x32 input.
#include "zoo/lenet5.h"

#include "ops/array.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "zoo/layers.h"

namespace strata::zoo {

absl::StatusOr<Model> LeNet5(Graph& g, const ModelConfig& config) {
  Model m;
  m.images = ops::Placeholder(g, "images", {config.batch_size, 1, 28, 28});
  m.labels = ops::Placeholder(g, "labels", {config.batch_size}, DType::kInt32);
  // PyTorch's default initialisation, so that its recipe (SGD lr 0.05,
  // momentum 0.9) behaves the same here.
  constexpr LayerInit kInit = LayerInit::kFanInUniform;
  Output x = ops::Relu(g, ConvLayer(g, "c1", m.images, {6, 5, 1, 2, true, kInit}), "c1/relu");  // 6@28x28
  x = ops::MaxPool(g, x, {2, 2}, "s2");                                                         // 6@14x14
  x = ops::Relu(g, ConvLayer(g, "c3", x, {16, 5, 1, 0, true, kInit}), "c3/relu");               // 16@10x10
  x = ops::MaxPool(g, x, {2, 2}, "s4");                                                         // 16@5x5
  x = ops::Relu(g, ConvLayer(g, "c5", x, {120, 5, 1, 0, true, kInit}), "c5/relu");              // 120@1x1
  x = ops::Flatten(g, x, "flatten");                                                            // 120
  x = ops::Relu(g, DenseLayer(g, "f6", x, 84, kInit), "f6/relu");                               // 84
  m.logits = DenseLayer(g, "output", x, config.num_classes, kInit);                             // 10
  m.loss = ops::SoftmaxCrossEntropyWithLogits(g, m.logits, m.labels, "loss");
  m.predictions = ops::ArgMax(g, m.logits, "predictions");
  if (!g.status().ok()) return g.status();
  return m;
}

}  // namespace strata::zoo
