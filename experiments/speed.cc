// bazel run //experiments:speed -- --out=DIR [--runs=10]
//
// "Depth does not mean slow": ResNet-152 has 8x VGG-16's weight layers but
// fewer multiply-adds (11.3 vs 15.5 billion per 224x224 image, the lecture's
// figures), so its inference can be faster. Both are built at batch 1 with
// 1,000 classes and random weights, and timed forward (inference mode)
// alternately, so that a change in the machine's load hits both alike; the
// median of --runs runs each. Each model runs twice: with every convolution
// direct, the algorithm the lecture's count of multiply-adds describes, and
// with Winograd for the 3x3 convolutions where it pays (Strata's default,
// fewer multiplications than the count). Multiply-adds are
// zoo::Summarize's; GFLOP/s counts 2 FLOPs per counted multiply-add. Waits up to --max_wait_s for the
// 1-minute load average to fall below --quiet_load and records the load.
// Writes DIR/speed.{md,csv} and DIR/speed.png.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "experiments/table.h"
#include "graph/status_macros.h"
#include "ops/state.h"
#include "runtime/session.h"
#include "viz/line_plot_png.h"
#include "zoo/model.h"
#include "zoo/summary.h"

ABSL_FLAG(std::string, out, "experiments_out", "folder for the table and the plot");
ABSL_FLAG(std::vector<std::string>, models, std::vector<std::string>({"vgg16", "resnet152"}), "models to time");
ABSL_FLAG(int32_t, runs, 10, "timed inferences per model (the median is reported)");
ABSL_FLAG(int32_t, warmup, 2, "untimed inferences per model first");
ABSL_FLAG(double, quiet_load, 1.5, "wait for the 1-minute load average to fall below this");
ABSL_FLAG(int32_t, max_wait_s, 120, "at most this long");

namespace strata::experiments {
namespace {

struct Timed {
  std::string model;
  bool winograd = false;  // 3x3 convolutions by Winograd where it pays (PassOptions::winograd)
  zoo::ModelSummary summary;
  int weight_layers = 0;
  std::unique_ptr<Graph> graph;
  zoo::Model m;
  std::unique_ptr<runtime::Session> session;
  Tensor input;
  std::vector<double> ms;
};

absl::Status Prepare(Timed& t) {
  zoo::ModelConfig config;
  config.batch_size = 1;
  config.num_classes = 1000;
  STRATA_ASSIGN_OR_RETURN(t.summary, zoo::Summarize(t.model, config));
  t.graph = std::make_unique<Graph>();
  STRATA_ASSIGN_OR_RETURN(t.m, zoo::BuildModel(t.model, *t.graph, config));
  // Weight layers as the papers count depth: convolutions and fc layers, one
  // "weights" variable each (ResNet's projection shortcuts are not counted;
  // the summary's rows are whole residual blocks, so they cannot be counted).
  for (const Node* v : ops::Variables(*t.graph, /*trainable_only=*/true)) {
    const std::string& name = v->name();
    if (absl::EndsWith(name, "weights") && !absl::StrContains(name, "shortcut")) ++t.weight_layers;
  }
  runtime::SessionOptions options;
  options.passes.winograd = t.winograd;
  STRATA_ASSIGN_OR_RETURN(t.session, runtime::Session::Create(*t.graph, options));
  STRATA_RETURN_IF_ERROR(t.session->InitializeVariables(1));
  t.input = Tensor(t.m.images.spec());
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (float& v : t.input.flat<float>()) v = normal(rng);
  return absl::OkStatus();
}

absl::StatusOr<double> InferOnce(Timed& t) {
  const auto start = std::chrono::steady_clock::now();
  STRATA_ASSIGN_OR_RETURN(auto out, t.session->Run({{t.m.images, t.input}}, {t.m.logits}));
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

int Main() {
  std::string dir;
  if (absl::Status s = PrepareOutDir(absl::GetFlag(FLAGS_out), &dir); !s.ok()) {
    std::cerr << s.message() << "\n";
    return 1;
  }
  std::vector<Timed> models;
  // Each model twice: every convolution direct, as the lecture's counting of
  // multiply-adds assumes, and as Strata runs by default (Winograd's 3x3
  // passes do fewer multiplications than the count).
  for (bool winograd : {false, true}) {
    for (const std::string& name : absl::GetFlag(FLAGS_models)) {
      Timed t;
      t.model = name;
      t.winograd = winograd;
      if (absl::Status s = Prepare(t); !s.ok()) return std::cerr << name << ": " << s.message() << "\n", 1;
      models.push_back(std::move(t));
    }
  }
  const auto wait_start = std::chrono::steady_clock::now();
  while (LoadAverage1() >= absl::GetFlag(FLAGS_quiet_load) &&
         std::chrono::steady_clock::now() - wait_start < std::chrono::seconds(absl::GetFlag(FLAGS_max_wait_s))) {
    std::cerr << "load " << LoadAverage() << ": waiting for it to fall below " << absl::GetFlag(FLAGS_quiet_load)
              << "\n";
    std::this_thread::sleep_for(std::chrono::seconds(10));
  }
  const std::string load_before = LoadAverage();
  for (int i = 0; i < absl::GetFlag(FLAGS_warmup) + absl::GetFlag(FLAGS_runs); ++i) {
    for (Timed& t : models) {
      auto ms = InferOnce(t);
      if (!ms.ok()) return std::cerr << t.model << ": " << ms.status().message() << "\n", 1;
      if (i >= absl::GetFlag(FLAGS_warmup)) t.ms.push_back(*ms);
    }
  }
  const std::string load_after = LoadAverage();
  Table table;
  table.header = {"model",
                  "weight layers",
                  "parameters",
                  "multiply-adds per image",
                  "convolutions",
                  "median ms (batch 1)",
                  "min-max ms",
                  "GFLOP/s (2 per counted multiply-add)",
                  "load average before / after (1, 5, 15 min)"};
  std::vector<viz::LineSeries> points;
  for (const Timed& t : models) {
    const double ms = Median(t.ms);
    const auto [lo, hi] = std::minmax_element(t.ms.begin(), t.ms.end());
    table.rows.push_back({t.model, absl::StrCat(t.weight_layers), zoo::WithThousands(t.summary.total_parameters()),
                          zoo::WithThousands(t.summary.total_multiply_adds),
                          t.winograd ? "Winograd where it pays" : "direct", absl::StrFormat("%.0f", ms),
                          absl::StrFormat("%.0f-%.0f", *lo, *hi),
                          absl::StrFormat("%.1f", 2.0 * t.summary.total_multiply_adds / (ms * 1e6)),
                          absl::StrCat(load_before, " / ", load_after)});
    viz::LineSeries p;
    p.label = absl::StrFormat("%s, %s: %d LAYERS, %.0f MS", t.model, t.winograd ? "WINOGRAD" : "DIRECT",
                              t.weight_layers, ms);
    p.x = {t.summary.total_multiply_adds / 1e9};
    p.y = {ms};
    p.lines = false;
    p.markers = true;
    p.thickness = 4;
    points.push_back(p);
  }
  if (absl::Status s = WriteTable(dir, "speed", table); !s.ok()) return std::cerr << s.message() << "\n", 1;
  // Zero on both axes, so the distances read as ratios.
  viz::LineSeries origin;
  origin.x = {0};
  origin.y = {0};
  origin.lines = false;
  origin.color = {255, 255, 255};
  points.push_back(origin);
  viz::LinePlotOptions options;
  options.title = "INFERENCE TIME AGAINST MULTIPLY-ADDS, BATCH 1, 224X224";
  options.x_label = "BILLION MULTIPLY-ADDS PER IMAGE";
  options.y_label = "MEDIAN MS";
  if (absl::Status s = WritePlot(dir, "speed", points, options); !s.ok()) return std::cerr << s.message() << "\n", 1;
  return 0;
}

}  // namespace
}  // namespace strata::experiments

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return strata::experiments::Main();
}
