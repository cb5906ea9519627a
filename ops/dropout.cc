// Inverted dropout. One loop serves as both kernels (float for the oneDNN
// build, double for the reference): oneDNN 2.6 has no dropout primitive.
//
// The mask is counter-based rather than drawn from a generator: element i
// keeps its value when the i-th output of SplitMix64, seeded with a key mixed
// from (RunOptions.seed, RunOptions.step, FNV-1a of the node name), is at
// least `rate` as a uniform double in [0, 1). So it does not depend on the
// thread count, on the order nodes run in, or on the float type, and a run
// resumed at step k draws the masks the original run drew at step k.
#include "ops/dropout.h"

#include <cmath>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/math.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;  // SplitMix64's increment

// SplitMix64's output function (Steele, Lea and Flood, 2014).
uint64_t Finalize(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One SplitMix64 step from state z: a strong 64-bit mix of z.
uint64_t Mix(uint64_t z) { return Finalize(z + kGolden); }

uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Chained rather than XORed together, so that swapping seed and step (or
// step and name) does not give the same key.
uint64_t StreamKey(uint64_t seed, int64_t step, uint64_t name_hash) {
  return Mix(Mix(Mix(name_hash) ^ seed) ^ static_cast<uint64_t>(step));
}

// Element i of the stream: SplitMix64's (i+1)-th output for state `key`, as
// a double in [0, 1) from its top 53 bits.
double Uniform(uint64_t key, int64_t i) {
  const uint64_t bits = Finalize(key + (static_cast<uint64_t>(i) + 1) * kGolden);
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

absl::StatusOr<double> ValidRate(double rate) {
  // Written so that NaN fails too.
  if (rate >= 0 && rate < 1) return rate;
  return absl::InvalidArgumentError(absl::StrCat("the rate must be in [0, 1), got ", rate));
}

absl::Status DropoutShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(0, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(double rate, c.Attr<double>("rate"));
  auto valid = ValidRate(rate);
  if (!valid.ok()) return c.Error(valid.status().message());
  c.set_output(0, c.input(0));
  c.set_output(1, c.input(0));
  return absl::OkStatus();
}

// Input x; outputs y and the mask. T is float or double.
template <typename T>
class DropoutKernel : public Kernel {
 public:
  DropoutKernel(double rate, uint64_t name_hash) : rate_(rate), name_hash_(name_hash) {}

  absl::Status Run(KernelRunContext& ctx) override {
    const T* x = In<T>(ctx, 0);
    T* y = Out<T>(ctx, 0);
    T* mask = Out<T>(ctx, 1);
    const int64_t n = ctx.inputs[0]->num_elements();
    const bool training = ctx.options != nullptr && ctx.options->training;
    if (!training) {
      for (int64_t i = 0; i < n; ++i) {
        y[i] = x[i];
        mask[i] = T(1);
      }
      return absl::OkStatus();
    }
    const uint64_t key = StreamKey(ctx.options->seed, ctx.options->step, name_hash_);
    // Rounded once to T, so y is exactly x * mask in T.
    const T scale = static_cast<T>(1.0 / (1.0 - rate_));
    const double rate = rate_;
#pragma omp parallel for if (n > 16384)
    for (int64_t i = 0; i < n; ++i) {
      // The comparison is made in double in both kernels: same mask.
      const T m = Uniform(key, i) >= rate ? scale : T(0);
      mask[i] = m;
      y[i] = x[i] * m;
    }
    return absl::OkStatus();
  }

 private:
  double rate_;
  uint64_t name_hash_;
};

template <typename T>
absl::StatusOr<std::unique_ptr<Kernel>> MakeDropoutKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(double rate, b.Attr<double>("rate"));
  auto valid = ValidRate(rate);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(b.node.Describe(), ": ", valid.status().message()));
  return std::unique_ptr<Kernel>(new DropoutKernel<T>(rate, Fnv1a(b.node.name())));
}

// dx = dy * mask: the mask output already holds 0 or 1/(1-rate) for
// training runs and 1 for inference runs.
absl::StatusOr<std::vector<Output>> DropoutGradient(GradientContext& c) {
  if (c.output_grads[1].valid()) return absl::UnimplementedError("no gradient flows through the mask (output 1)");
  Output mask{const_cast<Node*>(&c.node), 1};
  return std::vector<Output>{Mul(c.graph, c.output_grads[0], mask)};
}

}  // namespace

void RegisterDropoutOps(OpRegistry& r) {
  r.Add(OpDef("Dropout")
            .Inputs(1)
            .Outputs(2)
            .RequiredAttr("rate")
            .Stateful()
            .Shape(DropoutShape)
            .Kernel(MakeDropoutKernel<float>)
            .ReferenceKernel(MakeDropoutKernel<double>)
            .Gradient(DropoutGradient)
            .Doc("Inverted dropout of x (any shape) with probability `rate` in [0, 1): in training runs each "
                 "element is zeroed or scaled by 1/(1-rate), by a mask that is a function of (seed, step, node "
                 "name); inference runs pass x through. Output 1 is the mask (0 or 1/(1-rate); 1 in "
                 "inference)."));
}

Output Dropout(Graph& g, Output x, double rate, absl::string_view name) {
  Node* n = g.AddNode(Def("Dropout"), name, {x}, {{"rate", rate}});
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
