#include "zoo/model.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ops/state.h"
#include "zoo/lenet5.h"

namespace strata::zoo {
namespace {

const std::map<std::string, ModelBuilder, std::less<>>& Builders() {
  static const auto* builders = new std::map<std::string, ModelBuilder, std::less<>>{
      {"lenet5", LeNet5},
  };
  return *builders;
}

}  // namespace

absl::StatusOr<Model> BuildModel(absl::string_view name, Graph& g, const ModelConfig& config) {
  auto it = Builders().find(name);
  if (it == Builders().end()) {
    return absl::NotFoundError(absl::StrCat("unknown model '", name, "'; known models: ",
                                            absl::StrJoin(ModelNames(), ", ")));
  }
  if (config.batch_size < 1 || config.num_classes < 2) {
    return absl::InvalidArgumentError(absl::StrCat("model '", name, "': batch size (", config.batch_size,
                                                   ") must be >= 1 and classes (", config.num_classes,
                                                   ") >= 2"));
  }
  return it->second(g, config);
}

std::vector<std::string> ModelNames() {
  std::vector<std::string> names;
  for (const auto& [name, builder] : Builders()) names.push_back(name);
  return names;
}

int64_t CountTrainableParameters(const Graph& g) {
  int64_t n = 0;
  for (const Node* v : ops::Variables(g, /*trainable_only=*/true)) n += v->output_spec(0).shape.num_elements();
  return n;
}

}  // namespace strata::zoo
