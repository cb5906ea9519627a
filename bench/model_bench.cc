#include "bench/model_bench.h"

#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/conv.h"
#include "optim/sgd.h"
#include "runtime/session.h"

namespace strata::bench {
namespace {

// The process's resident set now (Linux /proc/self/statm, in pages).
int64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long pages_total = 0, pages_resident = 0;
  const int read = std::fscanf(f, "%lld %lld", &pages_total, &pages_resident);
  std::fclose(f);
  return read == 2 ? pages_resident * sysconf(_SC_PAGESIZE) : 0;
}

// Profiles `iters` more runs and times each convolution pass they ran alone.
absl::Status MeasureFloors(const Graph& g, const BenchOptions& o,
                           const std::function<absl::Status(runtime::Profile*)>& run, BenchResult& result) {
  runtime::Profile profile;
  for (int i = 0; i < o.iters; ++i) STRATA_RETURN_IF_ERROR(run(&profile));
  std::map<std::string, std::vector<double>> plan_ms;
  std::vector<std::string> order;
  for (const runtime::OpEvent& e : profile.events()) {
    if (e.op.rfind("Conv2D", 0) != 0 || e.op == "Conv2DBackpropBias") continue;
    if (plan_ms[e.node].empty()) order.push_back(e.node);
    plan_ms[e.node].push_back(e.duration_us / 1e3);
  }
  for (const std::string& name : order) {
    const Node* node = g.FindNode(name);
    if (node == nullptr) return absl::InternalError(absl::StrCat("profiled node '", name, "' is not in the graph"));
    std::vector<double>& ms = plan_ms[name];
    std::sort(ms.begin(), ms.end());
    STRATA_ASSIGN_OR_RETURN(ops::StandaloneConvolution alone,
                            ops::StandaloneConvolutionMs(*node, o.iters, o.passes.winograd));
    result.convolutions.push_back({name, node->op(), ms[ms.size() / 2], alone.warm_ms, alone.weights_cold_ms});
    result.floor_ms += alone.warm_ms;
    result.weights_cold_floor_ms += alone.weights_cold_ms;
  }
  return absl::OkStatus();
}

}  // namespace

namespace {

// A zoo model's graph with its SGD step, a session with its variables, and
// a random batch: what BenchModel times and PlanModel plans.
struct ModelRun {
  Graph g;
  zoo::Model model;
  Node* step = nullptr;  // training only
  std::unique_ptr<runtime::Session> session;
  Tensor x, y;
  int64_t baseline = 0;  // the process's resident bytes before the graph
};

absl::Status Build(const BenchOptions& o, ModelRun& r, BenchResult& result) {
  if (o.iters < 1 || o.warmup < 0 || o.threads < 0) {
    return absl::InvalidArgumentError(absl::StrCat("iters (", o.iters, ") must be >= 1, warmup (", o.warmup,
                                                   ") and threads (", o.threads, ") >= 0"));
  }
  // Before the first primitive: oneDNN sizes its OpenMP team then.
  if (o.threads > 0) omp_set_num_threads(o.threads);
  r.baseline = ResidentBytes();
  STRATA_ASSIGN_OR_RETURN(r.model, zoo::BuildModel(o.model, r.g, o.config));
  result.parameters = zoo::CountTrainableParameters(r.g);
  if (o.train) {
    STRATA_ASSIGN_OR_RETURN(r.step, optim::MinimizeWithSGD(r.g, r.model.loss, {0.01, 0.9, 5e-4, false}));
  }
  runtime::SessionOptions session_options;
  session_options.passes = o.passes;
  STRATA_ASSIGN_OR_RETURN(r.session, runtime::Session::Create(r.g, session_options));
  STRATA_RETURN_IF_ERROR(r.session->InitializeVariables(0));
  r.x = Tensor(r.model.images.spec());
  r.y = Tensor(r.model.labels.spec());
  std::mt19937 rng(0);
  std::normal_distribution<float> normal;
  for (float& v : r.x.flat<float>()) v = normal(rng);
  for (int32_t& v : r.y.flat<int32_t>()) v = static_cast<int32_t>(rng() % o.config.num_classes);
  return absl::OkStatus();
}

runtime::Feeds FeedsOf(const BenchOptions& o, const ModelRun& r) {
  if (!o.train) return {{r.model.images, r.x}};
  return {{r.model.images, r.x}, {r.model.labels, r.y}};
}

// The memory plan's figures and the peak it predicts, from the session's
// plans as they are now.
void PredictMemory(const ModelRun& r, BenchResult& result) {
  for (const runtime::PlanMemoryStats& m : r.session->plan_memory()) {
    result.arena_bytes = std::max(result.arena_bytes, m.arena_bytes);
    result.unshared_bytes = std::max(result.unshared_bytes, m.unshared_bytes);
  }
  result.predicted_peak_bytes = r.baseline + r.session->variables().num_bytes() + result.arena_bytes +
                                r.session->scratch_bytes() + r.session->held_bytes() + r.x.num_bytes() +
                                r.y.num_bytes();
}

}  // namespace

absl::StatusOr<BenchResult> BenchModel(const BenchOptions& o) {
  BenchResult result;
  ModelRun r;
  STRATA_RETURN_IF_ERROR(Build(o, r, result));
  RunOptions run_options;
  run_options.training = o.train;
  const runtime::Feeds feeds = FeedsOf(o, r);
  auto run = [&](runtime::Profile* profile) -> absl::Status {
    if (!o.train) return r.session->Run(feeds, {r.model.logits}, {}, run_options, profile).status();
    return r.session->Run(feeds, {r.model.loss}, {r.step}, run_options, profile).status();
  };
  for (int i = 0; i < o.warmup; ++i) STRATA_RETURN_IF_ERROR(run(nullptr));
  std::vector<double> ms;
  for (int i = 0; i < o.iters; ++i) {
    const auto start = std::chrono::steady_clock::now();
    STRATA_RETURN_IF_ERROR(run(o.profile));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  result.ms_median = ms[ms.size() / 2];
  result.ms_min = ms.front();
  result.ms_max = ms.back();
  result.images_per_second = o.config.batch_size / result.ms_median * 1e3;
  PredictMemory(r, result);
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  if (o.floor) {
    STRATA_RETURN_IF_ERROR(MeasureFloors(r.g, o, run, result));
  }
  result.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux reports KiB
  return result;
}

absl::StatusOr<BenchResult> PlanModel(const BenchOptions& o) {
  BenchResult result;
  ModelRun r;
  STRATA_RETURN_IF_ERROR(Build(o, r, result));
  if (o.train) {
    STRATA_RETURN_IF_ERROR(r.session->Prepare(FeedsOf(o, r), {r.model.loss}, {r.step}, /*training=*/true));
  } else {
    STRATA_RETURN_IF_ERROR(r.session->Prepare(FeedsOf(o, r), {r.model.logits}, {}, /*training=*/false));
  }
  PredictMemory(r, result);
  return result;
}

}  // namespace strata::bench
