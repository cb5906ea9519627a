#include "experiments/universal_approximation.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/math.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "optim/optimizer.h"
#include "runtime/session.h"
#include "zoo/layers.h"

namespace strata::experiments {

double Target(double x) { return std::sin(3 * x) + 0.3 * x * x; }

std::string Describe(const MlpSpec& spec) {
  return absl::StrCat("1-", absl::StrJoin(spec.hidden, "-"), "-1 ", spec.activation);
}

int64_t MlpParameters(const MlpSpec& spec) {
  int64_t n = 0, in = 1;
  for (int64_t h : spec.hidden) {
    n += (in + 1) * h;
    in = h;
  }
  return n + in + 1;
}

namespace {

// Column vector [n, 1] of f applied to the points.
Tensor Column(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::FromVector<float>({static_cast<int64_t>(v.size()), 1}, f);
}

struct Net {
  Output x, y, prediction, loss;
};

// The net for n points in graph g.
Net BuildNet(Graph& g, const MlpSpec& spec, int64_t n) {
  Net net;
  net.x = ops::Placeholder(g, "x", {n, 1});
  net.y = ops::Placeholder(g, "y", {n, 1});
  Output h = net.x;
  for (size_t i = 0; i < spec.hidden.size(); ++i) {
    const std::string name = absl::StrCat("hidden", i + 1);
    h = zoo::DenseLayer(g, name, h, spec.hidden[i], zoo::LayerInit::kFanInUniform);
    Graph::Scope scope(g, name);
    h = spec.activation == "relu" ? ops::Relu(g, h, "relu") : ops::Tanh(g, h, "tanh");
  }
  net.prediction = zoo::DenseLayer(g, "output", h, 1, zoo::LayerInit::kFanInUniform);
  Output d = ops::Sub(g, net.prediction, net.y, "error");
  net.loss = ops::Mean(g, ops::Mul(g, d, d, "squared_error"), "loss");
  return net;
}

}  // namespace

absl::StatusOr<FitResult> FitMlp(const MlpSpec& spec, const FitOptions& options) {
  if (spec.hidden.empty() || *std::min_element(spec.hidden.begin(), spec.hidden.end()) < 1) {
    return absl::InvalidArgumentError(absl::StrCat("MLP ", Describe(spec), ": needs hidden widths >= 1"));
  }
  if (spec.activation != "tanh" && spec.activation != "relu") {
    return absl::InvalidArgumentError(absl::StrCat("MLP activation '", spec.activation, "': tanh or relu"));
  }
  if (options.train_points < 2 || options.test_points < 1 || options.steps < 1) {
    return absl::InvalidArgumentError("the fit needs >= 2 training points, >= 1 test point and >= 1 step");
  }
  const auto start = std::chrono::steady_clock::now();
  const double width = kIntervalHigh - kIntervalLow;
  std::vector<double> train_x, train_y, test_x, test_y;
  for (int64_t i = 0; i < options.train_points; ++i) {
    train_x.push_back(kIntervalLow + width * i / (options.train_points - 1));
    train_y.push_back(Target(train_x.back()));
  }
  // Midpoints of the training grid (spread over it when there are fewer).
  for (int64_t i = 0; i < options.test_points; ++i) {
    const double step = width / (options.train_points - 1);
    const double t = (i + 0.5) * (options.train_points - 1) / options.test_points;
    test_x.push_back(kIntervalLow + step * (std::floor(t) + 0.5));
    test_y.push_back(Target(test_x.back()));
  }

  // One graph: the training net, and a second head on the same variables
  // for the test points (variables are shared by name in the store).
  Graph g;
  Net train = BuildNet(g, spec, options.train_points);
  STRATA_RETURN_IF_ERROR(g.status());
  optim::OptimizerConfig adam = optim::OptimizerConfig::Adam(options.learning_rate);
  STRATA_ASSIGN_OR_RETURN(Node * step, optim::Minimize(g, train.loss, adam));
  STRATA_ASSIGN_OR_RETURN(auto session, runtime::Session::Create(g));
  STRATA_RETURN_IF_ERROR(session->InitializeVariables(options.seed));
  const runtime::Feeds feeds = {{train.x, Column(train_x)}, {train.y, Column(train_y)}};
  for (int i = 0; i < options.steps; ++i) {
    // The last quarter at a tenth of the rate: the fit settles. (A cosine
    // decay to zero, tried too, ended with larger errors.)
    if (i == options.steps * 3 / 4) {
      STRATA_RETURN_IF_ERROR(optim::SetLearningRate(session->variables(), options.learning_rate / 10));
    }
    STRATA_ASSIGN_OR_RETURN(auto out, session->Run(feeds, {}, {step}));
  }
  FitResult result;
  result.spec = spec;
  result.parameters = MlpParameters(spec);
  STRATA_ASSIGN_OR_RETURN(auto train_out, session->Run(feeds, {train.loss}));
  result.train_mse = train_out[0].data<float>()[0];

  Graph test_graph;
  Net test = BuildNet(test_graph, spec, options.test_points);
  STRATA_RETURN_IF_ERROR(test_graph.status());
  STRATA_ASSIGN_OR_RETURN(auto test_session,
                          runtime::Session::Create(test_graph, {}, session->shared_variables()));
  STRATA_ASSIGN_OR_RETURN(auto test_out, test_session->Run({{test.x, Column(test_x)}, {test.y, Column(test_y)}},
                                                           {test.loss, test.prediction}));
  result.test_mse = test_out[0].data<float>()[0];
  const float* p = test_out[1].data<float>();
  for (size_t i = 0; i < test_x.size(); ++i) {
    result.test_max_error = std::max(result.test_max_error, std::abs(p[i] - test_y[i]));
    result.test_prediction.push_back(p[i]);
  }
  result.test_x = test_x;
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace strata::experiments
