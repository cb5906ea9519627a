// Ensembles: the lecture's "7 CNNs averaged" (AlexNet's 15.3% -> ILSVRC
// winning entries), here any set of checkpoints written by Train on the same
// data, combined by averaging their softmax outputs.
#ifndef STRATA_TRAINING_ENSEMBLE_H_
#define STRATA_TRAINING_ENSEMBLE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "training/trainer.h"

namespace strata::training {

struct EnsembleResult {
  std::vector<EvalResult> members;  // each checkpoint alone, in the order given
  EvalResult ensemble;              // the arg-max of the averaged probabilities
};

// Loads every checkpoint (LoadTrainedModel: each names its own model, so
// different architectures can be mixed) and evaluates each alone and their
// average on the test split. They must share that test split: the same
// number of examples, classes and labels; otherwise FailedPrecondition names
// the first checkpoint that differs from the first one.
absl::StatusOr<EnsembleResult> EvaluateEnsemble(const std::vector<std::string>& checkpoints,
                                                const std::string& data_dir, int64_t batch_size);

}  // namespace strata::training

#endif  // STRATA_TRAINING_ENSEMBLE_H_
