// bazel run //experiments:universal_approximation -- --out=DIR
//
// One hidden layer is enough (Cybenko 1989, Hornik 1991): MLPs 1-W-1 of
// widths W = 2, 4, ..., 256 fitted to sin(3x) + 0.3x^2 on [-2, 2], their
// error against width, and deeper nets with fewer parameters than the widest
// shallow one. Writes DIR/universal_approximation.{md,csv}, DIR/
// universal_approximation_fits.png and DIR/universal_approximation_error.png.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/table.h"
#include "experiments/universal_approximation.h"
#include "viz/line_plot_png.h"

ABSL_FLAG(std::string, out, "experiments_out", "folder for the table and the plots");
ABSL_FLAG(int32_t, steps, 3000, "full-batch Adam steps per net");
ABSL_FLAG(uint64_t, seed, 1, "initial weights");

namespace strata::experiments {
namespace {

int Run() {
  std::string dir;
  if (absl::Status s = PrepareOutDir(absl::GetFlag(FLAGS_out), &dir); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  FitOptions options;
  options.steps = absl::GetFlag(FLAGS_steps);
  options.seed = absl::GetFlag(FLAGS_seed);
  std::vector<MlpSpec> specs;
  for (const char* activation : {"tanh", "relu"}) {
    for (int64_t w = 2; w <= 256; w *= 2) specs.push_back({{w}, activation});
  }
  // Deeper and narrower: fewer parameters than 1-256-1 (769).
  const std::vector<MlpSpec> deep = {{{8, 8, 8}, "tanh"}, {{16, 16}, "tanh"}, {{16, 16, 16}, "tanh"}};
  specs.insert(specs.end(), deep.begin(), deep.end());

  Table table;
  table.header = {"net", "hidden layers", "parameters", "train MSE", "test MSE", "test max |error|", "seconds"};
  std::vector<FitResult> results;
  for (const MlpSpec& spec : specs) {
    auto r = FitMlp(spec, options);
    if (!r.ok()) {
      std::cerr << Describe(spec) << ": " << r.status().message() << "\n";
      return 1;
    }
    std::cerr << absl::StrFormat("%-20s %5d parameters  test MSE %.3g  (%.1f s)\n", Describe(spec), r->parameters,
                                 r->test_mse, r->seconds);
    table.rows.push_back({Describe(spec), absl::StrCat(spec.hidden.size()), absl::StrCat(r->parameters),
                          absl::StrFormat("%.2e", r->train_mse), absl::StrFormat("%.2e", r->test_mse),
                          absl::StrFormat("%.3f", r->test_max_error), absl::StrFormat("%.1f", r->seconds)});
    results.push_back(*r);
  }
  if (absl::Status s = WriteTable(dir, "universal_approximation", table); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }

  // The fits: the target and a few tanh widths, and the deep nets.
  std::vector<viz::LineSeries> fits;
  viz::LineSeries target;
  target.label = "SIN(3X)+0.3X^2";
  target.color = {20, 20, 20};
  target.thickness = 4;
  for (double x : results[0].test_x) {
    target.x.push_back(x);
    target.y.push_back(Target(x));
  }
  fits.push_back(target);
  for (const FitResult& r : results) {
    const bool shown = r.spec.activation == "tanh" &&
                       ((r.spec.hidden.size() == 1 &&
                         (r.spec.hidden[0] == 2 || r.spec.hidden[0] == 8 || r.spec.hidden[0] == 256)) ||
                        r.spec.hidden == std::vector<int64_t>{16, 16});
    if (!shown) continue;
    viz::LineSeries s;
    s.label = Describe(r.spec);
    s.x = r.test_x;
    s.y = r.test_prediction;
    s.color = viz::PaletteColor(fits.size() - 1);
    fits.push_back(s);
  }
  viz::LinePlotOptions fit_options;
  fit_options.title = "FITS OF 1-W-1 TANH NETS AND A DEEPER ONE";
  fit_options.x_label = "X";
  fit_options.y_label = "Y";
  // The error against the parameter count, log-log.
  std::vector<viz::LineSeries> errors(3);
  errors[0].label = "1-W-1 TANH, W=2..256";
  errors[1].label = "1-W-1 RELU, W=2..256";
  errors[2].label = "DEEPER TANH (8-8-8, 16-16, 16-16-16)";
  errors[2].lines = false;
  for (size_t k = 0; k < 3; ++k) errors[k].markers = true;
  for (const FitResult& r : results) {
    const size_t k = r.spec.hidden.size() > 1 ? 2 : r.spec.activation == "tanh" ? 0 : 1;
    errors[k].x.push_back(static_cast<double>(r.parameters));
    errors[k].y.push_back(r.test_mse);
  }
  viz::LinePlotOptions error_options;
  error_options.title = "TEST MSE AGAINST PARAMETERS";
  error_options.x_label = "PARAMETERS";
  error_options.y_label = "TEST MSE";
  error_options.log_x = error_options.log_y = true;
  for (auto [name, series, opts] : {std::tuple{"fits", &fits, &fit_options},
                                    std::tuple{"error", &errors, &error_options}}) {
    if (absl::Status s = WritePlot(dir, absl::StrCat("universal_approximation_", name), *series, *opts); !s.ok()) {
      std::cerr << s.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace strata::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return strata::experiments::Run();
}
