// Times one training step (forward, cross-entropy, backward, SGD momentum
// update) or one inference (forward to the logits, inference mode) of a zoo
// model on random data, the way ../shared/bench/torch_peer.py times PyTorch:
// warm-up steps, then the median of timed steps, one JSON line.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "optim/sgd.h"
#include "runtime/session.h"
#include "zoo/model.h"

ABSL_FLAG(std::string, model, "lenet5", "zoo model");
ABSL_FLAG(int64_t, batch, 64, "batch size");
ABSL_FLAG(int32_t, iters, 200, "timed steps");
ABSL_FLAG(int32_t, warmup, 10, "untimed steps first");
ABSL_FLAG(std::string, mode, "train", "train or infer");
ABSL_FLAG(bool, resnet_v1_5, false, "ResNet-50/101/152: stride on the 3x3 (torchvision's layout)");
ABSL_FLAG(int64_t, classes, 1000, "classes of the model (10 for lenet5 and the CIFAR nets)");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace strata;
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  Graph g;
  zoo::ModelConfig config;
  config.batch_size = batch;
  const std::string name = absl::GetFlag(FLAGS_model);
  const bool ten_classes = name == "lenet5" || name.rfind("cifar_", 0) == 0;
  config.num_classes = ten_classes ? 10 : absl::GetFlag(FLAGS_classes);
  config.resnet_v1_5 = absl::GetFlag(FLAGS_resnet_v1_5);
  auto model = zoo::BuildModel(name, g, config);
  if (!model.ok()) return std::cerr << model.status() << "\n", 1;
  const bool train = absl::GetFlag(FLAGS_mode) == "train";
  if (!train && absl::GetFlag(FLAGS_mode) != "infer") return std::cerr << "--mode is train or infer\n", 1;
  absl::StatusOr<Node*> step = nullptr;
  if (train) step = optim::MinimizeWithSGD(g, model->loss, {0.01, 0.9, 5e-4, false});
  if (!step.ok()) return std::cerr << step.status() << "\n", 1;
  auto session = runtime::Session::Create(g);
  if (!session.ok() || !(*session)->InitializeVariables(0).ok()) return 1;

  Tensor x(model->images.spec()), y(model->labels.spec());
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  for (float& v : x.flat<float>()) v = normal(rng);
  for (int32_t& v : y.flat<int32_t>()) v = static_cast<int32_t>(rng() % config.num_classes);
  runtime::Feeds feeds = {{model->images, x}, {model->labels, y}};
  RunOptions options;
  options.training = train;
  auto run = [&]() -> bool {
    if (!train) return (*session)->Run({{model->images, x}}, {model->logits}, {}, options).ok();
    return (*session)->Run(feeds, {model->loss}, {*step}, options).ok();
  };

  for (int i = 0; i < absl::GetFlag(FLAGS_warmup); ++i) {
    if (!run()) return std::cerr << "step failed\n", 1;
  }
  std::vector<double> ms;
  for (int i = 0; i < absl::GetFlag(FLAGS_iters); ++i) {
    auto t = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::cout << absl::StrFormat(
      "{\"system\": \"strata\", \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"ms_per_step_median\": "
      "%.3f, \"ms_min\": %.3f, \"ms_max\": %.3f, \"images_per_s\": %.2f}\n",
      absl::GetFlag(FLAGS_model), absl::GetFlag(FLAGS_mode), batch, median, ms.front(), ms.back(), batch / median * 1e3);
  return 0;
}
