// Residual networks. Strided convolutions use floor rounding (ConvSpec.floor),
// as Caffe and PyTorch: 7x7/2 pad 3 takes 224 to 112, and 1x1/2 and 3x3/2
// pad 1 take 56 to 28, where (N - F + 2P)/S is not a whole number.
#include "zoo/resnet.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/pool.h"
#include "zoo/layers.h"

namespace strata::zoo {
namespace {

// A conv of a residual net: no bias (BN follows), He init, floor rounding.
ConvSpec Spec(int64_t filters, int64_t size, int64_t stride, int64_t pad) {
  ConvSpec s{filters, size, stride, pad, /*bias=*/false, LayerInit::kHe};
  s.floor = true;
  return s;
}

struct BlockSpec {
  int64_t width;       // filters of the 3x3 convs
  int64_t stride;      // 2 in the first block of a downsampling stage
  bool bottleneck;     // 1x1 (width), 3x3 (width), 1x1 (4 x width)
  bool residual;       // false: a plain net's block
  bool stride_on_3x3;  // v1.5: the bottleneck's stride on its 3x3
};

Output Block(Graph& g, absl::string_view name, Output x, const BlockSpec& b) {
  if (!x.valid()) return Output{};
  Graph::Scope scope(g, name);
  const int64_t in_channels = x.shape()[1];
  int64_t out_channels = b.width;
  Output y;
  if (b.bottleneck) {
    out_channels = 4 * b.width;
    const int64_t stride_a = b.stride_on_3x3 ? 1 : b.stride, stride_b = b.stride_on_3x3 ? b.stride : 1;
    y = ConvBnLayer(g, "conv_a", x, Spec(b.width, 1, stride_a, 0));
    y = ConvBnLayer(g, "conv_b", y, Spec(b.width, 3, stride_b, 1));
    y = ConvBnLayer(g, "conv_c", y, Spec(out_channels, 1, 1, 0), /*relu=*/false);
  } else {
    y = ConvBnLayer(g, "conv_a", x, Spec(b.width, 3, b.stride, 1));
    y = ConvBnLayer(g, "conv_b", y, Spec(b.width, 3, 1, 1), /*relu=*/false);
  }
  if (b.residual) {
    Output shortcut = x;
    if (b.stride != 1 || in_channels != out_channels) {
      shortcut = ConvBnLayer(g, "shortcut", x, Spec(out_channels, 1, b.stride, 0), /*relu=*/false);
    }
    y = ops::Add(g, y, shortcut, "add");
  }
  return ops::Relu(g, y, "relu");
}

}  // namespace

absl::StatusOr<Model> ResNet(Graph& g, const ModelConfig& config, int depth) {
  std::vector<int> blocks;
  switch (depth) {
    case 18: blocks = {2, 2, 2, 2}; break;
    case 34: case 50: blocks = {3, 4, 6, 3}; break;
    case 101: blocks = {3, 4, 23, 3}; break;
    case 152: blocks = {3, 8, 36, 3}; break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("ResNet has depths 18, 34, 50, 101 and 152, not ", depth));
  }
  const bool bottleneck = depth >= 50;
  Model m = ClassifierInputs(g, config, 3, 224);
  Output x = ConvBnLayer(g, "conv1", m.images, Spec(64, 7, 2, 3));
  x = ops::MaxPool(g, x, ops::PoolOptions{3, 2, 1}, "pool1");
  for (int stage = 0; stage < 4; ++stage) {
    for (int i = 0; i < blocks[stage]; ++i) {
      BlockSpec b{int64_t{64} << stage, stage > 0 && i == 0 ? 2 : 1, bottleneck, /*residual=*/true,
                  config.resnet_v1_5};
      x = Block(g, absl::StrCat("conv", stage + 2, "_", i + 1), x, b);
    }
  }
  x = ops::GlobalAvgPool(g, x, "pool5");
  m.logits = DenseLayer(g, "fc", x, config.num_classes);
  return FinishClassifier(g, m);
}

absl::StatusOr<Model> CifarResNet(Graph& g, const ModelConfig& config, int depth, bool shortcuts) {
  if (depth < 8 || (depth - 2) % 6 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("a CIFAR ResNet has 6n+2 layers (20, 32, 44, 56, 110, ...), not ", depth));
  }
  const int n = (depth - 2) / 6;
  Model m = ClassifierInputs(g, config, 3, 32);
  Output x = ConvBnLayer(g, "conv1", m.images, Spec(16, 3, 1, 1));
  for (int stage = 0; stage < 3; ++stage) {
    for (int i = 0; i < n; ++i) {
      BlockSpec b{int64_t{16} << stage, stage > 0 && i == 0 ? 2 : 1, /*bottleneck=*/false, shortcuts, false};
      x = Block(g, absl::StrCat("conv", stage + 2, "_", i + 1), x, b);
    }
  }
  x = ops::GlobalAvgPool(g, x, "pool");
  m.logits = DenseLayer(g, "fc", x, config.num_classes);
  return FinishClassifier(g, m);
}

}  // namespace strata::zoo
