#include "autodiff/gradient_checker.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "absl/strings/str_cat.h"
#include "autodiff/gradients.h"
#include "graph/status_macros.h"
#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata::autodiff {

Tensor RandomTensor(const Shape& shape, uint64_t seed, float low, float high) {
  Tensor t(DType::kFloat32, shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(low, high);
  for (float& v : t.flat<float>()) v = u(rng);
  return t;
}

Tensor DistinctTensor(const Shape& shape, uint64_t seed, float gap) {
  Tensor t(DType::kFloat32, shape);
  const int64_t n = t.num_elements();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  float* d = t.data<float>();
  for (int64_t i = 0; i < n; ++i) d[i] = (static_cast<float>(order[i]) - n / 2.0f) * gap;
  return t;
}

absl::StatusOr<GradientCheckReport> CheckGradients(Graph& g, Output y,
                                                   const std::vector<std::pair<Output, Tensor>>& inputs,
                                                   const GradientCheckOptions& options) {
  STRATA_RETURN_IF_ERROR(g.status());
  Output loss;
  {
    Graph::Scope scope(g, "gradient_check");
    Tensor r = RandomTensor(y.shape(), options.seed, 0.5f, 1.5f);
    loss = ops::Sum(g, ops::Mul(g, y, ops::Const(g, r, "projection")));
  }
  std::vector<Output> wrt;
  runtime::Feeds feeds;
  for (const auto& [x, value] : inputs) {
    wrt.push_back(x);
    feeds.emplace_back(x, value);
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<Output> grads, Gradients(g, loss, wrt));
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].valid()) {
      return absl::InvalidArgumentError(absl::StrCat("the output does not depend on ", wrt[i].name()));
    }
  }

  STRATA_ASSIGN_OR_RETURN(auto fast, runtime::Session::Create(g));
  STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> analytic, fast->Run(feeds, grads, {}, options.run));

  runtime::SessionOptions reference_options;
  reference_options.reference_float64 = true;
  STRATA_ASSIGN_OR_RETURN(auto reference, runtime::Session::Create(g, reference_options));
  runtime::Feeds feeds64;
  for (const auto& [x, value] : inputs) feeds64.emplace_back(x, value.CastTo(DType::kFloat64));

  GradientCheckReport report;
  double worst_excess = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Tensor& perturbed = feeds64[k].second;
    double* p = perturbed.data<double>();
    const float* a = analytic[k].data<float>();
    for (int64_t i = 0; i < perturbed.num_elements(); ++i) {
      const double original = p[i];
      p[i] = original + options.delta;
      STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> plus, reference->Run(feeds64, {loss}, {}, options.run));
      p[i] = original - options.delta;
      STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> minus, reference->Run(feeds64, {loss}, {}, options.run));
      p[i] = original;
      const double numeric = (plus[0].data<double>()[0] - minus[0].data<double>()[0]) / (2 * options.delta);
      const double error = std::fabs(a[i] - numeric);
      const double allowed =
          options.rtol * std::max({std::fabs(static_cast<double>(a[i])), std::fabs(numeric), 1.0}) + options.atol;
      ++report.checked;
      // Report the element furthest beyond (or closest to) its allowance.
      const double excess = error - allowed;
      if (report.checked == 1 || excess > worst_excess) {
        worst_excess = excess;
        report.worst = absl::StrCat("input ", inputs[k].first.name(), "[", i, "]: analytic ", a[i],
                                    ", numeric ", numeric);
      }
      report.max_error = std::max(report.max_error, error);
      if (error > allowed) report.ok = false;
    }
  }
  return report;
}

}  // namespace strata::autodiff
