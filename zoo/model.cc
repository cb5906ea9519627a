#include "zoo/model.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "zoo/alexnet.h"
#include "zoo/arch_spec.h"
#include "zoo/googlenet.h"
#include "zoo/lenet5.h"
#include "zoo/resnet.h"
#include "zoo/vgg.h"

namespace strata::zoo {
namespace {

// The ModelConfig options a model has, besides batch size, classes and image
// size.
enum Option : int { kNone = 0, kGroups = 1, kAux = 2, kV15 = 4 };

struct Entry {
  ModelBuilder build;
  int options = kNone;
};

absl::StatusOr<Model> LeNet5AtItsSize(Graph& g, const ModelConfig& config) {
  // LeNet-5's layers are written for MNIST's 28x28 (C1 pads to the paper's 32).
  if (config.image_size != 0 && config.image_size != 28) {
    return absl::InvalidArgumentError(
        absl::StrCat("lenet5 takes 28x28 images (C1 pads them to 32x32), not ", config.image_size));
  }
  return LeNet5(g, config);
}

ModelBuilder VggBuilder(char layout, bool lrn) {
  return [layout, lrn](Graph& g, const ModelConfig& c) { return Vgg(g, c, layout, lrn); };
}
ModelBuilder ResNetBuilder(int depth) {
  return [depth](Graph& g, const ModelConfig& c) { return ResNet(g, c, depth); };
}
ModelBuilder CifarBuilder(int depth, bool shortcuts) {
  return [depth, shortcuts](Graph& g, const ModelConfig& c) { return CifarResNet(g, c, depth, shortcuts); };
}

const std::map<std::string, Entry, std::less<>>& Builders() {
  static const auto* builders = [] {
    auto* b = new std::map<std::string, Entry, std::less<>>{
        {"lenet5", {LeNet5AtItsSize}},
        {"alexnet", {AlexNet, kGroups}},
        {"vgg_a", {VggBuilder('A', false)}},
        {"vgg_a_lrn", {VggBuilder('A', true)}},
        {"vgg_b", {VggBuilder('B', false)}},
        {"vgg_c", {VggBuilder('C', false)}},
        {"vgg_d", {VggBuilder('D', false)}},
        {"vgg_e", {VggBuilder('E', false)}},
        {"vgg11", {VggBuilder('A', false)}},
        {"vgg13", {VggBuilder('B', false)}},
        {"vgg16", {VggBuilder('D', false)}},
        {"vgg19", {VggBuilder('E', false)}},
        {"googlenet", {GoogLeNet, kAux}},
    };
    for (int depth : {18, 34}) (*b)[absl::StrCat("resnet", depth)] = {ResNetBuilder(depth)};
    for (int depth : {50, 101, 152}) (*b)[absl::StrCat("resnet", depth)] = {ResNetBuilder(depth), kV15};
    for (int depth : {20, 32, 44, 56, 110}) {
      (*b)[absl::StrCat("cifar_resnet", depth)] = {CifarBuilder(depth, true)};
      (*b)[absl::StrCat("cifar_plain", depth)] = {CifarBuilder(depth, false)};
    }
    return b;
  }();
  return *builders;
}

}  // namespace

absl::StatusOr<Model> BuildModel(absl::string_view name, Graph& g, const ModelConfig& config) {
  const bool arch = absl::StartsWith(name, kArchPrefix);
  auto it = Builders().find(name);
  if (it == Builders().end() && !arch) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'; known models: ",
                                            absl::StrJoin(ModelNames(), ", "), ", or arch:SPEC (zoo/arch_spec.h)"));
  }
  if (config.batch_size < 1 || config.num_classes < 2) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': batch size (", config.batch_size,
                                                   ") must be >= 1 and classes (", config.num_classes,
                                                   ") >= 2"));
  }
  if (config.image_size < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "': image size ", config.image_size, " (0 means the model's own)"));
  }
  // A spec model has none of the named models' options.
  const int options = arch ? kNone : it->second.options;
  if (config.groups < 1) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': groups must be >= 1, got ", config.groups));
  }
  if (config.groups != 1 && !(options & kGroups)) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "' has no grouped layout (groups ",
                                                   config.groups, "); only alexnet does"));
  }
  if (config.aux_classifiers && !(options & kAux)) {
    return absl::InvalidArgumentError(
        absl::StrCat("model '", name, "' has no auxiliary classifiers; only googlenet does"));
  }
  if (config.resnet_v1_5 && !(options & kV15)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "model '", name, "' has no bottleneck blocks, so no v1.5 variant; resnet50/101/152 do"));
  }
  if (arch) return BuildArchModel(g, config, name.substr(sizeof(kArchPrefix) - 1));
  return it->second.build(g, config);
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, entry] : Builders()) names.push_back(name);
  return names;
}

int64_t CountTrainableParameters(const Graph& g) {
  int64_t n = 0;
  for (const Node* v : ops::Variables(g, /*trainable_only=*/true)) n += v->output_spec(0).shape.num_elements();
  return n;
}

Model ClassifierInputs(Graph& g, const ModelConfig& config, int64_t channels, int64_t default_size) {
  const int64_t size = config.image_size > 0 ? config.image_size : default_size;
  Model m;
  m.images = ops::Placeholder(g, "images", {config.batch_size, channels, size, size});
  m.labels = ops::Placeholder(g, "labels", {config.batch_size}, DType::kInt32);
  return m;
}

absl::StatusOr<Model> FinishClassifier(Graph& g, Model m) {
  if (!m.loss.valid()) m.loss = ops::SoftmaxCrossEntropyWithLogits(g, m.logits, m.labels, "loss");
  m.predictions = ops::ArgMax(g, m.logits, "predictions");
  if (!g.status().ok()) return g.status();
  if (!m.loss.valid() || !m.predictions.valid()) return absl::InternalError("model built without a loss");
  return m;
}

}  // namespace strata::zoo
