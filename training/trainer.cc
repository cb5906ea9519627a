#include "training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "data/augment.h"
#include "data/batcher.h"
#include "data/cifar.h"
#include "data/prefetch.h"
#include "data/synthetic.h"
#include "graph/status_macros.h"
#include "metrics/csv_writer.h"
#include "metrics/event_writer.h"
#include "ops/nn.h"
#include "optim/optimizer.h"
#include "optim/schedule.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "training/data_parallel.h"
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

// CIFAR-10 scaled to [0,1], then normalised per channel.
absl::StatusOr<data::Dataset> LoadCifarSplit(const std::string& dir, absl::string_view split) {
  STRATA_ASSIGN_OR_RETURN(data::Dataset ds, data::LoadCifar10(dir, split));
  const int64_t plane = data::kCifarSide * data::kCifarSide;
  float* x = ds.images.data<float>();
  for (int64_t n = 0; n < ds.size(); ++n) {
    for (int64_t c = 0; c < data::kCifarChannels; ++c) {
      float* p = x + (n * data::kCifarChannels + c) * plane;
      for (int64_t k = 0; k < plane; ++k) p[k] = (p[k] - data::kCifar10Mean[c]) / data::kCifar10Std[c];
    }
  }
  return ds;
}

// The data a model can be trained on: MNIST for 1x28x28 inputs, CIFAR-10 for
// 3x32x32 inputs, synthetic images of the model's input shape for any
// (square) input.
absl::Status CheckData(const std::string& model, const Shape& input, bool synthetic, bool cifar10 = false) {
  if (input.rank() != 3 || input[1] != input[2]) {
    return absl::InvalidArgumentError(
        absl::StrCat(model, " takes ", VolumeText(input), " inputs: only square CxHxW images are supported"));
  }
  if (cifar10) {
    if (input != Shape({3, 32, 32})) {
      return absl::InvalidArgumentError(absl::StrCat(
          model, " needs ", VolumeText(input),
          " images, not CIFAR-10's 3x32x32: CIFAR-10 is for models with 3x32x32 input (cifar_resnet*, "
          "cifar_plain*); use --data=synthetic for this one"));
    }
    return absl::OkStatus();
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

// --augment=alexnet: the model's S x S input is a random crop of an image of
// side round(S * 256 / 227) (AlexNet's 227 out of 256; 32 for LeNet-5's 28).
int64_t AlexNetSourceSide(int64_t side) { return (side * 256 + 113) / 227; }

// The augmenter of --augment (none, cifar, alexnet) for a model taking
// `input` (CxSxS) images, and the example shape of the data it crops from.
struct Augmentation {
  data::Augmenter augmenter;
  Shape data_example;
  bool active() const { return !augmenter.is_identity(); }
};
absl::StatusOr<Augmentation> MakeAugmentation(const std::string& name, uint64_t seed, const std::string& model,
                                              const Shape& input, bool synthetic) {
  Augmentation a;
  a.data_example = input;
  if (name == "none") return a;
  if (name == "cifar") {
    if (input != Shape({3, 32, 32})) {
      return absl::InvalidArgumentError(
          absl::StrCat("--augment=cifar crops 32x32 images: ", model, " takes ", VolumeText(input), " inputs"));
    }
    a.augmenter = data::Augmenter::Cifar(seed);
    return a;
  }
  if (name == "alexnet") {
    if (!synthetic) {
      return absl::InvalidArgumentError(
          "--augment=alexnet crops the model's input out of larger images: only --data=synthetic has them "
          "(MNIST and CIFAR-10 images are the models' own size)");
    }
    a.augmenter = data::Augmenter(seed).RandomCrop(input[1]).HorizontalFlip(0.5);
    a.data_example = Shape({input[0], AlexNetSourceSide(input[1]), AlexNetSourceSide(input[2])});
    return a;
  }
  return absl::InvalidArgumentError(absl::StrCat("--augment='", name, "': expected none, cifar or alexnet"));
}

// Evaluation's view of augmented data: the centre crop (which leaves CIFAR's
// pad-4-crop-32 images as they are).
data::Dataset CentreCrop(const Augmentation& a, data::Dataset ds) {
  if (!a.active() || ds.size() == 0) return ds;
  ds.images = a.augmenter.Eval(ds.images);
  return ds;
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

absl::Status InferBatches(absl::string_view model, const zoo::ModelConfig& config, const data::Dataset& dataset,
                          const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size,
                          InferOutput what, const BatchVisitor& visit) {
  if (batch_size < 1) return absl::InvalidArgumentError("the evaluation batch size must be >= 1");
  // One inference graph per batch size met (at most two: full and last).
  struct Inference {
    Graph graph;
    zoo::Model model;
    Output fetch;
    std::unique_ptr<runtime::Session> session;
    Tensor images, labels;
  };
  std::map<int64_t, std::unique_ptr<Inference>> graphs;
  data::Batcher batcher(dataset, batch_size, /*shuffle=*/false, /*seed=*/0, /*drop_remainder=*/false);
  batcher.StartEpoch(0);
  int64_t first = 0;
  for (int64_t i = 0; i < batcher.num_batches(); ++i) {
    const int64_t n = batcher.BatchSize(i);
    auto& e = graphs[n];
    if (e == nullptr) {
      e = std::make_unique<Inference>();
      zoo::ModelConfig at_n = config;
      at_n.batch_size = n;
      STRATA_ASSIGN_OR_RETURN(e->model, zoo::BuildModel(model, e->graph, at_n));
      e->fetch = what == InferOutput::kPredictions ? e->model.predictions
                                                   : ops::Softmax(e->graph, e->model.logits, "probabilities");
      STRATA_RETURN_IF_ERROR(e->graph.status());
      STRATA_ASSIGN_OR_RETURN(e->session, runtime::Session::Create(e->graph, {}, store));
      e->images = Tensor(e->model.images.spec());
      e->labels = Tensor(e->model.labels.spec());
    }
    batcher.Batch(i, &e->images, &e->labels);
    RunOptions inference;
    inference.training = false;  // dropout off, batch norm on its running statistics
    STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out,
                            e->session->Run({{e->model.images, e->images}}, {e->fetch}, {}, inference));
    visit(first, e->labels, out[0]);
    first += n;
  }
  return absl::OkStatus();
}

absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const zoo::ModelConfig& config,
                                    const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size) {
  EvalResult result;
  STRATA_RETURN_IF_ERROR(InferBatches(
      model, config, dataset, store, batch_size, InferOutput::kPredictions,
      [&](int64_t, const Tensor& labels, const Tensor& predictions) {
        const int32_t* predicted = predictions.data<int32_t>();
        const int32_t* truth = labels.data<int32_t>();
        for (int64_t k = 0; k < labels.num_elements(); ++k) result.correct += predicted[k] == truth[k];
        result.total += labels.num_elements();
      }));
  return result;
}

namespace {

// Examples [begin, begin + n) of a dataset.
data::Dataset Slice(const data::Dataset& ds, int64_t begin, int64_t n) {
  std::vector<int64_t> dims = ds.images.shape().dims();
  const int64_t per = dims[0] > 0 ? ds.images.num_elements() / dims[0] : 0;
  dims[0] = n;
  data::Dataset out;
  out.images = Tensor(DType::kFloat32, Shape(dims));
  out.labels = Tensor(DType::kInt32, Shape{n});
  std::copy_n(ds.images.data<float>() + begin * per, n * per, out.images.data<float>());
  std::copy_n(ds.labels.data<int32_t>() + begin, n, out.labels.data<int32_t>());
  return out;
}

absl::StatusOr<optim::OptimizerConfig> MakeOptimizer(const TrainConfig& c) {
  STRATA_ASSIGN_OR_RETURN(const optim::OptimizerKind kind, optim::ParseOptimizerKind(c.optimizer));
  optim::OptimizerConfig o = optim::OptimizerConfig::Defaults(kind);
  o.learning_rate = c.learning_rate;
  o.weight_decay = c.weight_decay;
  if (kind == optim::OptimizerKind::kSGD) {
    o.momentum = c.momentum;
    o.nesterov = c.nesterov;
  } else if (c.nesterov) {
    return absl::InvalidArgumentError(
        absl::StrCat("--nesterov is SGD's momentum variant; the optimizer is ", c.optimizer));
  }
  o.variable_options.decay_all = c.decay_biases;
  o.clip_global_norm = c.clip_norm;
  STRATA_RETURN_IF_ERROR(optim::Validate(o));
  return o;
}

bool IsPlateau(const optim::Schedule& s) {
  if (dynamic_cast<const optim::ReduceOnPlateau*>(&s) != nullptr) return true;
  if (const auto* warmup = dynamic_cast<const optim::LinearWarmup*>(&s)) return IsPlateau(warmup->after());
  return false;
}

// The schedule of a run: --schedule, or lr_decay_epochs as a multistep one.
// A plateau schedule watches the validation accuracy: mode=max unless given.
absl::StatusOr<std::unique_ptr<optim::Schedule>> MakeSchedule(const TrainConfig& c) {
  if (c.schedule.empty()) {
    std::vector<int64_t> milestones;
    for (int e : c.lr_decay_epochs) {
      if (e < 1) return absl::InvalidArgumentError(absl::StrCat("lr_decay_epochs: ", e, " is not an epoch (1-based)"));
      milestones.push_back(e - 1);  // the rate of epoch e follows e - 1 schedule steps
    }
    std::unique_ptr<optim::Schedule> s;
    if (milestones.empty()) {
      s = std::make_unique<optim::ConstantSchedule>(c.learning_rate);
    } else {
      s = std::make_unique<optim::MultiStepSchedule>(c.learning_rate, milestones, c.lr_decay_factor);
    }
    STRATA_RETURN_IF_ERROR(s->Validate());
    return s;
  }
  std::string spec = c.schedule;
  const size_t colon = spec.find(':');
  if (spec.substr(0, colon) == "plateau") {
    std::string mode;
    if (colon != std::string::npos) {
      for (absl::string_view part : absl::StrSplit(absl::string_view(spec).substr(colon + 1), ',')) {
        if (absl::StartsWith(part, "mode=")) mode = std::string(part.substr(5));
      }
    }
    if (mode == "min") {
      return absl::InvalidArgumentError(
          "--schedule=plateau watches the validation accuracy, which should rise: use mode=max (the default "
          "here), not mode=min");
    }
    if (mode.empty()) spec += colon == std::string::npos ? ":mode=max" : ",mode=max";
  }
  return optim::ParseSchedule(spec, c.learning_rate);
}

std::string Exact(double v) { return absl::StrFormat("%.17g", v); }

// "<checkpoint>-<step>" files of this run, oldest first.
std::vector<std::pair<int64_t, std::filesystem::path>> StepCheckpoints(const std::string& checkpoint) {
  namespace fs = std::filesystem;
  const fs::path base(checkpoint);
  const fs::path dir = base.parent_path().empty() ? fs::path(".") : base.parent_path();
  const std::string prefix = base.filename().string() + "-";
  std::vector<std::pair<int64_t, fs::path>> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    int64_t step = 0;
    if (digits.find_first_not_of("0123456789") != std::string::npos || !absl::SimpleAtoi(digits, &step)) continue;
    found.emplace_back(step, entry.path());
  }
  std::sort(found.begin(), found.end());
  return found;
}

// Writes `checkpoint` and, with keep > 0, "<checkpoint>-<step>" (a hard link
// to it where the file system allows), then deletes all but the newest keep
// step checkpoints.
absl::Status WriteCheckpoint(const TrainConfig& c, const runtime::VariableStore& store,
                             const std::map<std::string, std::string>& metadata, int64_t step) {
  namespace fs = std::filesystem;
  const std::map<std::string, Tensor> tensors = serialization::SnapshotVariables(store);
  STRATA_RETURN_IF_ERROR(serialization::SaveCheckpoint(c.checkpoint, tensors, metadata));
  if (c.keep <= 0) return absl::OkStatus();
  const std::string numbered = absl::StrCat(c.checkpoint, "-", step);
  std::error_code error;
  fs::remove(numbered, error);
  error.clear();
  fs::create_hard_link(c.checkpoint, numbered, error);
  if (error) STRATA_RETURN_IF_ERROR(serialization::SaveCheckpoint(numbered, tensors, metadata));
  auto found = StepCheckpoints(c.checkpoint);
  for (size_t i = 0; i + c.keep < found.size(); ++i) {
    fs::remove(found[i].second, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot delete the old checkpoint ", found[i].second.string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

// After a non-finite loss: runs that step's forward pass again (same weights,
// batch, step and seed) fetching every float output the loss depends on, and
// names the first node, in graph order, with a non-finite value.
std::string FirstNonFinite(Graph& graph, runtime::Session& session, const runtime::Feeds& feeds, Output loss,
                           const RunOptions& run) {
  std::set<const Node*> needed;
  std::vector<const Node*> stack = {loss.node};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!needed.insert(n).second) continue;
    for (const Output& in : n->inputs()) stack.push_back(in.node);
  }
  std::vector<Output> fetches;
  for (const auto& node : graph.nodes()) {
    if (!needed.count(node.get())) continue;
    for (int k = 0; k < node->num_outputs(); ++k) {
      if (node->output(k).dtype() == DType::kFloat32) fetches.push_back(node->output(k));
    }
  }
  auto out = session.Run(feeds, fetches, {}, run);
  if (!out.ok()) return absl::StrCat("(its forward pass could not be rerun: ", out.status().message(), ")");
  for (size_t i = 0; i < fetches.size(); ++i) {
    for (float v : (*out)[i].flat<float>()) {
      if (!std::isfinite(v)) {
        const Node* n = fetches[i].node;
        return absl::StrCat("the first non-finite value (", v, ") of its forward pass is in ", fetches[i].name(),
                            " (", n->op(), n->op() == "Variable" ? ": the weights themselves" : "", ")");
      }
    }
  }
  return "(a rerun of its forward pass gave finite values everywhere)";
}

}  // namespace

absl::StatusOr<TrainResult> Train(const TrainConfig& config, std::ostream& log_in) {
  // Data parallel (training/data_parallel.h): rank 0 alone logs and writes.
  DataParallel* const dp = config.data_parallel.get();
  const bool chief = dp == nullptr || dp->rank() == 0;
  std::ostream& log = chief ? log_in : NullOutput();
  STRATA_RETURN_IF_ERROR(CheckDataParallel(dp, config.batch_size));
  if (config.epochs < 1 || config.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("epochs (", config.epochs, ") and batch size (",
                                                   config.batch_size, ") must be >= 1"));
  }
  if (config.validation < 0 || config.keep < 0 || config.checkpoint_every < 0 || config.log_every < 0 ||
      config.clip_norm < 0) {
    return absl::InvalidArgumentError("validation, keep, checkpoint_every, log_every and clip_norm must be >= 0");
  }
  if ((config.resume || config.keep > 0 || config.checkpoint_every > 0) && config.checkpoint.empty()) {
    return absl::InvalidArgumentError("resume, keep and checkpoint_every need a checkpoint path");
  }
  zoo::ModelConfig model_config = config.model_config;
  model_config.batch_size = dp != nullptr ? config.batch_size / dp->size() : config.batch_size;
  STRATA_ASSIGN_OR_RETURN(const Shape input, ModelInputShape(config.model, model_config));
  const bool cifar10 = !config.cifar10_dir.empty();
  if (cifar10 && config.synthetic_data) {
    return absl::InvalidArgumentError("choose one of synthetic data and CIFAR-10, not both");
  }
  STRATA_RETURN_IF_ERROR(CheckData(config.model, input, config.synthetic_data, cifar10));
  STRATA_ASSIGN_OR_RETURN(
      const Augmentation augmentation,
      MakeAugmentation(config.augment, config.seed, config.model, input, config.synthetic_data));
  const bool augment = augmentation.active();
  const data::Augmenter& augmenter = augmentation.augmenter;
  STRATA_ASSIGN_OR_RETURN(const optim::OptimizerConfig optimizer, MakeOptimizer(config));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<optim::Schedule> schedule, MakeSchedule(config));
  if (IsPlateau(*schedule) && config.validation == 0) {
    return absl::InvalidArgumentError(
        "a plateau schedule watches the validation accuracy: hold out a validation split with "
        "--validation=N (N training examples)");
  }
  data::Dataset train_full, test;
  if (config.synthetic_data) {
    if (config.synthetic_train < 1 || config.synthetic_test < 1) {
      return absl::InvalidArgumentError("synthetic data needs at least one training and one test example");
    }
    train_full = SyntheticSplit(augmentation.data_example, config.synthetic_train, model_config.num_classes,
                                config.seed);
    test = CentreCrop(augmentation, SyntheticSplit(augmentation.data_example, config.synthetic_test,
                                                   model_config.num_classes, config.seed + 1));
  } else if (cifar10) {
    STRATA_ASSIGN_OR_RETURN(train_full, LoadCifarSplit(config.cifar10_dir, "train"));
    STRATA_ASSIGN_OR_RETURN(test, LoadCifarSplit(config.cifar10_dir, "test"));
  } else {
    STRATA_ASSIGN_OR_RETURN(train_full, LoadSplit(config.data_dir, "train"));
    STRATA_ASSIGN_OR_RETURN(test, LoadSplit(config.data_dir, "test"));
  }
  data::Dataset validation;
  if (config.validation > 0) {
    const int64_t n = train_full.size();
    if (config.validation >= n) {
      return absl::InvalidArgumentError(
          absl::StrCat("--validation=", config.validation, " leaves none of the ", n, " training examples"));
    }
    validation = CentreCrop(augmentation, Slice(train_full, n - config.validation, config.validation));
    train_full = Slice(train_full, 0, n - config.validation);
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
  optim::OptimizerConfig step_optimizer = optimizer;
  if (dp != nullptr) STRATA_RETURN_IF_ERROR(dp->AverageGradients(step_optimizer));
  STRATA_ASSIGN_OR_RETURN(const optim::TrainStep train_step,
                          optim::BuildTrainStep(graph, model.loss, step_optimizer));
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(graph));
  STRATA_RETURN_IF_ERROR(session->InitializeVariables(config.seed));
  runtime::VariableStore& store = session->variables();

  // Full batches only: the graph's batch size is static.
  data::Batcher batcher(train, config.batch_size, /*shuffle=*/true, config.seed, /*drop_remainder=*/true);
  const int64_t steps = batcher.num_batches();
  if (steps == 0) {
    return absl::InvalidArgumentError(absl::StrCat("batch size ", config.batch_size, " exceeds the ",
                                                   train.size(), " training examples"));
  }

  // What a checkpoint records about the run; resuming checks these match.
  const std::map<std::string, std::string> run_identity = {
      {"model", config.model},
      {"optimizer", std::string(optim::OptimizerKindName(optimizer.kind))},
      {"schedule", schedule->Describe()},
      {"seed", absl::StrCat(config.seed)},
      {"batch_size", absl::StrCat(config.batch_size)},
      {"train_examples", absl::StrCat(train.size())},
      {"validation", absl::StrCat(config.validation)},
      {"data", config.synthetic_data ? "synthetic" : cifar10 ? "cifar10" : "mnist"},
      {"augment", config.augment}};

  int64_t step = 0;
  int first_epoch = 1;
  int64_t first_batch = 0;
  double resumed_loss_sum = 0;
  if (config.resume && std::filesystem::exists(config.checkpoint)) {
    STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(config.checkpoint));
    const auto& meta = ckpt.metadata;
    for (const auto& [key, value] : run_identity) {
      auto it = meta.find(key);
      if (it == meta.end() && key == "augment" && value == "none") continue;  // written before --augment
      if (it == meta.end() || it->second != value) {
        return absl::FailedPreconditionError(absl::StrCat(
            "cannot resume from ", config.checkpoint, ": it was written with ", key, " ",
            it == meta.end() ? "unrecorded (not by a resumable run)" : absl::StrCat("'", it->second, "'"),
            ", this run has '", value, "'"));
      }
    }
    auto state = meta.find("schedule_state");
    if (state == meta.end() || !meta.count("epoch_batches") || !meta.count("epoch_loss_sum")) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot resume from ", config.checkpoint, ": it records no training position"));
    }
    STRATA_RETURN_IF_ERROR(serialization::RestoreVariables(ckpt, graph, &store));
    STRATA_RETURN_IF_ERROR(schedule->RestoreFromString(state->second));
    step = MetaInt(meta, "step", -1);
    const int64_t epoch = MetaInt(meta, "epoch", -1);
    const int64_t batches = MetaInt(meta, "epoch_batches", -1);
    double loss_sum = 0;
    if (step < 0 || epoch < 1 || batches < 0 || batches > steps ||
        !absl::SimpleAtod(meta.at("epoch_loss_sum"), &loss_sum)) {
      return absl::DataLossError(absl::StrCat("checkpoint ", config.checkpoint, " records a bad training position"));
    }
    if (batches == steps) {
      first_epoch = static_cast<int>(epoch) + 1;
    } else {
      first_epoch = static_cast<int>(epoch);
      first_batch = batches;
      resumed_loss_sum = loss_sum;
    }
    log << absl::StrFormat("resuming from %s: step %d, epoch %d, batch %d of %d\n", config.checkpoint, step,
                           first_epoch, first_batch, steps);
  } else if (config.resume) {
    log << "no checkpoint at " << config.checkpoint << " yet: starting from scratch\n";
  }
  if (dp != nullptr) STRATA_RETURN_IF_ERROR(dp->BroadcastVariables(store));

  std::unique_ptr<metrics::CsvWriter> csv;
  std::unique_ptr<metrics::EventWriter> events;
  if (!config.log_dir.empty() && chief) {
    std::error_code error;
    std::filesystem::create_directories(config.log_dir, error);
    if (error) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create the log folder ", config.log_dir, ": ", error.message()));
    }
    STRATA_ASSIGN_OR_RETURN(
        csv, metrics::CsvWriter::Open(config.log_dir + "/metrics.csv",
                                      {"step", "epoch", "kind", "loss", "learning_rate", "images_per_second",
                                       "test_accuracy", "validation_accuracy"},
                                      /*append=*/config.resume));
    STRATA_ASSIGN_OR_RETURN(events, metrics::EventWriter::Create(config.log_dir));
  }

  log << absl::StrFormat("model %s: %d parameters; %d training and %d test examples (%s %s, %d classes); "
                         "batch %d, lr %g, momentum %g, weight decay %g\n",
                         config.model, parameters, train.size(), test.size(),
                         config.synthetic_data ? "synthetic" : cifar10 ? "CIFAR-10" : "MNIST", VolumeText(input),
                         model_config.num_classes, config.batch_size, config.learning_rate, config.momentum,
                         config.weight_decay);
  if (optimizer.kind != optim::OptimizerKind::kSGD || !config.schedule.empty() || config.validation > 0) {
    log << absl::StrFormat("optimizer %s, schedule %s%s\n", optim::OptimizerKindName(optimizer.kind),
                           schedule->Describe(),
                           config.validation > 0 ? absl::StrCat(", ", validation.size(), " validation examples")
                                                 : "");
  }

  auto metadata = [&](int epoch, int64_t batches, double loss_sum) {
    // Everything eval needs to rebuild this model and its test split, and
    // everything resume needs to continue exactly.
    std::map<std::string, std::string> m = run_identity;
    m["image_size"] = absl::StrCat(input[1]);
    m["groups"] = absl::StrCat(model_config.groups);
    m["aux_classifiers"] = model_config.aux_classifiers ? "true" : "false";
    m["resnet_v1_5"] = model_config.resnet_v1_5 ? "true" : "false";
    m["classes"] = absl::StrCat(model_config.num_classes);
    m["epoch"] = absl::StrCat(epoch);
    m["epoch_batches"] = absl::StrCat(batches);
    m["epoch_loss_sum"] = Exact(loss_sum);
    m["step"] = absl::StrCat(step);
    m["ranks"] = absl::StrCat(dp != nullptr ? dp->size() : 1);  // informative: any number may resume
    m["schedule_state"] = schedule->SerializeState();
    if (config.synthetic_data) {
      m["synthetic_test"] = absl::StrCat(config.synthetic_test);
      m["synthetic_seed"] = absl::StrCat(config.seed + 1);
    }
    if (cifar10) m["cifar10_dir"] = std::filesystem::absolute(config.cifar10_dir).string();
    return m;
  };

  // The batch as the data holds it, and as the model takes it.
  std::vector<int64_t> batch_dims = {config.batch_size};
  for (int64_t d : augmentation.data_example.dims()) batch_dims.push_back(d);
  // Global batches (every rank makes the whole batch and feeds its shard):
  // the prefetcher's buffers, or these when batches are made between steps.
  Tensor images, labels, augmented;
  std::unique_ptr<data::Prefetcher> prefetcher;
  if (config.prefetch > 0) {
    data::PrefetchOptions o;
    o.batch_size = config.batch_size;
    o.shuffle = true;
    o.seed = config.seed;
    o.drop_remainder = true;
    if (augment) o.augmenter = augmenter;
    o.depth = config.prefetch;
    prefetcher = std::make_unique<data::Prefetcher>(train, std::move(o));
  } else {
    images = Tensor(DType::kFloat32, Shape(batch_dims));
    labels = Tensor(DType::kInt32, Shape{config.batch_size});
    if (augment) augmented = Tensor(DType::kFloat32, GlobalBatchShape(model.images.shape(), config.batch_size));
  }
  TrainResult result;
  result.parameters = parameters;
  STRATA_ASSIGN_OR_RETURN(double learning_rate, optim::GetLearningRate(store));
  for (int epoch = first_epoch; epoch <= config.epochs; ++epoch) {
    const auto start = Clock::now();
    // The rate is a variable: the compiled plan is reused as it is.
    const double scheduled = static_cast<float>(schedule->LearningRate());
    if (scheduled != learning_rate) {
      learning_rate = scheduled;
      log << absl::StrFormat("epoch %d: learning rate %g\n", epoch, learning_rate);
    }
    STRATA_RETURN_IF_ERROR(optim::SetLearningRate(store, learning_rate));
    const int64_t begin = epoch == first_epoch ? first_batch : 0;
    if (prefetcher != nullptr) {
      prefetcher->StartEpoch(epoch, begin);
    } else {
      batcher.StartEpoch(epoch);
    }
    double loss_sum = epoch == first_epoch ? resumed_loss_sum : 0;
    double window_loss = 0;
    int64_t window_steps = 0;
    auto window_start = Clock::now();
    for (int64_t i = begin; i < steps; ++i) {
      runtime::Feeds feeds;
      if (prefetcher != nullptr) {
        data::PrefetchedBatch batch;
        if (!prefetcher->Next(&batch) || batch.index != i) {
          return absl::InternalError(absl::StrCat("the prefetcher did not deliver batch ", i, " of epoch ", epoch));
        }
        feeds = {{model.images, batch.images}, {model.labels, batch.labels}};
      } else {
        batcher.Batch(i, &images, &labels);
        if (augment) augmenter.Apply(images, epoch, i, &augmented);
        feeds = {{model.images, augment ? augmented : images}, {model.labels, labels}};
      }
      if (dp != nullptr) {
        for (auto& [placeholder, value] : feeds) value = ShardRows(value, dp->rank(), dp->size());
      }
      RunOptions run;
      run.training = true;
      run.step = step;
      run.seed = config.seed;
      std::map<std::string, Tensor> before;
      if (config.nan_guard) before = serialization::SnapshotVariables(store);
      STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out, session->Run(feeds, {model.loss}, {train_step.step}, run));
      float loss = out[0].data<float>()[0];
      if (dp != nullptr) {
        STRATA_ASSIGN_OR_RETURN(const double mean, dp->Average(loss));
        loss = static_cast<float>(mean);
      }
      if (config.nan_guard && !std::isfinite(loss)) {
        if (config.progress_bar) log << "\r\033[K";
        for (const auto& [name, value] : before) STRATA_RETURN_IF_ERROR(store.Set(name, value));
        return absl::AbortedError(absl::StrFormat(
            "--nan_guard: the loss is %g at step %d (epoch %d, batch %d); %s", loss, step, epoch, i,
            FirstNonFinite(graph, *session, feeds, model.loss, run)));
      }
      ++step;
      loss_sum += loss;
      window_loss += loss;
      ++window_steps;
      if (csv != nullptr && config.log_every > 0 && step % config.log_every == 0) {
        const double ips = window_steps * config.batch_size / Seconds(window_start);
        const double mean = window_loss / window_steps;
        STRATA_RETURN_IF_ERROR(csv->WriteRow({absl::StrCat(step), absl::StrCat(epoch), "step",
                                              metrics::CsvNumber(mean), metrics::CsvNumber(learning_rate),
                                              metrics::CsvNumber(ips), "", ""}));
        STRATA_RETURN_IF_ERROR(events->AddScalars(
            step, {{"train/loss", mean}, {"train/learning_rate", learning_rate}, {"train/images_per_second", ips}}));
        window_loss = 0;
        window_steps = 0;
        window_start = Clock::now();
      }
      if (config.progress_bar && (i % 10 == 0 || i + 1 == steps)) {
        const double elapsed = Seconds(start);
        const int64_t done = i + 1 - begin;
        DrawProgress(log, epoch, config.epochs, i + 1, steps, loss_sum / (i + 1),
                     done * config.batch_size / elapsed, elapsed / done * (steps - i - 1));
      }
      if (chief && config.checkpoint_every > 0 && step % config.checkpoint_every == 0 && i + 1 < steps) {
        STRATA_RETURN_IF_ERROR(WriteCheckpoint(config, store, metadata(epoch, i + 1, loss_sum), step));
      }
    }
    EpochStats stats;
    stats.epoch = epoch;
    stats.learning_rate = learning_rate;
    stats.seconds = Seconds(start);
    stats.mean_loss = loss_sum / steps;
    stats.images_per_second = (steps - begin) * config.batch_size / stats.seconds;
    // Batch-norm running statistics drift apart per rank: every rank takes
    // rank 0's before evaluating, so that all evaluate (and a plateau schedule
    // decides) alike, on what the checkpoint holds.
    if (dp != nullptr) STRATA_RETURN_IF_ERROR(dp->BroadcastVariables(store));
    STRATA_ASSIGN_OR_RETURN(stats.test, Evaluate(config.model, model_config, test, session->shared_variables(),
                                                 config.eval_batch_size));
    if (config.validation > 0) {
      STRATA_ASSIGN_OR_RETURN(stats.validation, Evaluate(config.model, model_config, validation,
                                                         session->shared_variables(), config.eval_batch_size));
    }
    // Ends the epoch; the next one's rate is written at once, so that a
    // checkpoint holds the rate training continues with.
    schedule->Step(config.validation > 0 ? stats.validation.accuracy() : std::numeric_limits<double>::quiet_NaN());
    STRATA_RETURN_IF_ERROR(optim::SetLearningRate(store, schedule->LearningRate()));
    if (config.progress_bar) log << "\r\033[K";
    log << absl::StrFormat("epoch %d/%d loss %.4f test accuracy %s%s time %.1fs (%.0f img/s)\n", epoch,
                           config.epochs, stats.mean_loss, FormatAccuracy(stats.test),
                           config.validation > 0
                               ? absl::StrCat(" validation accuracy ", FormatAccuracy(stats.validation))
                               : "",
                           stats.seconds, stats.images_per_second)
        << std::flush;
    if (csv != nullptr) {
      STRATA_RETURN_IF_ERROR(csv->WriteRow(
          {absl::StrCat(step), absl::StrCat(epoch), "epoch", metrics::CsvNumber(stats.mean_loss),
           metrics::CsvNumber(learning_rate), metrics::CsvNumber(stats.images_per_second),
           metrics::CsvNumber(stats.test.accuracy()),
           config.validation > 0 ? metrics::CsvNumber(stats.validation.accuracy()) : ""}));
      std::vector<std::pair<std::string, double>> scalars = {{"epoch/loss", stats.mean_loss},
                                                             {"epoch/learning_rate", learning_rate},
                                                             {"epoch/test_accuracy", stats.test.accuracy()}};
      if (config.validation > 0) scalars.push_back({"epoch/validation_accuracy", stats.validation.accuracy()});
      STRATA_RETURN_IF_ERROR(events->AddScalars(step, scalars));
      STRATA_RETURN_IF_ERROR(events->Flush());
    }
    if (!config.checkpoint.empty() && chief) {
      std::map<std::string, std::string> m = metadata(epoch, steps, loss_sum);
      m["test_accuracy"] = FormatAccuracy(stats.test);
      STRATA_RETURN_IF_ERROR(WriteCheckpoint(config, store, m, step));
    }
    result.epochs.push_back(stats);
  }
  result.steps = step;
  if (!config.checkpoint.empty()) log << "checkpoint written to " << config.checkpoint << "\n";
  if (dp != nullptr && !dp->Summary().empty()) log << dp->Summary() << "\n";
  return result;
}

absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir) {
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
  const bool cifar10 = meta.count("data") && meta.at("data") == "cifar10";
  STRATA_ASSIGN_OR_RETURN(const Shape input, ModelInputShape(model_name, config));
  STRATA_RETURN_IF_ERROR(CheckData(model_name, input, synthetic, cifar10));
  data::Dataset test;
  if (synthetic) {
    const int64_t n = MetaInt(meta, "synthetic_test", 0);
    const int64_t seed = MetaInt(meta, "synthetic_seed", -1);
    if (n < 1 || seed < 0) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", checkpoint, " was trained on synthetic data but does not record its "
                       "test split (synthetic_test, synthetic_seed)"));
    }
    const std::string augment = meta.count("augment") ? meta.at("augment") : "none";
    STRATA_ASSIGN_OR_RETURN(const Augmentation augmentation,
                            MakeAugmentation(augment, 0, model_name, input, /*synthetic=*/true));
    test = CentreCrop(augmentation,
                      SyntheticSplit(augmentation.data_example, n, config.num_classes, static_cast<uint64_t>(seed)));
  } else if (cifar10) {
    absl::StatusOr<data::Dataset> loaded = LoadCifarSplit(data_dir, "test");
    auto recorded = meta.find("cifar10_dir");
    if (!loaded.ok() && recorded != meta.end()) loaded = LoadCifarSplit(recorded->second, "test");
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          absl::StrCat("checkpoint ", checkpoint, " was trained on CIFAR-10: ",
                                       loaded.status().message(), " (pass --data=cifar10:DIR)"));
    }
    test = *std::move(loaded);
  } else {
    STRATA_ASSIGN_OR_RETURN(test, LoadSplit(data_dir, "test"));
  }
  // Restore through a graph of the model so that names, dtypes and shapes are
  // all checked against it before anything runs.
  Graph graph;
  STRATA_RETURN_IF_ERROR(zoo::BuildModel(model_name, graph, config).status());
  TrainedModel trained;
  trained.store = std::make_shared<runtime::VariableStore>();
  STRATA_RETURN_IF_ERROR(serialization::RestoreVariables(ckpt, graph, trained.store.get()));
  trained.model = model_name;
  trained.config = config;
  trained.test = std::move(test);
  trained.metadata = std::move(ckpt.metadata);
  return trained;
}

absl::StatusOr<EvalResult> EvaluateCheckpoint(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir, int64_t batch_size) {
  STRATA_ASSIGN_OR_RETURN(TrainedModel trained, LoadTrainedModel(checkpoint, model, data_dir));
  return Evaluate(trained.model, trained.config, trained.test, trained.store, batch_size);
}

}  // namespace strata::training
