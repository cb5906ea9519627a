// The training loop behind `strata train` and `strata eval`: mini-batch SGD
// on any zoo model, on MNIST (IDX files) or on synthetic data of the model's
// input size, evaluation on the test split after every epoch, and a
// checkpoint written (atomically) at every epoch end that records the model
// and its options, so that evaluation rebuilds exactly the trained model.
#ifndef STRATA_TRAINING_TRAINER_H_
#define STRATA_TRAINING_TRAINER_H_

#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/mnist.h"
#include "runtime/variable_store.h"
#include "training/data_parallel.h"
#include "zoo/model.h"

namespace strata::training {

struct TrainConfig {
  std::string model = "lenet5";
  // The model's options: classes, image size, groups, auxiliary classifiers,
  // ResNet variant. Its batch_size is ignored: batch_size below is used.
  zoo::ModelConfig model_config;
  std::string data_dir;  // holds train-* and test-* IDX files (MNIST data)
  // Instead of MNIST: data::Synthetic images of the model's input shape and
  // model_config.num_classes classes, synthetic_train examples (seed `seed`)
  // to train on and synthetic_test (seed `seed` + 1) to test on. Not
  // normalised (it is centred already). Models whose input is not MNIST's
  // 1x28x28 need it.
  bool synthetic_data = false;
  // Instead of MNIST: the CIFAR-10 binary files (data/cifar.h) in this
  // folder, normalised per channel with kCifar10Mean/Std; for models whose
  // input is 3x32x32 (cifar_resnet*, cifar_plain*). Non-empty: used.
  std::string cifar10_dir;
  // "none", "cifar" or "alexnet". cifar: each training batch goes through
  // data::Augmenter::Cifar(seed) (pad 4, random 32x32 crop, flip half the
  // time); for 3x32x32 models. alexnet: synthetic images of side
  // round(S * 256 / 227) (256 for AlexNet's 227, 32 for LeNet-5's 28), each
  // training batch randomly cropped to the model's S x S and flipped half the
  // time; evaluation takes the centre crop. Deterministic in (seed, epoch,
  // batch index), so resume stays exact. Evaluation never augments. Recorded
  // in the checkpoint; a resume must use the same value.
  std::string augment = "none";
  int64_t synthetic_train = 256;
  int64_t synthetic_test = 64;
  int epochs = 10;
  int64_t batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  bool nesterov = false;  // SGD's Nesterov momentum (PyTorch's formulation)
  double weight_decay = 5e-4;
  // The lecture's "divide the learning rate by 10": at the start of each of
  // these epochs (1-based) the rate is multiplied by lr_decay_factor.
  // Used when `schedule` is empty (a multistep schedule at these epochs).
  std::vector<int> lr_decay_epochs = {8};
  double lr_decay_factor = 0.1;
  // "sgd" (with momentum), "adam", "adamw", "rmsprop", "adagrad" (PyTorch's
  // defaults for their other hyper-parameters; momentum is SGD's only).
  std::string optimizer = "sgd";
  // weight_decay applies to weights only, not to biases and batch-norm
  // parameters (optim::VariableOptions), unless this is set: then to every
  // variable, as PyTorch does with all parameters in one group.
  bool decay_biases = false;
  // optim::ParseSchedule's spec ("cosine:t_max=10", "plateau:patience=2"),
  // stepped once per epoch; empty: lr_decay_epochs above. A plateau schedule
  // watches the validation accuracy (mode=max unless given) and so needs
  // validation > 0.
  std::string schedule;
  double clip_norm = 0;  // clip the gradients by global norm; 0: off
  // Hold the last `validation` examples of the training split out of
  // training and report their accuracy each epoch; 0: none.
  int64_t validation = 0;
  // metrics.csv (a row per log_every steps and per epoch) and a TensorBoard
  // event file with the same scalars; empty: no logs.
  std::string log_dir;
  int64_t log_every = 10;
  // A checkpoint every N steps as well as at every epoch end; 0: epoch ends.
  int64_t checkpoint_every = 0;
  // With keep > 0 each checkpoint is also kept as "<checkpoint>-<step>" and
  // only the newest `keep` of those remain; `checkpoint` is always the newest.
  int keep = 0;
  // Continue from `checkpoint` (if it exists) exactly where it was written:
  // weights, optimizer slots, step, epoch and position in it, schedule and
  // data order. The continuation is bit-identical to an uninterrupted run.
  bool resume = false;
  // Stop with an error at the first non-finite loss, naming the step and the
  // first node (graph order) of that step's forward pass with a non-finite
  // output. Costs a copy of the variables per step.
  bool nan_guard = false;
  uint64_t seed = 1;  // initial weights and the data order
  std::string checkpoint;  // written at each epoch end; empty: not saved
  int64_t eval_batch_size = 500;  // at most the test split's size is used
  int64_t max_train_examples = 0;  // 0: the whole training split
  bool progress_bar = false;       // redraw one line on a terminal
  // Training batches made (copied, augmented) this many steps ahead on a
  // background thread (data::Prefetcher); 0: made between the steps. Either
  // way the batches, and so the trained weights, are bit-identical.
  int prefetch = 2;
  // Data-parallel training (training/data_parallel.h; distributed/ has the
  // MPI implementation): batch_size stays the global batch and each of the N
  // ranks trains on its batch_size / N rows of every global batch, with the
  // gradients averaged over ranks; rank 0 alone logs and writes checkpoints
  // (resuming reads the checkpoint on every rank: a shared file system).
  // Null: this process alone.
  std::shared_ptr<DataParallel> data_parallel;
};

struct EvalResult {
  int64_t correct = 0;
  int64_t total = 0;
  double accuracy() const { return total ? static_cast<double>(correct) / total : 0.0; }
};
// "97.85% (1957/2000)": train and eval print accuracies through this.
std::string FormatAccuracy(const EvalResult& r);

struct EpochStats {
  int epoch = 0;
  double mean_loss = 0;
  EvalResult test;
  EvalResult validation;  // empty without a validation split
  double learning_rate = 0;  // the rate this epoch trained with
  double seconds = 0;
  double images_per_second = 0;
};

struct TrainResult {
  std::vector<EpochStats> epochs;  // those run by this call (not before a resume)
  int64_t steps = 0;               // completed steps, including those before a resume
  int64_t parameters = 0;
};

// Trains with RunOptions.training set (dropout and batch norm in their
// training mode); evaluation runs in inference mode.
absl::StatusOr<TrainResult> Train(const TrainConfig& config, std::ostream& log);

// Accuracy of `model` built with `config` (its batch size is ignored) and the
// variables in `store` on `dataset`, in batches of `batch_size` (the last one
// smaller if needed), in inference mode (RunOptions.training false).
absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const zoo::ModelConfig& config,
                                    const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size);
// The same with the default options (10 classes).
absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size);

// Runs `model` (built with `config` at each batch size met) in inference mode
// over `dataset` in order, in batches of `batch_size` (the last one smaller if
// needed), and calls `visit` with each batch's first example index, its
// labels (int32 [n]) and the fetched output: the predicted classes (int32
// [n]) or the softmax probabilities (float32 [n, classes]). The tensors are
// valid during the call only.
enum class InferOutput { kPredictions, kProbabilities };
using BatchVisitor = std::function<void(int64_t first, const Tensor& labels, const Tensor& fetched)>;
absl::Status InferBatches(absl::string_view model, const zoo::ModelConfig& config, const data::Dataset& dataset,
                          const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size,
                          InferOutput what, const BatchVisitor& visit);

// A checkpoint written by Train, ready to run: its model and options, its
// weights, and the test split of the data it was trained on.
struct TrainedModel {
  std::string model;
  zoo::ModelConfig config;  // batch_size 1; callers choose their own
  std::shared_ptr<runtime::VariableStore> store;
  data::Dataset test;
  std::map<std::string, std::string> metadata;
};
// Loads a checkpoint as EvaluateCheckpoint below describes.
absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir);

// Loads a checkpoint written by Train and evaluates it on the test split of
// the data it was trained on. The model and its options (classes, image size,
// groups, auxiliary classifiers, ResNet variant) are read from the
// checkpoint's metadata; `model` is used only when it names none. Synthetic
// data is regenerated from the recorded size and seed; for MNIST `data_dir`
// holds the IDX files; for CIFAR-10 `data_dir` holds test_batch.bin, or, when
// it does not, the folder recorded at training is read.
absl::StatusOr<EvalResult> EvaluateCheckpoint(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir, int64_t batch_size);

// The input a model takes, as "3x227x227" (channels x height x width), from
// building it with `config` in a scratch graph.
absl::StatusOr<Shape> ModelInputShape(absl::string_view model, const zoo::ModelConfig& config);

// MNIST's mean and standard deviation, as PyTorch's recipe normalises.
inline constexpr float kMnistMean = 0.1307f;
inline constexpr float kMnistStd = 0.3081f;

}  // namespace strata::training

#endif  // STRATA_TRAINING_TRAINER_H_
