// bazel run //experiments:depth -- --out=DIR [--steps=200] [--batch=32]
//
// He et al. 2015, figure 1 and section 4.2 in small: plain nets and ResNets
// of 20 and 56 layers (cifar_plain20/56, cifar_resnet20/56: 16/32/64
// filters, batch norm) trained for the same steps on the same batches of
// MNIST digits padded to 32x32 and replicated into 3 channels (the
// CIFAR-sized data bundled here). Writes the training-error curves
// (DIR/depth.png, a running mean over --smooth steps), the table
// (DIR/depth.{md,csv}: final running training error and loss, test error on
// the first --test_examples test digits, seconds) and the per-step log (DIR/depth_steps.csv).
#include <algorithm>
#include <chrono>
#include <iostream>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/mnist.h"
#include "experiments/table.h"
#include "graph/status_macros.h"
#include "optim/optimizer.h"
#include "runtime/session.h"
#include "training/trainer.h"
#include "viz/line_plot_png.h"
#include "zoo/model.h"

ABSL_FLAG(std::string, out, "experiments_out", "folder for the table and the plot");
ABSL_FLAG(int32_t, steps, 200, "training steps per model");
ABSL_FLAG(int64_t, test_examples, 1000, "test digits evaluated after training (the first N of 2,000)");
ABSL_FLAG(int64_t, batch, 32, "mini-batch size");
ABSL_FLAG(double, lr, 0.05, "SGD learning rate (momentum 0.9, weight decay 1e-4 as in the paper)");
ABSL_FLAG(int32_t, smooth, 25, "steps in the running mean of the training error");
ABSL_FLAG(uint64_t, seed, 1, "initial weights and the batch order (the same for every model)");
ABSL_FLAG(std::vector<std::string>, models,
          std::vector<std::string>({"cifar_plain20", "cifar_plain56", "cifar_resnet20", "cifar_resnet56"}),
          "models to train");

namespace strata::experiments {
namespace {

constexpr int64_t kSide = 32;

// MNIST [N,1,28,28] (normalised) as [N,3,32,32]: padded by 2 with the
// normalised zero (the background) and copied into three channels.
Tensor PadTo32x3(const Tensor& images) {
  const int64_t n = images.shape()[0];
  Tensor out(DType::kFloat32, Shape({n, 3, kSide, kSide}));
  const float background = -training::kMnistMean / training::kMnistStd;
  float* o = out.data<float>();
  std::fill(o, o + out.num_elements(), background);
  const float* in = images.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c) {
      for (int64_t y = 0; y < 28; ++y) {
        std::copy(in + (i * 28 + y) * 28, in + (i * 28 + y + 1) * 28,
                  o + ((i * 3 + c) * kSide + y + 2) * kSide + 2);
      }
    }
  }
  return out;
}

struct Run {
  std::string model;
  std::vector<double> step_error;  // per step, the batch's training error
  std::vector<double> step_loss;
  double test_error = 0;
  double seconds = 0;
  int64_t parameters = 0;
};

// Copies examples order[first .. first+batch) into the batch tensors.
void FillBatch(const Tensor& images, const Tensor& labels, const std::vector<int64_t>& order, int64_t first,
               Tensor& x, Tensor& y) {
  const int64_t batch = y.shape()[0], per = 3 * kSide * kSide;
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t i = order[(first + b) % order.size()];
    std::copy(images.data<float>() + i * per, images.data<float>() + (i + 1) * per, x.data<float>() + b * per);
    y.data<int32_t>()[b] = labels.data<int32_t>()[i];
  }
}

absl::StatusOr<Run> Train(const std::string& name, const data::Dataset& train, const data::Dataset& test) {
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  const int steps = absl::GetFlag(FLAGS_steps);
  const auto start = std::chrono::steady_clock::now();
  Graph g;
  zoo::ModelConfig config;
  config.batch_size = batch;
  STRATA_ASSIGN_OR_RETURN(zoo::Model m, zoo::BuildModel(name, g, config));
  Run run;
  run.model = name;
  run.parameters = zoo::CountTrainableParameters(g);
  STRATA_ASSIGN_OR_RETURN(Node * step, optim::Minimize(g, m.loss, optim::OptimizerConfig::SGD(
                                                                       absl::GetFlag(FLAGS_lr), 0.9, 1e-4)));
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(g));
  STRATA_RETURN_IF_ERROR(session->InitializeVariables(absl::GetFlag(FLAGS_seed)));
  // The same shuffled order for every model: they see the same batches.
  std::vector<int64_t> order(train.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(absl::GetFlag(FLAGS_seed)));
  Tensor x(m.images.spec()), y(m.labels.spec());
  RunOptions options;
  options.training = true;
  options.seed = absl::GetFlag(FLAGS_seed);
  for (int s = 0; s < steps; ++s) {
    FillBatch(train.images, train.labels, order, static_cast<int64_t>(s) * batch, x, y);
    options.step = s;
    STRATA_ASSIGN_OR_RETURN(auto out, session->Run({{m.images, x}, {m.labels, y}}, {m.loss, m.predictions},
                                                   {step}, options));
    int64_t wrong = 0;
    for (int64_t b = 0; b < batch; ++b) wrong += out[1].data<int32_t>()[b] != y.data<int32_t>()[b];
    run.step_error.push_back(static_cast<double>(wrong) / batch);
    run.step_loss.push_back(out[0].data<float>()[0]);
    if ((s + 1) % 50 == 0) {
      std::cerr << absl::StrFormat("%s step %d loss %.3f (%.0f s)\n", name, s + 1, run.step_loss.back(),
                                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
  }
  STRATA_ASSIGN_OR_RETURN(training::EvalResult r,
                          training::Evaluate(name, config, test, session->shared_variables(), 200));
  run.test_error = 1 - r.accuracy();
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

// Running mean over the last `window` values (fewer at the start).
std::vector<double> RunningMean(const std::vector<double>& v, int window) {
  std::vector<double> out;
  double sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (i >= static_cast<size_t>(window)) sum -= v[i - window];
    out.push_back(sum / std::min<size_t>(i + 1, window));
  }
  return out;
}

int Main() {
  std::string dir;
  if (absl::Status s = PrepareOutDir(absl::GetFlag(FLAGS_out), &dir); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  auto train = data::LoadMnist(data::DefaultMnistDir(), "train");
  auto test = data::LoadMnist(data::DefaultMnistDir(), "test");
  if (!train.ok() || !test.ok()) {
    std::cerr << (train.ok() ? test.status() : train.status()).message() << "\n";
    return 1;
  }
  data::Normalize(*train, training::kMnistMean, training::kMnistStd);
  data::Normalize(*test, training::kMnistMean, training::kMnistStd);
  train->images = PadTo32x3(train->images);
  test->images = PadTo32x3(test->images);
  // The first N test digits: evaluating the 56-layer nets on all 2,000 costs
  // as much as a hundred training steps.
  const int64_t n_test = std::min<int64_t>(test->size(), std::max<int64_t>(1, absl::GetFlag(FLAGS_test_examples)));
  if (n_test < test->size()) {
    data::Dataset head;
    head.images = Tensor(DType::kFloat32, Shape({n_test, 3, kSide, kSide}));
    head.labels = Tensor(DType::kInt32, Shape({n_test}));
    std::copy(test->images.data<float>(), test->images.data<float>() + head.images.num_elements(),
              head.images.data<float>());
    std::copy(test->labels.data<int32_t>(), test->labels.data<int32_t>() + n_test, head.labels.data<int32_t>());
    *test = head;
  }
  std::cerr << "MNIST padded to 3x32x32: " << train->size() << " training, " << test->size() << " test digits; load "
            << LoadAverage() << "\n";

  const int smooth = std::max(1, absl::GetFlag(FLAGS_smooth));
  std::vector<Run> runs;
  for (const std::string& name : absl::GetFlag(FLAGS_models)) {
    auto run = Train(name, *train, *test);
    if (!run.ok()) {
      std::cerr << name << ": " << run.status().message() << "\n";
      return 1;
    }
    runs.push_back(*run);
  }
  Table table;
  table.header = {"model", "parameters", "steps x batch",
                  absl::StrCat("training error, last ", smooth, " steps"),
                  absl::StrCat("training loss, last ", smooth, " steps"), absl::StrCat("test error (", test->size(), " digits)"), "seconds"};
  Table steps;
  steps.header = {"model", "step", "batch_error", "batch_loss"};
  std::vector<viz::LineSeries> curves;
  for (const Run& r : runs) {
    const std::vector<double> error = RunningMean(r.step_error, smooth);
    const std::vector<double> loss = RunningMean(r.step_loss, smooth);
    table.rows.push_back({r.model, absl::StrCat(r.parameters),
                          absl::StrCat(r.step_error.size(), " x ", absl::GetFlag(FLAGS_batch)),
                          absl::StrFormat("%.1f%%", 100 * error.back()), absl::StrFormat("%.3f", loss.back()),
                          absl::StrFormat("%.2f%%", 100 * r.test_error), absl::StrFormat("%.0f", r.seconds)});
    viz::LineSeries curve;
    curve.label = r.model;
    for (size_t i = 0; i < error.size(); ++i) {
      steps.rows.push_back({r.model, absl::StrCat(i + 1), absl::StrCat(r.step_error[i]),
                            absl::StrFormat("%.5f", r.step_loss[i])});
      curve.x.push_back(static_cast<double>(i + 1));
      curve.y.push_back(100 * error[i]);
    }
    // Default order: plain-20 blue, plain-56 orange, ResNet-20 green, ResNet-56 red.
    curves.push_back(curve);
  }
  if (absl::Status s = WriteTable(dir, "depth", table); !s.ok()) return std::cerr << s.message() << "\n", 1;
  if (absl::Status s = WriteFile(dir + "/depth_steps.csv", Csv(steps)); !s.ok()) {
    return std::cerr << s.message() << "\n", 1;
  }
  viz::LinePlotOptions options;
  options.title = absl::StrCat("TRAINING ERROR, MNIST AT 3X32X32, BATCH ", absl::GetFlag(FLAGS_batch));
  options.x_label = "STEP";
  options.y_label = absl::StrCat("TRAINING ERROR % (MEAN OF ", smooth, " STEPS)");
  if (absl::Status s = WritePlot(dir, "depth", curves, options); !s.ok()) return std::cerr << s.message() << "\n", 1;
  std::cerr << "load " << LoadAverage() << "\n";
  return 0;
}

}  // namespace
}  // namespace strata::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return strata::experiments::Main();
}
