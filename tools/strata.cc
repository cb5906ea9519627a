// `strata`: the command-line tool. Subcommands train, eval, inspect, summary,
// bench, visualize, graph, plot, import, export and run.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/model_bench.h"
#include "data/mnist.h"
#include "distributed/data_parallel.h"
#include "serialization/checkpoint.h"
#include "serialization/crc32c.h"
#include "tools/config_file.h"
#include "tools/onnx_commands.h"
#include "tools/visualize.h"
#include "training/ensemble.h"
#include "training/trainer.h"
#include "zoo/arch_spec.h"
#include "zoo/model.h"
#include "zoo/summary.h"

ABSL_FLAG(std::string, model, "lenet5",
          "Model to build: lenet5, alexnet, vgg_a, vgg_a_lrn, vgg_b, vgg_c, vgg_d, vgg_e (vgg11/13/16/19), "
          "googlenet, resnet18/34/50/101/152, cifar_resnet20/32/44/56/110, cifar_plain20/32/44/56/110.");
ABSL_FLAG(std::string, arch, "",
          "train/summary/graph: build the model from a one-line spec instead, e.g. "
          "\"[(conv3-32,relu)*2,pool2]*2,fc-128,relu,fc-10\" (grammar: zoo/arch_spec.h); the same as "
          "--model=arch:SPEC, the name checkpoints record.");
ABSL_FLAG(std::string, data, "",
          "train: 'synthetic' for generated images of the model's input size (256 to train on, 64 to test "
          "on), 'cifar10:DIR' for the CIFAR-10 binary files in DIR (models with 3x32x32 input), or a directory with the MNIST IDX files (train-*/test-*, gzip or plain). Default: the MNIST "
          "digits bundled with Strata, which only lenet5 takes. eval: the MNIST directory (a checkpoint "
          "trained on synthetic data regenerates its own test split; one trained on CIFAR-10 reads "
          "cifar10:DIR, else the folder it was trained from).");
ABSL_FLAG(std::string, augment, "none",
          "train: 'cifar' augments every training batch (pad 4, random 32x32 crop, flip half the time); "
          "'alexnet' (with --data=synthetic) trains on random SxS crops, flipped half the time, of images of "
          "side S*256/227 (AlexNet's 227 of 256), evaluating on the centre crops; 'none' does not. "
          "Deterministic in (seed, epoch, batch). Evaluation never augments.");
ABSL_FLAG(int64_t, image_size, 0,
          "train/summary: input height = width (0: the model's own, e.g. 227 for alexnet, 224 for VGG, "
          "GoogLeNet and ResNet, 32 for the CIFAR nets).");
ABSL_FLAG(int64_t, groups, 1, "train/summary: alexnet only: 2 splits CONV2/4/5 into two groups (the two-GPU net).");
ABSL_FLAG(bool, aux_classifiers, false, "train/summary: googlenet only: add the two auxiliary classifiers.");
ABSL_FLAG(bool, resnet_v1_5, false,
          "train/summary: resnet50/101/152 only: stride 2 on the 3x3 of a bottleneck (v1.5), not its 1x1.");
ABSL_FLAG(int64_t, classes, 0,
          "train/summary: number of classes (0: 10 for train; for summary the paper's, 1000 for the ImageNet "
          "models and 10 for lenet5 and the CIFAR nets).");
ABSL_FLAG(int32_t, epochs, 10, "train: passes over the training split.");
ABSL_FLAG(int64_t, batch, 64, "train/bench: mini-batch size.");
ABSL_FLAG(double, lr, 0.05, "train: (initial) learning rate.");
ABSL_FLAG(std::string, optimizer, "sgd",
          "train: sgd, adam, adamw, rmsprop or adagrad (PyTorch's rules and defaults; --momentum is SGD's).");
ABSL_FLAG(std::string, schedule, "",
          "train: learning-rate schedule, stepped every epoch, e.g. cosine:t_max=10, step:step_size=3,gamma=0.5, "
          "multistep:milestones=5/8, exponential:gamma=0.9, plateau:patience=2,factor=0.5 (watches the "
          "validation accuracy: needs --validation), any with warmup_steps=N. Empty: --lr_decay_epochs.");
ABSL_FLAG(double, clip_norm, 0, "train: clip the gradients to this global norm (0: off).");
ABSL_FLAG(int64_t, validation, 0,
          "train: hold the last N training examples out as a validation split, evaluated every epoch (0: none).");
ABSL_FLAG(std::string, log_dir, "",
          "train: write DIR/metrics.csv (loss, learning rate, images/s every --log_every steps; accuracies "
          "every epoch) and a TensorBoard event file with the same scalars.");
ABSL_FLAG(int64_t, log_every, 10, "train: steps per row of step-level metrics in --log_dir.");
ABSL_FLAG(int64_t, checkpoint_every, 0, "train: also write the checkpoint every N steps (0: at epoch ends only).");
ABSL_FLAG(int32_t, keep, 0,
          "train: also keep each checkpoint as <checkpoint>-<step>, deleting all but the newest K of those "
          "(0: only <checkpoint>, always the newest).");
ABSL_FLAG(bool, resume, false,
          "train: continue from --checkpoint exactly where it was written (weights, optimizer state, step, "
          "position in the epoch, schedule, data order); starts afresh if it does not exist yet.");
ABSL_FLAG(bool, nan_guard, false,
          "train: stop at the first non-finite loss, naming the step and the first node of its forward pass "
          "with a non-finite output.");
ABSL_FLAG(double, momentum, 0.9, "train: SGD momentum (PyTorch's convention: v = mu*v + g; w -= lr*v).");
ABSL_FLAG(bool, nesterov, false, "train: SGD with Nesterov momentum (PyTorch's: w -= lr*(g + mu*v)).");
ABSL_FLAG(double, weight_decay, 5e-4,
          "train: L2 weight decay added to the gradients (decoupled for adamw) of the weights, not of biases "
          "and batch-norm parameters unless --decay_biases.");
ABSL_FLAG(bool, decay_biases, false,
          "train: apply --weight_decay to every variable, biases and batch-norm parameters too (PyTorch's "
          "behaviour with all parameters in one group).");
ABSL_FLAG(std::vector<std::string>, lr_decay_epochs, {"8"},
          "train: epochs (1-based, comma-separated) at whose start the learning rate is divided by 10 "
          "(when --schedule is empty).");
ABSL_FLAG(uint64_t, seed, 1, "train: seed of the initial weights, of the data order and of synthetic data.");
ABSL_FLAG(int64_t, max_examples, 0, "train: use only the first N training examples (0: all).");
ABSL_FLAG(std::string, checkpoint, "",
          "train: where to write the checkpoint after every epoch; eval/inspect: the checkpoint to read "
          "(eval: several, comma-separated, evaluate as an ensemble). "
          "Default: checkpoints/<model>.ckpt.");
ABSL_FLAG(int64_t, eval_batch, 500, "train/eval: batch size for evaluation.");
ABSL_FLAG(std::string, mode, "train",
          "bench: time a training step (train) or an inference (infer); summary --plan: plan which.");
ABSL_FLAG(bool, plan, false,
          "summary: also make the plan of a training step (or --mode=infer: an inference) at --batch, without "
          "running it, and print its memory plan and predicted peak.");
ABSL_FLAG(int32_t, threads, 0, "bench: OpenMP threads for oneDNN (0: all cores).");
ABSL_FLAG(int32_t, iters, 20, "bench: timed steps (their median is reported).");
ABSL_FLAG(int32_t, warmup, 5, "bench: untimed steps before them.");
ABSL_FLAG(bool, fuse, true,
          "bench: fuse each convolution's ReLU into its oneDNN primitive (--nofuse: run them apart, to "
          "measure the fusion or to debug it).");
ABSL_FLAG(bool, plan_memory, true,
          "bench: intermediate values share one arena where their lifetimes allow (--noplan_memory: a buffer "
          "each).");
ABSL_FLAG(bool, keep_layouts, true,
          "bench: values stay in oneDNN's blocked layouts between ops that take them (--nokeep_layouts: "
          "plain NCHW between every two ops).");
ABSL_FLAG(bool, keep_weight_layouts, true,
          "bench: training keeps convolution weights, their gradients and optimizer slots in the "
          "convolution's layout across steps (--nokeep_weight_layouts: plain, reordered every step).");
ABSL_FLAG(bool, fold_constants, true,
          "bench: nodes whose inputs are all constants are computed once, when the plan is made "
          "(--nofold_constants: every run).");
ABSL_FLAG(bool, merge_duplicates, true,
          "bench: nodes with the same op, attributes and inputs run once (--nomerge_duplicates: each).");
ABSL_FLAG(bool, winograd, true,
          "bench: 3x3 stride-1 convolutions with enough output tiles use oneDNN's Winograd algorithm "
          "(--nowinograd: every convolution direct).");
ABSL_FLAG(bool, floor, false,
          "bench: also time every convolution pass alone (its oneDNN primitive, the floor below which no "
          "framework goes) and print it beside its time in the plan.");
ABSL_FLAG(std::string, profile, "",
          "bench: write a per-op trace of the timed steps to this file (Chrome trace JSON: chrome://tracing, "
          "Perfetto) and print the time per op type.");
ABSL_FLAG(std::string, config, "",
          "train: read the options from this text-protobuf file (fields named as these flags, see "
          "tools/train_config.proto); flags on the command line override it.");
ABSL_FLAG(double, bucket_mb, 25,
          "train under mpirun: gradients are all-reduced in buckets of this many MB, each started as soon as "
          "its gradients are computed (0: one per variable).");
ABSL_FLAG(double, collective_timeout_s, 60,
          "train under mpirun: a collective not done within this many seconds (a rank died or hung) stops "
          "every rank with a message.");
ABSL_FLAG(int32_t, prefetch, 2,
          "train: make the training batches (copy, augmentation) this many steps ahead on a background "
          "thread (0: between the steps); the results are identical either way.");

namespace strata {
namespace {

constexpr char kUsage[] = R"(train, evaluate, inspect and summarise Strata models.

Usage:
  strata train   [--model=lenet5] [--epochs=10] [--batch=64] [--lr=0.05] [--momentum=0.9]
                 [--weight_decay=5e-4] [--nesterov] [--lr_decay_epochs=8] [--seed=1] [--data=DIR|synthetic|cifar10:DIR]
                 [--checkpoint=checkpoints/<model>.ckpt] [model options]
                 [--optimizer=sgd|adam|adamw|rmsprop|adagrad] [--schedule=SPEC]
                 [--clip_norm=X] [--validation=N] [--log_dir=DIR] [--checkpoint_every=N]
                 [--keep=K] [--resume] [--nan_guard] [--augment=none|cifar|alexnet] [--prefetch=2]
                 [--config=FILE]
      mpirun -np N strata train ... [--bucket_mb=25] [--collective_timeout_s=60]: data parallel, each
      rank training on --batch/N of every batch (docs/scaling.md).
      Trains with mini-batch SGD by default (the learning rate is divided by 10 at the
      start of each --lr_decay_epochs epoch), prints a line per epoch (loss, test
      accuracy, time) and writes a checkpoint after every epoch (and every
      --checkpoint_every steps); --resume continues one bit-exactly. Data: MNIST (lenet5's default)
      or, with --data=synthetic, generated images of the model's input size, which
      every other model needs: strata train --model=resnet18 --data=synthetic --batch=16
      CIFAR-10 for the 3x32x32 nets: --model=cifar_resnet20 --data=cifar10:DIR --augment=cifar
      --config=FILE reads the same options from a text protobuf file (model: "lenet5"
      epochs: 20 ...; see tools/train_config.proto); flags given as well win.
  strata eval    [--checkpoint=PATH[,PATH...]] [--data=DIR|cifar10:DIR] [--model=NAME]
      Prints the test accuracy of a checkpoint: the model, its options and its data
      (MNIST, CIFAR-10 or synthetic) are read from it. Several checkpoints (comma-
      separated, tested on the same data) are an ensemble: each member's accuracy,
      then that of their averaged softmax outputs.
  strata inspect [--checkpoint=PATH]
      Lists a checkpoint's metadata and tensors: name, dtype, shape, CRC32C and sum.
  strata summary --model=NAME [--plan [--batch=64] [--mode=train|infer]] [model options]
      Prints the model's layer table: output volume, activations, weights, biases
      and multiply-adds per image of every layer, totals and memory per image, with
      the lecture's or paper's figures beside ours (at the paper's input size).
      --plan also makes the plan of a training step (SGD with momentum; --mode=infer:
      an inference) at --batch without running it, and prints its memory plan: the
      arena the intermediate values share and the predicted peak (zoo models).
      --model=FILE.onnx summarises an ONNX model (batch 1).
  strata import MODEL.onnx --out=DIR
      Imports an ONNX model (opsets 9-17; docs/onnx.md): writes DIR/graph.pb (a Strata
      graph file) and DIR/variables.ckpt (its initializers as variables).
  strata export [--model=NAME] [--checkpoint=PATH] --out=MODEL.onnx
      Writes a checkpoint's model (batch 1, output "logits") as ONNX opset 13,
      checked with the ONNX checker.
  strata run --model=MODEL.onnx --input=FILE|IMAGE.png [--input_mean=M,..] [--input_std=S,..] [--out=FILE]
      Runs an ONNX model on raw float32 input (whole examples; their number is the
      batch) or on a PNG of its input size (pixels/255, then (x - mean)/std per
      channel), prints each example's largest output, writes the output to --out.
  strata visualize filters|activations|top-inputs --layer=NAME [--checkpoint=PATH] [--out=FILE.png]
                 [--scale=4] [--index=N] [--filter=F] [--top_k=16] [--max_examples=N] [--data=DIR]
      Draws a checkpoint's model as PNG grids, each tile normalised (its min black,
      its max white): `filters` the weights of convolution --layer (one tile per
      filter and input channel, filter by filter; RGB for 3-channel filters);
      `activations` the input and the maps of --layer for one MNIST test digit,
      chosen by --index=N (there is no image decoder yet, so --index stands in
      for --image); `top-inputs` the --top_k test digits with the highest mean
      activation of channel --filter of --layer (the first --max_examples only).
  strata bench   --model=NAME [--mode=train|infer] [--batch=64] [--threads=T] [--iters=20]
                 [--warmup=5] [--nofuse] [--noplan_memory] [--nokeep_layouts] [--nokeep_weight_layouts]
                 [--nofold_constants] [--nomerge_duplicates] [--nowinograd] [--profile=trace.json] [--floor]
                 [model options]
      Times a training step (SGD with momentum) or an inference on random data:
      median ms/step, images/s, peak resident memory and the memory plan's arena
      for the intermediate values; --profile adds the time
      and layout reorders per op type and writes a Chrome trace (chrome://tracing,
      Perfetto); --floor times each convolution pass's oneDNN primitive alone beside
      its time in the plan, warm and with its weights flushed from the caches first.
      --nofuse, --noplan_memory, --nokeep_layouts,
      --nokeep_weight_layouts, --nofold_constants, --nomerge_duplicates and
      --nowinograd switch the plan's passes off.
  strata plot    --csv=DIR/metrics.csv [--out=metrics.svg]  (SVG: loss, learning rate, accuracy vs step)
  strata graph   --model=NAME [--out=model.dot|model.svg] [model options]
      Writes the model's forward graph as Graphviz DOT (op, output shape and
      parameters of every node, grouped by layer); .svg runs Graphviz's `dot`.

Model options: --image_size=N (0: the model's own), --groups=2 (alexnet),
--aux_classifiers (googlenet), --resnet_v1_5 (resnet50/101/152), --classes=N.

Relative paths are taken from the directory `bazel run` was started in.
Flags of a subcommand: strata --help.)";

// `bazel run` starts the tool inside its runfiles; users mean their own
// directory when they write a relative path.
std::string UserPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

std::string DataDir() {
  std::string dir = absl::GetFlag(FLAGS_data);
  if (absl::StartsWith(dir, "cifar10:")) return UserPath(dir.substr(8));
  return dir.empty() ? data::DefaultMnistDir() : UserPath(dir);
}

int Fail(const absl::Status& s) {
  std::cerr << "strata: error: " << s.message() << "\n";
  return 1;
}

std::string CheckpointPath() {
  const std::string path = absl::GetFlag(FLAGS_checkpoint);
  return UserPath(path.empty() ? absl::StrCat("checkpoints/", absl::GetFlag(FLAGS_model), ".ckpt") : path);
}

// The model options from the flags; classes 0 means `default_classes`.
zoo::ModelConfig ModelOptions(int64_t default_classes) {
  zoo::ModelConfig c;
  const int64_t classes = absl::GetFlag(FLAGS_classes);
  c.num_classes = classes > 0 ? classes : default_classes;
  c.image_size = absl::GetFlag(FLAGS_image_size);
  c.groups = absl::GetFlag(FLAGS_groups);
  c.aux_classifiers = absl::GetFlag(FLAGS_aux_classifiers);
  c.resnet_v1_5 = absl::GetFlag(FLAGS_resnet_v1_5);
  return c;
}

int RunTrain() {
  training::TrainConfig c;
  c.model = absl::GetFlag(FLAGS_model);
  c.model_config = ModelOptions(10);
  c.synthetic_data = absl::GetFlag(FLAGS_data) == "synthetic";
  if (absl::StartsWith(absl::GetFlag(FLAGS_data), "cifar10:")) {
    c.cifar10_dir = DataDir();
  } else if (!c.synthetic_data) {
    c.data_dir = DataDir();
  }
  c.augment = absl::GetFlag(FLAGS_augment);
  c.epochs = absl::GetFlag(FLAGS_epochs);
  c.batch_size = absl::GetFlag(FLAGS_batch);
  c.learning_rate = absl::GetFlag(FLAGS_lr);
  c.optimizer = absl::GetFlag(FLAGS_optimizer);
  c.schedule = absl::GetFlag(FLAGS_schedule);
  c.clip_norm = absl::GetFlag(FLAGS_clip_norm);
  c.validation = absl::GetFlag(FLAGS_validation);
  const std::string log_dir = absl::GetFlag(FLAGS_log_dir);
  c.log_dir = log_dir.empty() ? "" : UserPath(log_dir);
  c.log_every = absl::GetFlag(FLAGS_log_every);
  c.checkpoint_every = absl::GetFlag(FLAGS_checkpoint_every);
  c.keep = absl::GetFlag(FLAGS_keep);
  c.resume = absl::GetFlag(FLAGS_resume);
  c.nan_guard = absl::GetFlag(FLAGS_nan_guard);
  c.momentum = absl::GetFlag(FLAGS_momentum);
  c.nesterov = absl::GetFlag(FLAGS_nesterov);
  c.weight_decay = absl::GetFlag(FLAGS_weight_decay);
  c.decay_biases = absl::GetFlag(FLAGS_decay_biases);
  c.seed = absl::GetFlag(FLAGS_seed);
  c.lr_decay_epochs.clear();
  for (const std::string& e : absl::GetFlag(FLAGS_lr_decay_epochs)) {
    int epoch = 0;
    if (!absl::SimpleAtoi(e, &epoch) || epoch < 1) {
      return Fail(absl::InvalidArgumentError(absl::StrCat("--lr_decay_epochs: '", e, "' is not an epoch number")));
    }
    c.lr_decay_epochs.push_back(epoch);
  }
  c.max_train_examples = absl::GetFlag(FLAGS_max_examples);
  c.checkpoint = CheckpointPath();
  c.eval_batch_size = absl::GetFlag(FLAGS_eval_batch);
  c.progress_bar = isatty(fileno(stderr));
  c.prefetch = absl::GetFlag(FLAGS_prefetch);
  // Under mpirun: data parallel over the ranks (docs/scaling.md).
  std::shared_ptr<distributed::MpiDataParallel> mpi;
  if (distributed::LaunchedByMpirun()) {
    auto created = distributed::MpiDataParallel::Create(
        {absl::GetFlag(FLAGS_bucket_mb), absl::GetFlag(FLAGS_collective_timeout_s)});
    if (!created.ok()) return Fail(created.status());
    mpi = *created;
    c.data_parallel = mpi;
  }
  auto result = training::Train(c, std::cerr);
  // A failing rank takes the others down rather than leaving them waiting.
  if (!result.ok() && mpi != nullptr) mpi->mpi().Abort(result.status());
  if (!result.ok()) return Fail(result.status());
  if (mpi != nullptr) mpi->mpi().Finalize();
  return 0;
}

int RunEval() {
  const std::string checkpoints = absl::GetFlag(FLAGS_checkpoint);
  if (absl::StrContains(checkpoints, ',')) {
    // An ensemble: the members' softmax outputs averaged.
    std::vector<std::string> paths;
    for (absl::string_view p : absl::StrSplit(checkpoints, ',', absl::SkipEmpty())) {
      paths.push_back(UserPath(std::string(p)));
    }
    auto result = training::EvaluateEnsemble(paths, DataDir(), absl::GetFlag(FLAGS_eval_batch));
    if (!result.ok()) return Fail(result.status());
    for (size_t i = 0; i < paths.size(); ++i) {
      std::cout << "member " << paths[i] << " test accuracy " << training::FormatAccuracy(result->members[i])
                << "\n";
    }
    std::cout << "ensemble of " << paths.size() << " test accuracy " << training::FormatAccuracy(result->ensemble)
              << "\n";
    return 0;
  }
  const std::string path = CheckpointPath();
  // The checkpoint names its model; --model only matters for checkpoints
  // that do not.
  auto result = training::EvaluateCheckpoint(path, absl::GetFlag(FLAGS_model), DataDir(),
                                             absl::GetFlag(FLAGS_eval_batch));
  if (!result.ok()) return Fail(result.status());
  std::cout << "test accuracy " << training::FormatAccuracy(*result) << "\n";
  return 0;
}

int RunInspect() {
  const std::string path = CheckpointPath();
  auto ckpt = serialization::LoadCheckpoint(path);
  if (!ckpt.ok()) return Fail(ckpt.status());
  std::cout << "checkpoint " << path << "\n";
  for (const auto& [key, value] : ckpt->metadata) std::cout << "  " << key << ": " << value << "\n";
  int64_t total = 0;
  std::cout << absl::StrFormat("%-28s %-8s %-16s %-10s %s\n", "tensor", "dtype", "shape", "crc32c", "sum");
  for (const auto& [name, t] : ckpt->tensors) {
    double sum = 0;
    if (t.dtype() == DType::kFloat32) {
      for (float v : t.flat<float>()) sum += v;
    }
    std::cout << absl::StrFormat("%-28s %-8s %-16s %08x %.6g\n", name, DTypeName(t.dtype()),
                                 t.shape().ToString(), serialization::Crc32c(t.raw_data(), t.num_bytes()), sum);
    total += t.num_elements();
  }
  std::cout << ckpt->tensors.size() << " tensors, " << total << " values\n";
  return 0;
}

// The model, its options, --batch and --mode of `bench` and `summary --plan`.
absl::StatusOr<bench::BenchOptions> ModelStepOptions() {
  bench::BenchOptions o;
  o.model = absl::GetFlag(FLAGS_model);
  o.config = ModelOptions(zoo::PaperNumClasses(o.model));
  o.config.batch_size = absl::GetFlag(FLAGS_batch);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "train" && mode != "infer") {
    return absl::InvalidArgumentError(absl::StrCat("--mode='", mode, "': expected train or infer"));
  }
  o.train = mode == "train";
  return o;
}

// The memory plan's figures as `bench` and `summary --plan` print them.
std::string MemoryPlanFigures(const bench::BenchResult& r) {
  return absl::StrFormat(
      "intermediate values %.1f MiB in one arena (%.1f MiB with a buffer each); predicted peak %.1f MiB "
      "(process before the session, variables, arena, kernel scratch, weights kernels keep, inputs)",
      r.arena_bytes / 1048576.0, r.unshared_bytes / 1048576.0, r.predicted_peak_bytes / 1048576.0);
}

int RunBench() {
  auto options = ModelStepOptions();
  if (!options.ok()) return Fail(options.status());
  bench::BenchOptions& o = *options;
  const std::string mode = o.train ? "train" : "infer";
  o.iters = absl::GetFlag(FLAGS_iters);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.passes.fuse_conv_relu = absl::GetFlag(FLAGS_fuse);
  o.passes.plan_memory = absl::GetFlag(FLAGS_plan_memory);
  o.passes.keep_layouts = absl::GetFlag(FLAGS_keep_layouts);
  o.passes.keep_weight_layouts = absl::GetFlag(FLAGS_keep_weight_layouts);
  o.passes.fold_constants = absl::GetFlag(FLAGS_fold_constants);
  o.passes.merge_duplicates = absl::GetFlag(FLAGS_merge_duplicates);
  o.passes.winograd = absl::GetFlag(FLAGS_winograd);
  const std::string trace = absl::GetFlag(FLAGS_profile);
  runtime::Profile profile;
  if (!trace.empty()) o.profile = &profile;
  o.floor = absl::GetFlag(FLAGS_floor);
  auto r = bench::BenchModel(o);
  if (!r.ok()) return Fail(r.status());
  std::cout << absl::StrFormat(
      "%s %s, batch %d, %d classes: %.3f ms/step (median of %d; min %.3f, max %.3f), %.1f images/s, peak "
      "resident memory %.1f MiB%s\n",
      o.model, mode, o.config.batch_size, o.config.num_classes, r->ms_median, o.iters, r->ms_min, r->ms_max,
      r->images_per_second, r->peak_rss_bytes / 1048576.0, trace.empty() ? "" : " (profiled: slower)");
  std::cout << "memory plan: " << MemoryPlanFigures(*r) << "\n";
  if (!trace.empty()) {
    std::cout << profile.FormatTotals();
    if (absl::Status s = profile.WriteChromeTrace(UserPath(trace)); !s.ok()) return Fail(s);
    std::cout << "trace written to " << UserPath(trace) << "\n";
  }
  if (o.floor) {
    double plan_total = 0;
    std::cout << absl::StrFormat("%-44s %-22s %10s %10s %7s %12s %7s\n", "convolution pass", "op", "plan ms",
                                 "alone ms", "ratio", "cold w. ms", "ratio");
    for (const bench::ConvolutionFloor& c : r->convolutions) {
      plan_total += c.plan_ms;
      std::cout << absl::StrFormat("%-44s %-22s %10.3f %10.3f %6.2fx %12.3f %6.2fx\n", c.node, c.op, c.plan_ms,
                                   c.floor_ms, c.plan_ms / c.floor_ms, c.weights_cold_floor_ms,
                                   c.plan_ms / c.weights_cold_floor_ms);
    }
    std::cout << absl::StrFormat(
        "convolutions: %.1f ms in the plan, %.1f ms alone (%.2fx), %.1f ms alone with their weights out of "
        "cache (%.2fx); the step is %.2fx / %.2fx those floors\n",
        plan_total, r->floor_ms, plan_total / r->floor_ms, r->weights_cold_floor_ms,
        plan_total / r->weights_cold_floor_ms, r->ms_median / r->floor_ms, r->ms_median / r->weights_cold_floor_ms);
  }
  return 0;
}

int RunSummary() {
  const std::string model = absl::GetFlag(FLAGS_model);
  auto summary = zoo::Summarize(model, ModelOptions(zoo::PaperNumClasses(model)));
  if (!summary.ok()) return Fail(summary.status());
  std::cout << zoo::FormatSummary(*summary);
  if (!absl::GetFlag(FLAGS_plan)) return 0;
  auto o = ModelStepOptions();
  if (!o.ok()) return Fail(o.status());
  auto plan = bench::PlanModel(*o);
  if (!plan.ok()) return Fail(plan.status());
  std::cout << absl::StrFormat("memory plan of %s at batch %d (made, not run): ",
                               o->train ? "a training step (SGD with momentum)" : "an inference",
                               o->config.batch_size)
            << MemoryPlanFigures(*plan) << "\n";
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(strata::kUsage);
  // The file first, so that flags on the command line override it.
  if (const std::string config = strata::tools::FindConfigArgument(argc, argv); !config.empty()) {
    if (absl::Status s = strata::tools::ApplyConfigFile(strata::UserPath(config)); !s.ok()) return strata::Fail(s);
  }
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (const std::string arch = absl::GetFlag(FLAGS_arch); !arch.empty()) {
    absl::SetFlag(&FLAGS_model, absl::StrCat(strata::zoo::kArchPrefix, arch));
  }
  if (args.size() >= 2 && (std::string(args[1]) == "visualize" || std::string(args[1]) == "graph")) {
    return strata::tools::RunVisualize(args);
  }
  if (args.size() >= 2 && std::string(args[1]) == "plot") return strata::tools::RunPlot(args);
  if (strata::tools::IsOnnxCommand(args)) return strata::tools::RunOnnxCommand(args);
  if (args.size() != 2) {
    std::cerr << "strata: " << strata::kUsage << "\n";
    return args.size() < 2 ? 0 : 2;
  }
  const std::string command = args[1];
  if (command == "train") return strata::RunTrain();
  if (command == "eval") return strata::RunEval();
  if (command == "inspect") return strata::RunInspect();
  if (command == "summary") return strata::RunSummary();
  if (command == "bench") return strata::RunBench();
  std::cerr << "strata: unknown command '" << command << "' (train, eval, inspect, summary, bench, visualize, graph, plot, import, export, run)\n\nstrata: " << strata::kUsage << "\n";
  return 2;
}
