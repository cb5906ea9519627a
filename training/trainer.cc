#include "training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "data/batcher.h"
#include "data/synthetic.h"
#include "graph/status_macros.h"
#include "optim/sgd.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "zoo/model.h"

namespace strata::training {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

absl::StatusOr<data::Dataset> LoadSplit(const std::string& dir, absl::string_view split) {
  STRATA_ASSIGN_OR_RETURN(data::Dataset ds, data::LoadMnist(dir, split));
  data::Normalize(ds, kMnistMean, kMnistStd);
  return ds;
}

std::string VolumeText(const Shape& s) { return absl::StrJoin(s.dims(), "x"); }

// The data a model can be trained on: MNIST for 1x28x28 inputs, synthetic
// images of the model's input shape for any (square) input.
absl::Status CheckData(const std::string& model, const Shape& input, bool synthetic) {
  if (input.rank() != 3 || input[1] != input[2]) {
    return absl::InvalidArgumentError(
        absl::StrCat(model, " takes ", VolumeText(input), " inputs: only square CxHxW images are supported"));
  }
  if (!synthetic && input != Shape({1, 28, 28})) {
    return absl::InvalidArgumentError(absl::StrCat(model, " needs ", VolumeText(input),
                                                   " images, not MNIST's 1x28x28: use --data=synthetic "
                                                   "(generated images of that size)"));
  }
  return absl::OkStatus();
}

data::Dataset SyntheticSplit(const Shape& input, int64_t n, int64_t classes, uint64_t seed) {
  return data::Synthetic(n, input[0], input[1], classes, seed);
}

// Checkpoint metadata values.
int64_t MetaInt(const std::map<std::string, std::string>& meta, const std::string& key, int64_t fallback) {
  int64_t v = 0;
  auto it = meta.find(key);
  return it != meta.end() && absl::SimpleAtoi(it->second, &v) ? v : fallback;
}
bool MetaBool(const std::map<std::string, std::string>& meta, const std::string& key) {
  bool v = false;
  auto it = meta.find(key);
  return it != meta.end() && absl::SimpleAtob(it->second, &v) && v;
}

// Keeps the first n examples (for short runs).
data::Dataset Head(const data::Dataset& ds, int64_t n) {
  if (n <= 0 || n >= ds.size()) return ds;
  Shape image_shape = ds.images.shape();
  std::vector<int64_t> dims = image_shape.dims();
  dims[0] = n;
  data::Dataset out;
  out.images = Tensor(DType::kFloat32, Shape(dims));
  out.labels = Tensor(DType::kInt32, Shape{n});
  std::copy_n(ds.images.data<float>(), out.images.num_elements(), out.images.data<float>());
  std::copy_n(ds.labels.data<int32_t>(), n, out.labels.data<int32_t>());
  return out;
}

void DrawProgress(std::ostream& log, int epoch, int epochs, int64_t step, int64_t steps, double loss,
                  double images_per_second, double eta) {
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * step / std::max<int64_t>(steps, 1));
  std::string bar(filled, '=');
  if (filled < kWidth) bar += '>';
  bar.resize(kWidth, ' ');
  log << absl::StrFormat("\repoch %d/%d [%s] %d/%d loss %.4f %.0f img/s ETA %.0fs ", epoch, epochs, bar, step,
                         steps, loss, images_per_second, eta)
      << std::flush;
}

}  // namespace

std::string FormatAccuracy(const EvalResult& r) {
  return absl::StrFormat("%.2f%% (%d/%d)", 100.0 * r.accuracy(), r.correct, r.total);
}

absl::StatusOr<Shape> ModelInputShape(absl::string_view model, const zoo::ModelConfig& config) {
  zoo::ModelConfig one = config;
  one.batch_size = 1;
  Graph graph;
  STRATA_ASSIGN_OR_RETURN(zoo::Model m, zoo::BuildModel(model, graph, one));
  const std::vector<int64_t>& dims = m.images.shape().dims();
  return Shape(std::vector<int64_t>(dims.begin() + 1, dims.end()));
}

absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size) {
  return Evaluate(model, zoo::ModelConfig{}, dataset, store, batch_size);
}

absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const zoo::ModelConfig& config,
                                    const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size) {
  if (batch_size < 1) return absl::InvalidArgumentError("the evaluation batch size must be >= 1");
  // One inference graph per batch size met (at most two: full and last).
  struct Evaluator {
    Graph graph;
    zoo::Model model;
    std::unique_ptr<runtime::Session> session;
    Tensor images, labels;
  };
  std::map<int64_t, std::unique_ptr<Evaluator>> evaluators;
  data::Batcher batcher(dataset, batch_size, /*shuffle=*/false, /*seed=*/0, /*drop_remainder=*/false);
  batcher.StartEpoch(0);
  EvalResult result;
  for (int64_t i = 0; i < batcher.num_batches(); ++i) {
    const int64_t n = batcher.BatchSize(i);
    auto& e = evaluators[n];
    if (e == nullptr) {
      e = std::make_unique<Evaluator>();
      zoo::ModelConfig at_n = config;
      at_n.batch_size = n;
      STRATA_ASSIGN_OR_RETURN(e->model, zoo::BuildModel(model, e->graph, at_n));
      STRATA_ASSIGN_OR_RETURN(e->session, runtime::Session::Create(e->graph, {}, store));
      e->images = Tensor(e->model.images.spec());
      e->labels = Tensor(e->model.labels.spec());
    }
    batcher.Batch(i, &e->images, &e->labels);
    RunOptions inference;
    inference.training = false;  // dropout off, batch norm on its running statistics
    STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out,
                            e->session->Run({{e->model.images, e->images}}, {e->model.predictions}, {}, inference));
    const int32_t* predicted = out[0].data<int32_t>();
    const int32_t* truth = e->labels.data<int32_t>();
    for (int64_t k = 0; k < n; ++k) result.correct += predicted[k] == truth[k];
    result.total += n;
  }
  return result;
}

absl::StatusOr<TrainResult> Train(const TrainConfig& config, std::ostream& log) {
  if (config.epochs < 1 || config.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("epochs (", config.epochs, ") and batch size (",
                                                   config.batch_size, ") must be >= 1"));
  }
  zoo::ModelConfig model_config = config.model_config;
  model_config.batch_size = config.batch_size;
  STRATA_ASSIGN_OR_RETURN(const Shape input, ModelInputShape(config.model, model_config));
  STRATA_RETURN_IF_ERROR(CheckData(config.model, input, config.synthetic_data));
  data::Dataset train_full, test;
  if (config.synthetic_data) {
    if (config.synthetic_train < 1 || config.synthetic_test < 1) {
      return absl::InvalidArgumentError("synthetic data needs at least one training and one test example");
    }
    train_full = SyntheticSplit(input, config.synthetic_train, model_config.num_classes, config.seed);
    test = SyntheticSplit(input, config.synthetic_test, model_config.num_classes, config.seed + 1);
  } else {
    STRATA_ASSIGN_OR_RETURN(train_full, LoadSplit(config.data_dir, "train"));
    STRATA_ASSIGN_OR_RETURN(test, LoadSplit(config.data_dir, "test"));
  }
  data::Dataset train = Head(train_full, config.max_train_examples);

  if (!config.checkpoint.empty()) {
    // Fail before training, not after the first epoch, if the folder cannot be made.
    std::error_code error;
    const std::filesystem::path parent = std::filesystem::path(config.checkpoint).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the checkpoint folder ", parent.string(), ": ", error.message()));
    }
  }
  Graph graph;
  STRATA_ASSIGN_OR_RETURN(zoo::Model model, zoo::BuildModel(config.model, graph, model_config));
  const int64_t parameters = zoo::CountTrainableParameters(graph);
  optim::SGDOptions sgd{config.learning_rate, config.momentum, config.weight_decay, false};
  STRATA_ASSIGN_OR_RETURN(Node * train_step, optim::MinimizeWithSGD(graph, model.loss, sgd));
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(graph));
  STRATA_RETURN_IF_ERROR(session->InitializeVariables(config.seed));

  log << absl::StrFormat("model %s: %d parameters; %d training and %d test examples (%s %s, %d classes); "
                         "batch %d, lr %g, momentum %g, weight decay %g\n",
                         config.model, parameters, train.size(), test.size(),
                         config.synthetic_data ? "synthetic" : "MNIST", VolumeText(input),
                         model_config.num_classes, config.batch_size, config.learning_rate, config.momentum,
                         config.weight_decay);

  // Full batches only: the graph's batch size is static.
  data::Batcher batcher(train, config.batch_size, /*shuffle=*/true, config.seed, /*drop_remainder=*/true);
  if (batcher.num_batches() == 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch size ", config.batch_size, " exceeds the ",
                                                   train.size(), " training examples"));
  }
  Tensor images(model.images.spec()), labels(model.labels.spec());
  TrainResult result;
  result.parameters = parameters;
  int64_t step = 0;
  double learning_rate = config.learning_rate;
  for (int epoch = 1; epoch <= config.epochs; ++epoch) {
    const auto start = Clock::now();
    if (std::count(config.lr_decay_epochs.begin(), config.lr_decay_epochs.end(), epoch)) {
      // The rate is a variable: the compiled plan is reused as it is.
      learning_rate *= config.lr_decay_factor;
      STRATA_RETURN_IF_ERROR(optim::SetLearningRate(session->variables(), learning_rate));
      log << absl::StrFormat("epoch %d: learning rate %g\n", epoch, learning_rate);
    }
    batcher.StartEpoch(epoch);
    double loss_sum = 0;
    const int64_t steps = batcher.num_batches();
    for (int64_t i = 0; i < steps; ++i) {
      batcher.Batch(i, &images, &labels);
      RunOptions run;
      run.training = true;
      run.step = step++;
      run.seed = config.seed;
      STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out,
                              session->Run({{model.images, images}, {model.labels, labels}}, {model.loss},
                                           {train_step}, run));
      loss_sum += out[0].data<float>()[0];
      if (config.progress_bar && (i % 10 == 0 || i + 1 == steps)) {
        const double elapsed = Seconds(start);
        DrawProgress(log, epoch, config.epochs, i + 1, steps, loss_sum / (i + 1),
                     (i + 1) * config.batch_size / elapsed, elapsed / (i + 1) * (steps - i - 1));
      }
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.seconds = Seconds(start);
    stats.mean_loss = loss_sum / steps;
    stats.images_per_second = steps * config.batch_size / stats.seconds;
    STRATA_ASSIGN_OR_RETURN(stats.test,
                            Evaluate(config.model, model_config, test, session->shared_variables(),
                                     config.eval_batch_size));
    if (config.progress_bar) log << "\r\033[K";
    log << absl::StrFormat("epoch %d/%d loss %.4f test accuracy %s time %.1fs (%.0f img/s)\n", epoch,
                           config.epochs, stats.mean_loss, FormatAccuracy(stats.test), stats.seconds,
                           stats.images_per_second)
        << std::flush;
    if (!config.checkpoint.empty()) {
      // Everything eval needs to rebuild this model and its test split.
      std::map<std::string, std::string> metadata = {
          {"model", config.model},
          {"image_size", absl::StrCat(input[1])},
          {"groups", absl::StrCat(model_config.groups)},
          {"aux_classifiers", model_config.aux_classifiers ? "true" : "false"},
          {"resnet_v1_5", model_config.resnet_v1_5 ? "true" : "false"},
          {"classes", absl::StrCat(model_config.num_classes)},
          {"data", config.synthetic_data ? "synthetic" : "mnist"},
          {"epoch", absl::StrCat(epoch)},
          {"step", absl::StrCat(step)},
          {"test_accuracy", FormatAccuracy(stats.test)}};
      if (config.synthetic_data) {
        metadata["synthetic_test"] = absl::StrCat(config.synthetic_test);
        metadata["synthetic_seed"] = absl::StrCat(config.seed + 1);
      }
      STRATA_RETURN_IF_ERROR(serialization::SaveCheckpoint(
          config.checkpoint, serialization::SnapshotVariables(session->variables()), metadata));
    }
    result.epochs.push_back(stats);
  }
  if (!config.checkpoint.empty()) log << "checkpoint written to " << config.checkpoint << "\n";
  return result;
}

absl::StatusOr<EvalResult> EvaluateCheckpoint(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir, int64_t batch_size) {
  STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(checkpoint));
  // The checkpoint's own record of its model wins over the caller's default.
  std::string model_name(model);
  if (auto it = ckpt.metadata.find("model"); it != ckpt.metadata.end()) model_name = it->second;
  if (model_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint ", checkpoint, " does not name its model"));
  }
  // The options it was trained with (older checkpoints record none: the
  // defaults, 10 classes, MNIST).
  const auto& meta = ckpt.metadata;
  zoo::ModelConfig config;
  config.batch_size = 1;
  config.num_classes = MetaInt(meta, "classes", 10);
  config.image_size = MetaInt(meta, "image_size", 0);
  config.groups = MetaInt(meta, "groups", 1);
  config.aux_classifiers = MetaBool(meta, "aux_classifiers");
  config.resnet_v1_5 = MetaBool(meta, "resnet_v1_5");
  const bool synthetic = meta.count("data") && meta.at("data") == "synthetic";
  STRATA_ASSIGN_OR_RETURN(const Shape input, ModelInputShape(model_name, config));
  STRATA_RETURN_IF_ERROR(CheckData(model_name, input, synthetic));
  data::Dataset test;
  if (synthetic) {
    const int64_t n = MetaInt(meta, "synthetic_test", 0);
    const int64_t seed = MetaInt(meta, "synthetic_seed", -1);
    if (n < 1 || seed < 0) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", checkpoint, " was trained on synthetic data but does not record its "
                       "test split (synthetic_test, synthetic_seed)"));
    }
    test = SyntheticSplit(input, n, config.num_classes, static_cast<uint64_t>(seed));
  } else {
    STRATA_ASSIGN_OR_RETURN(test, LoadSplit(data_dir, "test"));
  }
  // Restore through a graph of the model so that names, dtypes and shapes are
  // all checked against it before anything runs.
  Graph graph;
  STRATA_RETURN_IF_ERROR(zoo::BuildModel(model_name, graph, config).status());
  auto store = std::make_shared<runtime::VariableStore>();
  STRATA_RETURN_IF_ERROR(serialization::RestoreVariables(ckpt, graph, store.get()));
  return Evaluate(model_name, config, test, store, batch_size);
}

}  // namespace strata::training
