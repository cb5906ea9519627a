// bazel run //experiments:ensemble -- --out=DIR [--members=5] [--epochs=2]
//
// The lecture's "7 CNNs averaged" in small: LeNet-5s trained on the bundled
// MNIST digits from seeds 1..N (different initial weights and batch order,
// otherwise the default recipe), then their softmax outputs averaged
// (training::EvaluateEnsemble). Writes each member's and each ensemble's
// (of the first k members) test accuracy to DIR/ensemble.{md,csv}, the
// checkpoints to DIR/ensemble_seed<k>.ckpt and the plot to DIR/ensemble.png.
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/mnist.h"
#include "experiments/table.h"
#include "training/ensemble.h"
#include "training/trainer.h"
#include "viz/line_plot_png.h"

ABSL_FLAG(std::string, out, "experiments_out", "folder for the table, the plot and the checkpoints");
ABSL_FLAG(int32_t, members, 5, "LeNet-5s to train (seeds 1..N)");
ABSL_FLAG(int32_t, epochs, 2, "epochs per member");
ABSL_FLAG(int64_t, max_examples, 0, "train each member on the first N training digits only (0: all 8,000)");

namespace strata::experiments {
namespace {

int Main() {
  std::string dir;
  if (absl::Status s = PrepareOutDir(absl::GetFlag(FLAGS_out), &dir); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  const int members = absl::GetFlag(FLAGS_members);
  if (members < 2) return std::cerr << "--members must be at least 2 for an ensemble\n", 1;
  std::vector<std::string> checkpoints;
  std::vector<double> seconds;
  for (int seed = 1; seed <= members; ++seed) {
    training::TrainConfig c;  // the CLI's defaults: SGD 0.05, momentum 0.9, batch 64
    c.model = "lenet5";
    c.data_dir = data::DefaultMnistDir();
    c.epochs = absl::GetFlag(FLAGS_epochs);
    c.seed = static_cast<uint64_t>(seed);
    c.max_train_examples = absl::GetFlag(FLAGS_max_examples);
    c.checkpoint = absl::StrCat(dir, "/ensemble_seed", seed, ".ckpt");
    std::ostringstream log;
    auto r = training::Train(c, log);
    if (!r.ok()) return std::cerr << "seed " << seed << ": " << r.status().message() << "\n", 1;
    double s = 0;
    for (const auto& e : r->epochs) s += e.seconds;
    seconds.push_back(s);
    std::cerr << "seed " << seed << ": " << training::FormatAccuracy(r->epochs.back().test) << " in "
              << absl::StrFormat("%.1f", s) << " s\n";
    checkpoints.push_back(c.checkpoint);
  }
  Table table;
  table.header = {"", "test accuracy (2,000 digits)", "errors"};
  std::vector<viz::LineSeries> series(2);
  series[0].label = "MEMBER K ALONE";
  series[0].lines = false;
  series[0].markers = true;
  series[1].label = "ENSEMBLE OF MEMBERS 1..K";
  series[1].markers = true;
  training::EnsembleResult all;
  std::vector<training::EvalResult> ensembles;  // of the first k members
  for (int k = 1; k <= members; ++k) {
    const std::vector<std::string> first(checkpoints.begin(), checkpoints.begin() + k);
    // One member alone through the same path: the ensemble of one is the member.
    auto r = training::EvaluateEnsemble(first, data::DefaultMnistDir(), 500);
    if (!r.ok()) return std::cerr << r.status().message() << "\n", 1;
    series[1].x.push_back(k);
    series[1].y.push_back(100 * r->ensemble.accuracy());
    ensembles.push_back(r->ensemble);
    if (k == members) all = *r;
  }
  for (int k = 0; k < members; ++k) {
    const training::EvalResult& m = all.members[k];
    table.rows.push_back({absl::StrCat("LeNet-5, seed ", k + 1, " (", absl::GetFlag(FLAGS_epochs), " epochs, ",
                                       absl::StrFormat("%.1f", seconds[k]), " s)"),
                          training::FormatAccuracy(m), absl::StrCat(m.total - m.correct)});
    series[0].x.push_back(k + 1);
    series[0].y.push_back(100 * m.accuracy());
  }
  for (int k = 2; k <= members; ++k) {
    const training::EvalResult& e = ensembles[k - 1];
    table.rows.push_back({absl::StrCat("ensemble of seeds 1-", k, " (softmax averaged)"),
                          training::FormatAccuracy(e), absl::StrCat(e.total - e.correct)});
  }
  if (absl::Status s = WriteTable(dir, "ensemble", table); !s.ok()) return std::cerr << s.message() << "\n", 1;
  viz::LinePlotOptions options;
  options.title = "LENET-5 ENSEMBLES ON MNIST";
  options.x_label = "K";
  options.y_label = "TEST ACCURACY %";
  if (absl::Status s = WritePlot(dir, "ensemble", series, options); !s.ok()) return std::cerr << s.message() << "\n", 1;
  return 0;
}

}  // namespace
}  // namespace strata::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return strata::experiments::Main();
}
