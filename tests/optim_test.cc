// Every optimizer against its PyTorch update rule, computed in double by an
// independent reference written here: several steps, a learning-rate change,
// weight decay (with biases exempt by default), clipping by global norm.
// The float32 kernels must match within 1e-6 relative, the float64 reference
// kernels within 1e-12.
#include <cmath>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "ops/math.h"
#include "ops/registry.h"
#include "ops/state.h"
#include "ops/training.h"
#include "optim/clip.h"
#include "optim/optimizer.h"
#include "optim/sgd.h"
#include "runtime/session.h"

namespace strata {
namespace {

using optim::OptimizerConfig;
using optim::OptimizerKind;


// loss = sum(c * w * w): grad = 2 c w.
TEST(SGD, MatchesPyTorchRuleWithMomentumDecayAndRateChange) {
  for (bool nesterov : {false, true}) {
    Graph g;
    Output w = ops::Variable(g, "w", {3}, ops::Initializer::Constant(1.0));
    Output c = ops::Const(g, Tensor::FromVector<float>({3}, {0.5f, -0.25f, 2.0f}));
    Output loss = ops::Sum(g, ops::Mul(g, c, ops::Mul(g, w, w)));
    optim::SGDOptions opt{0.1, 0.9, 0.01, nesterov};
    auto step = optim::MinimizeWithSGD(g, loss, opt);
    ASSERT_TRUE(step.ok()) << step.status();
    auto s = runtime::Session::Create(g);
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->InitializeVariables(0).ok());

    double cw[3] = {0.5, -0.25, 2.0}, ww[3] = {1, 1, 1}, v[3] = {0, 0, 0};
    for (int k = 0; k < 5; ++k) {
      double lr = k < 3 ? 0.1 : 0.01;
      if (k == 3) {
        ASSERT_TRUE(optim::SetLearningRate((*s)->variables(), 0.01).ok());
      }
      ASSERT_TRUE((*s)->Run({}, {}, {*step}).ok());
      for (int i = 0; i < 3; ++i) {
        double grad = 2 * cw[i] * ww[i] + 0.01 * ww[i];
        v[i] = 0.9 * v[i] + grad;
        ww[i] -= lr * (nesterov ? grad + 0.9 * v[i] : v[i]);
      }
    }
    Tensor got = *(*s)->variables().Get("w");
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(got.data<float>()[i], ww[i], 1e-5) << "nesterov=" << nesterov;
    // The slot is a variable, so checkpoints carry it.
    EXPECT_TRUE((*s)->variables().Has("w/momentum"));
    EXPECT_NEAR(*optim::GetLearningRate((*s)->variables()), 0.01, 1e-9);
  }
}

TEST(SGD, RejectsLossIndependentOfAVariable) {
  Graph g;
  Output w = ops::Variable(g, "w", {2});
  ops::Variable(g, "unused", {2});
  auto step = optim::MinimizeWithSGD(g, ops::Sum(g, w), {});
  EXPECT_FALSE(step.ok());
  EXPECT_NE(std::string(step.status().message()).find("unused"), std::string::npos) << step.status();
}


// ---------------------------------------------------------------------------
// The problem: two variables, "layer/weights" [3] and "layer/bias" [2], and
//   loss = sum(c * x * x) + sum(d * x) per variable, so grad = 2 c x + d.
// Minima are far from zero so relative errors stay meaningful.
struct Var {
  std::string name;
  std::vector<double> init, c, d;
};

const std::vector<Var>& Vars() {
  static const std::vector<Var> vars = {
      {"layer/weights", {1.0, -0.5, 2.5}, {0.5, 0.25, 1.5}, {-2.0, 0.75, -9.0}},
      {"layer/bias", {0.3, -1.2}, {0.4, 0.8}, {-0.64, 3.2}},
  };
  return vars;
}

// The graph holds float32 values: the reference starts from the same ones.
double F(double x) { return static_cast<float>(x); }

Tensor ToTensor(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::FromVector<float>({static_cast<int64_t>(v.size())}, f);
}

// Builds the loss; returns the variables' outputs.
std::vector<Output> BuildProblem(Graph& g, Output* loss) {
  std::vector<Output> outs;
  Output total;
  for (const Var& v : Vars()) {
    Output x = ops::Variable(g, v.name, {static_cast<int64_t>(v.init.size())});
    Output term = ops::Add(g, ops::Sum(g, ops::Mul(g, ops::Const(g, ToTensor(v.c)), ops::Mul(g, x, x))),
                           ops::Sum(g, ops::Mul(g, ops::Const(g, ToTensor(v.d)), x)));
    total = total.valid() ? ops::Add(g, total, term) : term;
    outs.push_back(x);
  }
  *loss = total;
  return outs;
}

// The reference: PyTorch's rules, in double, one state per variable.
struct RefVar {
  std::vector<double> x, s1, s2, s3;  // slots: momentum/m/square_avg/sum, v/grad_avg, buf
};

class Reference {
 public:
  explicit Reference(const OptimizerConfig& c) : c_(c) {
    for (const Var& v : Vars()) {
      RefVar r;
      for (double x : v.init) r.x.push_back(F(x));
      const double init = c.kind == OptimizerKind::kAdaGrad ? c.initial_accumulator_value : 0.0;
      r.s1.assign(v.init.size(), init);
      r.s2.assign(v.init.size(), 0.0);
      r.s3.assign(v.init.size(), 0.0);
      vars_.push_back(r);
    }
  }

  void Step(double lr) {
    ++t_;
    std::vector<std::vector<double>> grads;
    double sq = 0;
    for (size_t k = 0; k < vars_.size(); ++k) {
      std::vector<double> g(vars_[k].x.size());
      for (size_t i = 0; i < g.size(); ++i) {
        g[i] = 2 * F(Vars()[k].c[i]) * vars_[k].x[i] + F(Vars()[k].d[i]);
        sq += g[i] * g[i];
      }
      grads.push_back(g);
    }
    last_norm_ = std::sqrt(sq);
    if (c_.clip_global_norm > 0) {
      const double coef = std::min(1.0, c_.clip_global_norm / (last_norm_ + 1e-6));
      for (auto& g : grads) {
        for (double& x : g) x *= coef;
      }
    }
    for (size_t k = 0; k < vars_.size(); ++k) {
      // Biases are exempt from decay unless decay_all.
      const bool decays = c_.variable_options.decay_all || Vars()[k].name != "layer/bias";
      const double wd = decays ? c_.weight_decay : 0.0;
      Update(vars_[k], grads[k], lr, wd);
    }
  }

  const std::vector<double>& x(size_t k) const { return vars_[k].x; }
  double last_norm() const { return last_norm_; }

 private:
  void Update(RefVar& r, const std::vector<double>& grad, double lr, double wd) {
    const double t = t_;
    for (size_t i = 0; i < r.x.size(); ++i) {
      double& w = r.x[i];
      double g = grad[i];
      switch (c_.kind) {
        case OptimizerKind::kSGD: {
          g += wd * w;
          double& buf = r.s1[i];
          if (c_.momentum == 0) {
            w -= lr * g;
            break;
          }
          buf = t == 1 ? g : c_.momentum * buf + g;  // PyTorch's first buffer is g itself (= 0*mu + g)
          w -= lr * (c_.nesterov ? g + c_.momentum * buf : buf);
          break;
        }
        case OptimizerKind::kAdam:
        case OptimizerKind::kAdamW: {
          if (c_.kind == OptimizerKind::kAdamW) {
            w *= 1 - lr * wd;
          } else {
            g += wd * w;
          }
          double& m = r.s1[i];
          double& v = r.s2[i];
          m = c_.beta1 * m + (1 - c_.beta1) * g;
          v = c_.beta2 * v + (1 - c_.beta2) * g * g;
          const double m_hat = m / (1 - std::pow(c_.beta1, t));
          const double v_hat = v / (1 - std::pow(c_.beta2, t));
          // PyTorch adds eps to sqrt(v)/sqrt(bc2), i.e. to sqrt(v_hat).
          w -= lr * m_hat / (std::sqrt(v_hat) + c_.epsilon);
          break;
        }
        case OptimizerKind::kRMSProp: {
          g += wd * w;
          double& sq = r.s1[i];
          double& ga = r.s2[i];
          double& buf = r.s3[i];
          sq = c_.alpha * sq + (1 - c_.alpha) * g * g;
          double avg;
          if (c_.centered) {
            ga = c_.alpha * ga + (1 - c_.alpha) * g;
            avg = std::sqrt(sq - ga * ga) + c_.epsilon;
          } else {
            avg = std::sqrt(sq) + c_.epsilon;
          }
          if (c_.momentum > 0) {
            buf = c_.momentum * buf + g / avg;
            w -= lr * buf;
          } else {
            w -= lr * g / avg;
          }
          break;
        }
        case OptimizerKind::kAdaGrad: {
          g += wd * w;
          const double clr = lr / (1 + (t - 1) * c_.lr_decay);
          double& sum = r.s1[i];
          sum += g * g;
          w -= clr * g / (std::sqrt(sum) + c_.epsilon);
          break;
        }
      }
    }
  }

  OptimizerConfig c_;
  std::vector<RefVar> vars_;
  int t_ = 0;
  double last_norm_ = 0;
};

constexpr int kSteps = 6;
constexpr int kRateChangeStep = 3;  // the rate halves from this step on (float32 runs)

void ExpectRelativelyNear(const std::vector<double>& got, const std::vector<double>& want, double rtol,
                          const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_LE(std::abs(got[i] - want[i]), rtol * std::abs(want[i]))
        << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
  }
}

// Trains with the float32 kernels (with a rate change) and compares.
void CheckFloat32(const OptimizerConfig& config, const std::string& what) {
  Graph g;
  Output loss;
  std::vector<Output> vars = BuildProblem(g, &loss);
  auto step = optim::BuildTrainStep(g, loss, config);
  ASSERT_TRUE(step.ok()) << what << ": " << step.status();
  auto s = runtime::Session::Create(g);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->InitializeVariables(0).ok());
  for (const Var& v : Vars()) ASSERT_TRUE((*s)->variables().Set(v.name, ToTensor(v.init)).ok());

  Reference ref(config);
  for (int k = 0; k < kSteps; ++k) {
    const double lr = k < kRateChangeStep ? config.learning_rate : config.learning_rate / 2;
    if (k == kRateChangeStep) {
      ASSERT_TRUE(optim::SetLearningRate((*s)->variables(), lr).ok());
    }
    auto out = (*s)->Run({}, {step->gradient_norm}, {step->step});
    ASSERT_TRUE(out.ok()) << what << ": " << out.status();
    ref.Step(static_cast<float>(lr));  // the rate variable is float32
    EXPECT_NEAR((*out)[0].data<float>()[0], ref.last_norm(), 1e-5 * ref.last_norm()) << what << " norm, step " << k;
  }
  for (size_t k = 0; k < Vars().size(); ++k) {
    Tensor t = *(*s)->variables().Get(Vars()[k].name);
    std::vector<double> got(t.data<float>(), t.data<float>() + t.num_elements());
    ExpectRelativelyNear(got, ref.x(k), 1e-6, what + " " + Vars()[k].name);
  }
  EXPECT_EQ(*optim::GetStep((*s)->variables()), kSteps) << what;
}

// The float64 reference kernels: the plan holds float64 copies of the
// variables, so the values are fetched from the last run.
void CheckFloat64(const OptimizerConfig& config, const std::string& what) {
  Graph g;
  Output loss;
  std::vector<Output> vars = BuildProblem(g, &loss);
  auto step = optim::Minimize(g, loss, config);
  ASSERT_TRUE(step.ok()) << what << ": " << step.status();
  runtime::SessionOptions options;
  options.reference_float64 = true;
  auto s = runtime::Session::Create(g, options);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE((*s)->InitializeVariables(0).ok());
  for (const Var& v : Vars()) ASSERT_TRUE((*s)->variables().Set(v.name, ToTensor(v.init)).ok());
  Reference ref(config);
  absl::StatusOr<std::vector<Tensor>> out;
  for (int k = 0; k < kSteps; ++k) {
    // Group has no float64 kernel: run what it orders.
    out = (*s)->Run({}, vars, (*step)->control_inputs());
    ASSERT_TRUE(out.ok()) << what << ": " << out.status();
    ref.Step(static_cast<float>(config.learning_rate));
  }
  for (size_t k = 0; k < Vars().size(); ++k) {
    const Tensor& t = (*out)[k];
    ASSERT_EQ(t.dtype(), DType::kFloat64);
    std::vector<double> got(t.data<double>(), t.data<double>() + t.num_elements());
    ExpectRelativelyNear(got, ref.x(k), 1e-12, what + " (float64) " + Vars()[k].name);
  }
}

void Check(const OptimizerConfig& config, const std::string& what) {
  CheckFloat32(config, what);
  CheckFloat64(config, what);
}

TEST(Optimizers, SGDWithMomentumNesterovAndDecayExemptingBiases) {
  for (bool nesterov : {false, true}) {
    Check(OptimizerConfig::SGD(0.1, 0.9, 0.01, nesterov), nesterov ? "sgd nesterov" : "sgd momentum");
  }
  Check(OptimizerConfig::SGD(0.1, 0.0, 0.05), "sgd plain");
}

TEST(Optimizers, AdamWithL2Decay) {
  OptimizerConfig c = OptimizerConfig::Adam(0.1, 0.02);
  c.beta1 = 0.8;
  c.beta2 = 0.95;
  Check(c, "adam");
}

TEST(Optimizers, AdamWDecoupledDecay) {
  Check(OptimizerConfig::AdamW(0.1, 0.1), "adamw");
  OptimizerConfig all = OptimizerConfig::AdamW(0.1, 0.1);
  all.variable_options.decay_all = true;
  Check(all, "adamw decay_all");
}

TEST(Optimizers, RMSPropPlainCenteredAndWithMomentum) {
  for (bool centered : {false, true}) {
    for (double momentum : {0.0, 0.9}) {
      OptimizerConfig c = OptimizerConfig::RMSProp(0.01, 0.9, momentum, centered, 0.01);
      Check(c, absl::StrCat("rmsprop centered=", centered, " momentum=", momentum));
    }
  }
}

TEST(Optimizers, AdaGradWithDecayAndInitialAccumulator) {
  Check(OptimizerConfig::AdaGrad(0.1), "adagrad");
  Check(OptimizerConfig::AdaGrad(0.1, 0.1, 0.5, 0.01), "adagrad lr_decay");
}

TEST(Optimizers, ClipByGlobalNormInsideTheStep) {
  // The first gradient norm is about 10: clipping to 1 is active at first.
  OptimizerConfig c = OptimizerConfig::SGD(0.1, 0.9, 0.0);
  c.clip_global_norm = 1.0;
  Check(c, "sgd clipped");
  OptimizerConfig adam = OptimizerConfig::Adam(0.1);
  adam.clip_global_norm = 2.0;
  Check(adam, "adam clipped");
}

TEST(Optimizers, SlotsStepAndRateAreVariables) {
  struct Case {
    OptimizerConfig config;
    std::vector<std::string> slots;
    std::vector<std::string> absent;
  };
  const std::vector<Case> cases = {
      {OptimizerConfig::SGD(0.1, 0.9), {"momentum"}, {}},
      {OptimizerConfig::Adam(), {"m", "v"}, {}},
      {OptimizerConfig::AdamW(), {"m", "v"}, {}},
      {OptimizerConfig::RMSProp(), {"square_avg"}, {"grad_avg", "momentum"}},
      {OptimizerConfig::RMSProp(0.01, 0.99, 0.9, true), {"square_avg", "grad_avg", "momentum"}, {}},
      {OptimizerConfig::AdaGrad(), {"sum"}, {}},
  };
  for (const Case& c : cases) {
    Graph g;
    Output loss;
    BuildProblem(g, &loss);
    ASSERT_TRUE(optim::Minimize(g, loss, c.config).ok());
    const std::string kind(optim::OptimizerKindName(c.config.kind));
    for (const std::string& slot : c.slots) {
      Node* n = g.FindNode(absl::StrCat("layer/weights/", slot));
      ASSERT_NE(n, nullptr) << kind << " " << slot;
      EXPECT_EQ(n->op(), "Variable");
      EXPECT_FALSE(*n->Attr<bool>("trainable"));
    }
    for (const std::string& slot : c.absent) EXPECT_EQ(g.FindNode(absl::StrCat("layer/weights/", slot)), nullptr);
    EXPECT_NE(g.FindNode(optim::kLearningRateVariable), nullptr);
    EXPECT_NE(g.FindNode(optim::kStepVariable), nullptr);
  }
}

TEST(Optimizers, DefaultDecayRule) {
  EXPECT_TRUE(optim::DecaysByDefault("conv1/weights"));
  EXPECT_FALSE(optim::DecaysByDefault("conv1/bias"));
  EXPECT_FALSE(optim::DecaysByDefault("bias"));
  EXPECT_FALSE(optim::DecaysByDefault("bn1/gamma"));
  EXPECT_FALSE(optim::DecaysByDefault("bn1/beta"));
  EXPECT_FALSE(optim::DecaysByDefault("gamma"));
  EXPECT_TRUE(optim::DecaysByDefault("alphabeta"));  // "beta" needs its own path component
  optim::VariableOptions all;
  all.decay_all = true;
  EXPECT_TRUE(all.Decays("conv1/bias"));
  optim::VariableOptions custom;
  custom.decay_all = true;
  custom.decay = [](absl::string_view name) { return name == "only/this"; };
  EXPECT_TRUE(custom.Decays("only/this"));
  EXPECT_FALSE(custom.Decays("conv1/weights"));
}

TEST(Optimizers, MinimizeWithSGDStillDecaysBiases) {
  // The SGD wrapper keeps PyTorch's plain-SGD default: everything decays.
  OptimizerConfig c = OptimizerConfig::SGD(0.1, 0.9, 0.05);
  c.variable_options.decay_all = true;
  Reference ref(c);
  Graph g;
  Output loss;
  BuildProblem(g, &loss);
  auto step = optim::MinimizeWithSGD(g, loss, {0.1, 0.9, 0.05, false});
  ASSERT_TRUE(step.ok()) << step.status();
  auto s = runtime::Session::Create(g);
  ASSERT_TRUE((*s)->InitializeVariables(0).ok());
  for (const Var& v : Vars()) ASSERT_TRUE((*s)->variables().Set(v.name, ToTensor(v.init)).ok());
  for (int k = 0; k < kSteps; ++k) {
    ASSERT_TRUE((*s)->Run({}, {}, {*step}).ok());
    ref.Step(static_cast<float>(0.1));
  }
  Tensor b = *(*s)->variables().Get("layer/bias");
  ExpectRelativelyNear({b.data<float>()[0], b.data<float>()[1]}, ref.x(1), 1e-6, "bias");
}

TEST(Optimizers, InvalidHyperParametersAreRejected) {
  auto expect_error = [](const OptimizerConfig& c, const std::string& needle) {
    Graph g;
    Output loss;
    BuildProblem(g, &loss);
    auto step = optim::Minimize(g, loss, c);
    ASSERT_FALSE(step.ok()) << needle;
    EXPECT_EQ(step.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(step.status().message()).find(needle), std::string::npos) << step.status();
  };
  OptimizerConfig c = OptimizerConfig::Adam();
  c.beta1 = 1.0;
  expect_error(c, "beta1");
  expect_error(OptimizerConfig::SGD(-1), "learning rate");
  expect_error(OptimizerConfig::SGD(0.1, 0.0, 0.0, /*nesterov=*/true), "Nesterov");
  expect_error(OptimizerConfig::RMSProp(0.01, 1.5), "alpha");
  expect_error(OptimizerConfig::AdaGrad(0.01, -0.1), "lr_decay");
  OptimizerConfig clip = OptimizerConfig::SGD(0.1);
  clip.clip_global_norm = -1;
  expect_error(clip, "clip_global_norm");
}

TEST(Optimizers, OpAttributesAreCheckedWhenTheNodeIsAdded) {
  Graph g;
  Output w = ops::Variable(g, "w", {2});
  Output m = ops::Variable(g, "m", {2}), v = ops::Variable(g, "v", {2});
  Output lr = ops::Variable(g, "lr", {}), step = ops::Variable(g, "step", {});
  ops::AdamAttrs bad;
  bad.beta2 = 1.5;
  EXPECT_EQ(ops::ApplyAdam(g, w, w, m, v, lr, step, bad, "my_adam"), nullptr);
  const std::string message(g.status().message());
  EXPECT_NE(message.find("my_adam"), std::string::npos) << message;
  EXPECT_NE(message.find("beta2"), std::string::npos) << message;

  Graph g2;
  Output w2 = ops::Variable(g2, "w", {2});
  Output sq = ops::Variable(g2, "sq", {2}), lr2 = ops::Variable(g2, "lr", {});
  ops::RMSPropAttrs centered;
  centered.centered = true;
  // Centered without its grad_avg slot: the input count is wrong.
  EXPECT_EQ(g2.AddNode(ops::Def("ApplyRMSProp"), "rms", {w2, w2, sq, lr2}, {{"centered", true}}), nullptr);
  EXPECT_NE(std::string(g2.status().message()).find("grad_avg"), std::string::npos) << g2.status();
}

TEST(Optimizers, MinimizingTwiceIsAnError) {
  Graph g;
  Output loss;
  BuildProblem(g, &loss);
  ASSERT_TRUE(optim::Minimize(g, loss, OptimizerConfig::Adam()).ok());
  auto again = optim::Minimize(g, loss, OptimizerConfig::Adam());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists) << again.status();
}

TEST(Optimizers, ParseKind) {
  EXPECT_EQ(*optim::ParseOptimizerKind("AdamW"), OptimizerKind::kAdamW);
  EXPECT_EQ(*optim::ParseOptimizerKind("rmsprop"), OptimizerKind::kRMSProp);
  EXPECT_FALSE(optim::ParseOptimizerKind("lamb").ok());
}

// ---------------------------------------------------------------------------
// Clipping on its own.

TEST(ClipByGlobalNorm, ScalesAboveTheThresholdOnly) {
  Graph g;
  Output a = ops::Const(g, Tensor::FromVector<float>({2}, {3.0f, 4.0f}));
  Output b = ops::Const(g, Tensor::FromVector<float>({1}, {12.0f}));
  // Global norm sqrt(9 + 16 + 144) = 13.
  auto clipped = optim::ClipByGlobalNorm(g, {a, b}, 6.5);
  ASSERT_TRUE(clipped.ok()) << clipped.status();
  auto loose = optim::ClipByGlobalNorm(g, {a, b}, 100.0);
  ASSERT_TRUE(loose.ok());
  auto s = runtime::Session::Create(g);
  ASSERT_TRUE(s.ok());
  auto out = (*s)->Run({}, {clipped->global_norm, clipped->gradients[0], clipped->gradients[1],
                            loose->gradients[0], loose->gradients[1]});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_NEAR((*out)[0].data<float>()[0], 13.0, 1e-6);
  const double coef = 6.5 / (13.0 + 1e-6);
  EXPECT_NEAR((*out)[1].data<float>()[0], 3.0 * coef, 1e-6);
  EXPECT_NEAR((*out)[1].data<float>()[1], 4.0 * coef, 1e-6);
  EXPECT_NEAR((*out)[2].data<float>()[0], 12.0 * coef, 1e-6);
  // Below the threshold: exactly unchanged.
  EXPECT_EQ((*out)[3].data<float>()[0], 3.0f);
  EXPECT_EQ((*out)[3].data<float>()[1], 4.0f);
  EXPECT_EQ((*out)[4].data<float>()[0], 12.0f);
}

TEST(ClipByGlobalNorm, RejectsBadArguments) {
  Graph g;
  Output a = ops::Const(g, Tensor::FromVector<float>({2}, {3.0f, 4.0f}));
  EXPECT_FALSE(optim::ClipByGlobalNorm(g, {a}, 0.0).ok());
  EXPECT_FALSE(optim::ClipByGlobalNorm(g, {}, 1.0).ok());
  EXPECT_FALSE(optim::ClipByGlobalNorm(g, {a, Output{}}, 1.0).ok());
}

}  // namespace
}  // namespace strata
