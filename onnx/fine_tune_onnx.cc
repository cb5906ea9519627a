// fine_tune_onnx MODEL.onnx [--steps=10] [--batch=8] [--lr=0.01] [--checkpoint=PATH]:
// fine-tunes an imported ONNX classifier on one random batch with SGD
// (momentum 0.9), prints the loss of every step, saves a Strata checkpoint
// and checks that a fresh import restored from it gives the same logits.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "onnx/fine_tune.h"

ABSL_FLAG(int64_t, steps, 10, "training steps");
ABSL_FLAG(int64_t, batch, 8, "batch size (the model's batch dimension must be symbolic)");
ABSL_FLAG(double, lr, 0.01, "SGD learning rate (momentum 0.9)");
ABSL_FLAG(std::string, checkpoint, "/tmp/fine_tuned.ckpt", "where to save the fine-tuned variables");

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2) {
    std::cerr << "usage: fine_tune_onnx MODEL.onnx [--steps=N] [--batch=N] [--lr=X] [--checkpoint=PATH]\n";
    return 2;
  }
  strata::onnx_io::FineTuneOptions o;
  o.steps = absl::GetFlag(FLAGS_steps);
  o.batch_size = absl::GetFlag(FLAGS_batch);
  o.optimizer = strata::optim::OptimizerConfig::SGD(absl::GetFlag(FLAGS_lr), 0.9);
  o.checkpoint = absl::GetFlag(FLAGS_checkpoint);
  auto r = strata::onnx_io::FineTuneOnnx(args[1], o);
  if (!r.ok()) {
    std::cerr << "fine_tune_onnx: " << r.status() << "\n";
    return 1;
  }
  for (size_t i = 0; i < r->losses.size(); ++i) std::cout << absl::StrFormat("step %2d  loss %.4f\n", i, r->losses[i]);
  std::cout << absl::StrFormat("%.2f s/step; checkpoint %s; restored logits %s the fine-tuned ones\n",
                               r->seconds_per_step, o.checkpoint,
                               r->restored_logits == r->logits ? "equal" : "DIFFER from");
  return r->restored_logits == r->logits && r->losses.back() < r->losses.front() ? 0 : 1;
}
