#include "training/ensemble.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"

namespace strata::training {

absl::StatusOr<EnsembleResult> EvaluateEnsemble(const std::vector<std::string>& checkpoints,
                                                const std::string& data_dir, int64_t batch_size) {
  if (checkpoints.empty()) return absl::InvalidArgumentError("an ensemble needs at least one checkpoint");
  EnsembleResult result;
  std::vector<double> sum;  // [examples x classes] summed probabilities
  std::vector<int32_t> labels;
  int64_t classes = 0;
  for (const std::string& path : checkpoints) {
    STRATA_ASSIGN_OR_RETURN(TrainedModel member, LoadTrainedModel(path, "", data_dir));
    const int64_t n = member.test.size();
    const int32_t* truth = member.test.labels.data<int32_t>();
    if (labels.empty()) {
      classes = member.config.num_classes;
      labels.assign(truth, truth + n);
      sum.assign(n * classes, 0.0);
    } else if (member.config.num_classes != classes || n != static_cast<int64_t>(labels.size()) ||
               !std::equal(labels.begin(), labels.end(), truth)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot average ", path, " with ", checkpoints[0], ": they were tested on different data (", n,
          " examples of ", member.config.num_classes, " classes vs ", labels.size(), " of ", classes,
          ", or other labels)"));
    }
    EvalResult alone;
    STRATA_RETURN_IF_ERROR(InferBatches(
        member.model, member.config, member.test, member.store, batch_size, InferOutput::kProbabilities,
        [&](int64_t first, const Tensor& batch_labels, const Tensor& probabilities) {
          const float* p = probabilities.data<float>();
          const int32_t* y = batch_labels.data<int32_t>();
          for (int64_t k = 0; k < batch_labels.num_elements(); ++k) {
            const float* row = p + k * classes;
            alone.correct += std::max_element(row, row + classes) - row == y[k];
            double* acc = &sum[(first + k) * classes];
            for (int64_t c = 0; c < classes; ++c) acc[c] += row[c];
          }
          alone.total += batch_labels.num_elements();
        }));
    result.members.push_back(alone);
  }
  for (size_t k = 0; k < labels.size(); ++k) {
    const double* row = &sum[k * classes];
    result.ensemble.correct += std::max_element(row, row + classes) - row == labels[k];
  }
  result.ensemble.total = static_cast<int64_t>(labels.size());
  return result;
}

}  // namespace strata::training
