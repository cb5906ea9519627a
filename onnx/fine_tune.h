// Fine-tuning an imported ONNX classifier: a softmax cross-entropy loss on
// chosen logits, an optimizer from optim/, training steps on one fixed
// batch, and a checkpoint that restores into a fresh import. Shared by the
// fine-tuning test and //onnx:fine_tune_onnx (ResNet-18 in
// onnx/fine_tune_torchvision.py).
#ifndef STRATA_ONNX_FINE_TUNE_H_
#define STRATA_ONNX_FINE_TUNE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "onnx/import.h"
#include "optim/optimizer.h"

namespace strata::onnx_io {

struct FineTuneOptions {
  int64_t batch_size = 8;
  int64_t steps = 20;
  int64_t num_classes = 0;  // labels are drawn from [0, num_classes); 0: the logits' width
  // The Strata output to train as logits (Output::name(), e.g. "fc/Gemm:0");
  // empty: the model's first output.
  std::string logits;
  optim::OptimizerConfig optimizer = optim::OptimizerConfig::SGD(0.01, 0.9);
  uint64_t seed = 1;
  // Where to save the fine-tuned variables; empty: not saved.
  std::string checkpoint;
};

struct FineTuneResult {
  std::vector<float> losses;  // one per step, before its update
  // After the last step, on the same batch in an inference run: the
  // fine-tuned session's logits and, when a checkpoint was written, those of
  // a fresh import of the model restored from it.
  std::vector<float> logits;
  std::vector<float> restored_logits;
  double seconds_per_step = 0;
};

// Imports `onnx_path` with options.batch_size and fine-tunes it on one fixed
// random batch (normal inputs, uniform labels).
absl::StatusOr<FineTuneResult> FineTuneOnnx(const std::string& onnx_path, const FineTuneOptions& options);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_FINE_TUNE_H_
