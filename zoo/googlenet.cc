// GoogLeNet's inception modules: four branches on one input, concatenated
// along the channels ("<module>/output"):
//   1x1;  3x3_reduce (1x1) -> 3x3 (pad 1);  5x5_reduce (1x1) -> 5x5 (pad 2);
//   pool (3x3/1 max, pad 1) -> pool_proj (1x1).
// Weights (without biases) per module, in the paper's K = 1024: 3a 159.5K,
// 3b 379.0K, 4a 366.8K, 4b 438.0K, 4c 497.5K, 4d 590.5K, 4e 847.0K, 5a
// 1018.0K, 5b 1409.0K.
#include "zoo/googlenet.h"

#include "ops/array.h"
#include "ops/dropout.h"
#include "ops/lrn.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "ops/state.h"
#include "zoo/layers.h"

namespace strata::zoo {
namespace {

// One row of the paper's table: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
// pool proj.
struct InceptionSpec {
  const char* name;
  int64_t c1, r3, c3, r5, c5, proj;
};

Output Inception(Graph& g, const InceptionSpec& s, Output x) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, s.name);
  Output b1 = ConvReluLayer(g, "1x1", x, {s.c1, 1});
  Output b2 = ConvReluLayer(g, "3x3", ConvReluLayer(g, "3x3_reduce", x, {s.r3, 1}), {s.c3, 3, 1, 1});
  Output b3 = ConvReluLayer(g, "5x5", ConvReluLayer(g, "5x5_reduce", x, {s.r5, 1}), {s.c5, 5, 1, 2});
  Output b4 = ConvReluLayer(g, "pool_proj", ops::MaxPool(g, x, ops::PoolOptions{3, 1, 1}, "pool"), {s.proj, 1});
  return ops::Concat(g, {b1, b2, b3, b4}, 1, "output");
}

// An auxiliary classifier: 5x5/3 average pool (14 -> 4), 1x1 conv 128, fc
// 1024 with dropout 0.7, and a linear classifier.
Output AuxClassifier(Graph& g, absl::string_view name, Output x, int64_t classes) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  x = ops::AvgPool(g, x, ops::PoolOptions{5, 3}, "ave_pool");
  x = ConvReluLayer(g, "conv", x, {128, 1});
  x = DenseReluLayer(g, "fc", x, 1024, /*dropout_rate=*/0.7);
  return DenseLayer(g, "classifier", x, classes);
}

// A 3x3/2 max pool that rounds up, as Caffe's (112 -> 56).
Output Pool(Graph& g, Output x, absl::string_view name) {
  return ops::MaxPool(g, x, ops::PoolOptions{3, 2, 0, /*ceil_mode=*/true}, name);
}

}  // namespace

absl::StatusOr<Model> GoogLeNet(Graph& g, const ModelConfig& config) {
  Model m = ClassifierInputs(g, config, 3, 224);
  // Caffe's LRN (k = 1).
  const ops::LRNOptions lrn{5, 1e-4, 0.75, 1.0};
  ConvSpec conv1{64, 7, 2, 3};
  conv1.floor = true;  // (224 - 7 + 2*3)/2 + 1 = 112.5: Caffe's 112
  Output x = ConvReluLayer(g, "conv1", m.images, conv1);
  x = Pool(g, x, "pool1");
  x = ops::LRN(g, x, lrn, "pool1/norm1");
  x = ConvReluLayer(g, "conv2_reduce", x, {64, 1});
  x = ConvReluLayer(g, "conv2", x, {192, 3, 1, 1});
  x = ops::LRN(g, x, lrn, "conv2/norm2");
  x = Pool(g, x, "pool2");
  x = Inception(g, {"inception_3a", 64, 96, 128, 16, 32, 32}, x);
  x = Inception(g, {"inception_3b", 128, 128, 192, 32, 96, 64}, x);
  x = Pool(g, x, "pool3");
  x = Inception(g, {"inception_4a", 192, 96, 208, 16, 48, 64}, x);
  Output aux1 = config.aux_classifiers ? AuxClassifier(g, "loss1", x, config.num_classes) : Output{};
  x = Inception(g, {"inception_4b", 160, 112, 224, 24, 64, 64}, x);
  x = Inception(g, {"inception_4c", 128, 128, 256, 24, 64, 64}, x);
  x = Inception(g, {"inception_4d", 112, 144, 288, 32, 64, 64}, x);
  Output aux2 = config.aux_classifiers ? AuxClassifier(g, "loss2", x, config.num_classes) : Output{};
  x = Inception(g, {"inception_4e", 256, 160, 320, 32, 128, 128}, x);
  x = Pool(g, x, "pool4");
  x = Inception(g, {"inception_5a", 256, 160, 320, 32, 128, 128}, x);
  x = Inception(g, {"inception_5b", 384, 192, 384, 48, 128, 128}, x);
  x = ops::AvgPool(g, x, ops::PoolOptions{7, 1}, "pool5");
  x = ops::Dropout(g, x, 0.4, "dropout");
  m.logits = DenseLayer(g, "loss3/classifier", x, config.num_classes);
  if (config.aux_classifiers) {
    // Under "loss/", so that the heads' layers (loss1, loss2, loss3) end
    // with their classifiers: loss = loss3 + 0.3 * (loss1 + loss2).
    Output main, aux;
    {
      Graph::Scope scope(g, "loss");
      main = ops::SoftmaxCrossEntropyWithLogits(g, m.logits, m.labels, "loss3");
      Output loss1 = ops::SoftmaxCrossEntropyWithLogits(g, aux1, m.labels, "loss1");
      Output loss2 = ops::SoftmaxCrossEntropyWithLogits(g, aux2, m.labels, "loss2");
      aux = ops::Mul(g, ops::Add(g, loss1, loss2, "aux"), ops::ScalarConst(g, 0.3f, "aux_weight"), "aux_weighted");
    }
    m.loss = ops::Add(g, main, aux, "loss");
  }
  return FinishClassifier(g, m);
}

}  // namespace strata::zoo
