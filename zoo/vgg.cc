// VGG's five blocks, as the paper's Table 1 lists them. The activations of
// VGG-16 (D) per image, block by block: 224x224x64, 112x112x128, 56x56x256,
// 28x28x512, 14x14x512, then 7x7x512 = 25,088 into fc6.
#include "zoo/vgg.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "ops/lrn.h"
#include "ops/pool.h"
#include "zoo/layers.h"

namespace strata::zoo {
namespace {

// One block: the filter size (3, or C's 1) of each of its convolutions.
using Block = std::vector<int64_t>;

absl::StatusOr<std::vector<Block>> Layout(char layout) {
  switch (layout) {
    case 'A': return std::vector<Block>{{3}, {3}, {3, 3}, {3, 3}, {3, 3}};
    case 'B': return std::vector<Block>{{3, 3}, {3, 3}, {3, 3}, {3, 3}, {3, 3}};
    case 'C': return std::vector<Block>{{3, 3}, {3, 3}, {3, 3, 1}, {3, 3, 1}, {3, 3, 1}};
    case 'D': return std::vector<Block>{{3, 3}, {3, 3}, {3, 3, 3}, {3, 3, 3}, {3, 3, 3}};
    case 'E': return std::vector<Block>{{3, 3}, {3, 3}, {3, 3, 3, 3}, {3, 3, 3, 3}, {3, 3, 3, 3}};
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("VGG has configurations A to E, not '", std::string(1, layout), "'"));
  }
}

}  // namespace

absl::StatusOr<Model> Vgg(Graph& g, const ModelConfig& config, char layout, bool lrn) {
  auto blocks = Layout(layout);
  if (!blocks.ok()) return blocks.status();
  constexpr int64_t kFilters[] = {64, 128, 256, 512, 512};
  Model m = ClassifierInputs(g, config, 3, 224);
  Output x = m.images;
  for (size_t b = 0; b < blocks->size(); ++b) {
    const Block& block = (*blocks)[b];
    for (size_t i = 0; i < block.size(); ++i) {
      const int64_t size = block[i];
      x = ConvReluLayer(g, absl::StrCat("conv", b + 1, "_", i + 1), x, {kFilters[b], size, 1, (size - 1) / 2});
      if (lrn && b == 0 && i == 0) x = ops::LRN(g, x, ops::LRNOptions{}, "norm1");
    }
    x = ops::MaxPool(g, x, ops::PoolOptions{2, 2}, absl::StrCat("pool", b + 1));
  }
  x = DenseReluLayer(g, "fc6", x, 4096, /*dropout_rate=*/0.5);
  x = DenseReluLayer(g, "fc7", x, 4096, /*dropout_rate=*/0.5);
  m.logits = DenseLayer(g, "fc8", x, config.num_classes);
  return FinishClassifier(g, m);
}

}  // namespace strata::zoo
