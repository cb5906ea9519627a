#include "ops/state.h"

#include <cmath>
#include <random>

#include "graph/status_macros.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

absl::Status SpecFromAttrs(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("shape"));
  STRATA_ASSIGN_OR_RETURN(int64_t dtype, c.Attr<int64_t>("dtype"));
  auto shape = Shape::Validated(dims);
  if (!shape.ok()) return c.Error(shape.status().message());
  if (SizeOf(static_cast<DType>(dtype)) == 0) return c.Error(absl::StrCat("invalid dtype ", dtype));
  c.set_output(0, {static_cast<DType>(dtype), *shape});
  return absl::OkStatus();
}

// FNV-1a: a stable hash of the variable's name (absl::Hash is salted per
// process, which would make initial weights differ from run to run).
uint64_t StableHash(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

std::pair<double, double> Fans(const Shape& s) {
  if (s.rank() == 4) {
    double receptive = static_cast<double>(s[2] * s[3]);
    return {s[1] * receptive, s[0] * receptive};
  }
  if (s.rank() == 2) return {static_cast<double>(s[0]), static_cast<double>(s[1])};
  double n = static_cast<double>(s.num_elements());
  return {n, n};
}

}  // namespace

void RegisterStateOps(OpRegistry& r) {
  r.Add(OpDef("Placeholder")
            .Inputs(0)
            .RequiredAttr("shape")
            .Attr("dtype", int64_t{static_cast<int64_t>(DType::kFloat32)})
            .Shape(SpecFromAttrs)
            .Source()
            .NoGradient()
            .Doc("A value fed to every Session::Run that needs it."));
  r.Add(OpDef("Const")
            .Inputs(0)
            .RequiredAttr("value")
            .Shape([](InferenceContext& c) -> absl::Status {
              STRATA_ASSIGN_OR_RETURN(Tensor v, c.Attr<Tensor>("value"));
              if (!v.valid()) return c.Error("empty value");
              c.set_output(0, v.spec());
              return absl::OkStatus();
            })
            .Source()
            .NoGradient()
            .Doc("A constant tensor stored in the graph."));
  r.Add(OpDef("Variable")
            .Inputs(0)
            .RequiredAttr("shape")
            .Attr("dtype", int64_t{static_cast<int64_t>(DType::kFloat32)})
            .Attr("initializer", std::string("zeros"))
            .Attr("init_a", 0.0)
            .Attr("init_b", 0.0)
            .Attr("trainable", true)
            .Shape([](InferenceContext& c) -> absl::Status {
              STRATA_RETURN_IF_ERROR(SpecFromAttrs(c));
              // Initializers and optimizers work in float32 only; a loaded
              // GraphDef must not declare anything else.
              if (c.outputs()[0].dtype != DType::kFloat32) {
                return c.Error(absl::StrCat("variables are float32, not ", DTypeName(c.outputs()[0].dtype)));
              }
              STRATA_ASSIGN_OR_RETURN(std::string init, c.Attr<std::string>("initializer"));
              for (const char* k : {"zeros", "constant", "uniform", "normal", "glorot_uniform", "he_normal"}) {
                if (init == k) return absl::OkStatus();
              }
              return c.Error(absl::StrCat("unknown initializer '", init,
                                          "' (zeros, constant, uniform, normal, glorot_uniform, he_normal)"));
            })
            .Source()
            .NoGradient()
            .Doc("State owned by the Session's VariableStore, saved in checkpoints."));
  r.Add(OpDef("Group").Inputs(0).Outputs(0).NoGradient().Kernel([](const KernelBuildContext&) {
    struct Nothing : Kernel {
      absl::Status Run(KernelRunContext&) override { return absl::OkStatus(); }
    };
    return absl::StatusOr<std::unique_ptr<Kernel>>(std::make_unique<Nothing>());
  }).Doc("Orders its control inputs; has no outputs."));
}

Output Placeholder(Graph& g, absl::string_view name, Shape shape, DType dtype) {
  Node* n = g.AddNode(Def("Placeholder"), name, {},
                      {{"shape", shape.dims()}, {"dtype", static_cast<int64_t>(dtype)}});
  return n ? n->output(0) : Output{};
}

Output Const(Graph& g, Tensor value, absl::string_view name) {
  Node* n = g.AddNode(Def("Const"), name, {}, {{"value", std::move(value)}});
  return n ? n->output(0) : Output{};
}

Output ScalarConst(Graph& g, float value, absl::string_view name) {
  return Const(g, Tensor::Scalar<float>(value), name);
}

Output Variable(Graph& g, absl::string_view name, Shape shape, Initializer init, bool trainable) {
  Node* n = g.AddNode(Def("Variable"), name, {},
                      {{"shape", shape.dims()},
                       {"initializer", init.kind},
                       {"init_a", init.a},
                       {"init_b", init.b},
                       {"trainable", trainable}});
  return n ? n->output(0) : Output{};
}

Node* Group(Graph& g, std::vector<Node*> deps, absl::string_view name) {
  for (Node* d : deps) {
    if (d == nullptr) {
      g.RecordError(absl::InvalidArgumentError(absl::StrCat("Group '", name, "' has a missing dependency")));
      return nullptr;
    }
  }
  return g.AddNode(Def("Group"), name, {}, {}, std::move(deps));
}

std::vector<Node*> Variables(const Graph& g, bool trainable_only) {
  std::vector<Node*> out;
  for (const auto& n : g.nodes()) {
    if (n->op() != "Variable") continue;
    if (trainable_only && !n->Attr<bool>("trainable").value_or(true)) continue;
    out.push_back(n.get());
  }
  return out;
}

absl::StatusOr<Tensor> InitialValue(const Node& v, uint64_t seed) {
  STRATA_ASSIGN_OR_RETURN(std::string kind, v.Attr<std::string>("initializer"));
  STRATA_ASSIGN_OR_RETURN(double a, v.Attr<double>("init_a"));
  STRATA_ASSIGN_OR_RETURN(double b, v.Attr<double>("init_b"));
  const TensorSpec& spec = v.output_spec(0);
  Tensor t(spec);
  std::mt19937_64 rng(seed * 0x9E3779B97F4A7C15ull ^ StableHash(v.name()));
  auto [fan_in, fan_out] = Fans(spec.shape);
  float* d = t.data<float>();
  const int64_t n = t.num_elements();
  auto fill_uniform = [&](double lo, double hi) {
    std::uniform_real_distribution<double> u(lo, hi);
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(u(rng));
  };
  auto fill_normal = [&](double mean, double stddev) {
    std::normal_distribution<double> u(mean, stddev);
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(u(rng));
  };
  if (kind == "zeros") {
  } else if (kind == "constant") {
    for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(a);
  } else if (kind == "uniform") {
    fill_uniform(a, b);
  } else if (kind == "normal") {
    fill_normal(a, b);
  } else if (kind == "glorot_uniform") {
    double limit = std::sqrt(6.0 / (fan_in + fan_out));
    fill_uniform(-limit, limit);
  } else if (kind == "he_normal") {
    fill_normal(0.0, std::sqrt(2.0 / fan_in));
  } else {
    return absl::InvalidArgumentError(absl::StrCat(v.Describe(), ": unknown initializer '", kind, "'"));
  }
  return t;
}

}  // namespace strata::ops
