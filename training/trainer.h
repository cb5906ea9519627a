// The training loop behind `strata train` and `strata eval`: mini-batch SGD
// on a zoo model and an IDX data set, evaluation on the test split after
// every epoch, and a checkpoint written (atomically) at every epoch end.
#ifndef STRATA_TRAINING_TRAINER_H_
#define STRATA_TRAINING_TRAINER_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/mnist.h"
#include "runtime/variable_store.h"

namespace strata::training {

struct TrainConfig {
  std::string model = "lenet5";
  std::string data_dir;  // holds train-* and test-* IDX files
  int epochs = 10;
  int64_t batch_size = 64;
  double learning_rate = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  // The lecture's "divide the learning rate by 10": at the start of each of
  // these epochs (1-based) the rate is multiplied by lr_decay_factor.
  std::vector<int> lr_decay_epochs = {8};
  double lr_decay_factor = 0.1;
  uint64_t seed = 1;  // initial weights and the data order
  std::string checkpoint;  // written at each epoch end; empty: not saved
  int64_t eval_batch_size = 500;
  int64_t max_train_examples = 0;  // 0: the whole training split
  bool progress_bar = false;       // redraw one line on a terminal
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
  double seconds = 0;
  double images_per_second = 0;
};

struct TrainResult {
  std::vector<EpochStats> epochs;
  int64_t parameters = 0;
};

absl::StatusOr<TrainResult> Train(const TrainConfig& config, std::ostream& log);

// Accuracy of `model` with the variables in `store` on `dataset`, in batches
// of `batch_size` (the last one smaller if needed).
absl::StatusOr<EvalResult> Evaluate(absl::string_view model, const data::Dataset& dataset,
                                    const std::shared_ptr<runtime::VariableStore>& store, int64_t batch_size);

// Loads a checkpoint written by Train and evaluates it on the test split.
// The model named in the checkpoint is used; `model` only when it names none.
absl::StatusOr<EvalResult> EvaluateCheckpoint(const std::string& checkpoint, absl::string_view model,
                                              const std::string& data_dir, int64_t batch_size);

// MNIST's mean and standard deviation, as PyTorch's recipe normalises.
inline constexpr float kMnistMean = 0.1307f;
inline constexpr float kMnistStd = 0.3081f;

}  // namespace strata::training

#endif  // STRATA_TRAINING_TRAINER_H_
