// Operator fusion decided when a plan is made: what follows a convolution
// runs inside its oneDNN primitive as post-ops, one pass over the output
// instead of several, and the fused nodes get no kernel of their own: their
// output is the convolution's buffer. The chain after a Conv2D, each link the
// only reader of the value before it (which nobody fetches):
//   - in inference plans, a BatchNorm: folded into a per-channel scale and
//     shift (gamma / sqrt(var + eps), beta - mean * scale) computed from the
//     running statistics on every run, so it follows the variables;
//   - an Add of a value computed before the convolution runs (a ResNet
//     shortcut): added to the output as it is written;
//   - a Relu.
//
// Fusion changes no formula: the fused primitive applies the same per-channel
// affine map, addition and activation to the same values (in float, as the
// separate kernels do; results agree to rounding), and gradients of fused
// activations read their output, which the fused buffer holds (ReLU's
// derivative is taken from y > 0, equivalent to x > 0).
#ifndef STRATA_RUNTIME_FUSION_H_
#define STRATA_RUNTIME_FUSION_H_

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "graph/graph.h"

namespace strata::runtime {

// Switches for the plan's passes, on by default; off for debugging or to
// measure what a pass gains (`strata bench --nofuse --noplan_memory
// --nokeep_layouts`).
struct PassOptions {
  // Graph rewrites before the plan (runtime/simplify.h): nodes of constant
  // inputs computed once into constants; twins (same op, attributes and
  // inputs) computed once.
  bool fold_constants = true;
  bool merge_duplicates = true;
  // Batch norm (inference), residual additions and ReLUs into the
  // convolutions before them; ReLUs into the batch norms (training) and
  // additions before them.
  bool fuse_conv_relu = true;
  // Intermediate values share one arena where their lifetimes allow
  // (runtime/memory_plan.h); off, each has its own buffer.
  bool plan_memory = true;
  // Values stay in the blocked layouts oneDNN prefers between ops that take
  // them (runtime/layout.h); off, every value is plain between ops.
  bool keep_layouts = true;
  // Training plans keep convolution weights, their gradients and optimizer
  // slots in the convolution's layout across steps (runtime/layout.h
  // FindKeptWeights; needs keep_layouts); off, they are plain.
  bool keep_weight_layouts = true;
  // 3x3 stride-1 convolutions with enough output tiles use oneDNN's Winograd
  // algorithm (ops/conv.cc Algorithm: fewer multiplications, different
  // rounding, within 1e-5 of the direct algorithm's scale); off, every
  // convolution is direct.
  bool winograd = true;
};

// What runs inside one convolution after it, in this order; for a batch
// norm or an addition, only the ReLU.
struct ConvEpilogue {
  const Node* batch_norm = nullptr;  // folded, inference only
  Output residual;                   // added; invalid: none
  // The convolution writes over the residual's buffer (this convolution is
  // the last to read it), accumulating onto it with oneDNN's sum post-op:
  // no copy of the residual first.
  bool residual_in_place = false;
  bool relu = false;
};

struct Fusions {
  // Conv2D, BatchNorm or Add -> what runs inside it.
  std::unordered_map<const Node*, ConvEpilogue> epilogue_of;
  // A fused BatchNorm, Add or Relu -> the node whose output it shares.
  std::unordered_map<const Node*, const Node*> fused_into;
  // Training: a BatchNormGrad whose batch norm ran with a fused ReLU -> that
  // batch norm and the ReLU's gradient (EltwiseGrad), which the backward
  // applies itself from the mask the forward left (its workspace: a value
  // of the plan from one to the other). The EltwiseGrad then does not run.
  struct ReluGradient {
    const Node* batch_norm = nullptr;
    const Node* relu_grad = nullptr;
  };
  std::unordered_map<const Node*, ReluGradient> relu_grad_into;
  // Training: a ReLU's gradient (EltwiseGrad) whose dy is an Add read by
  // nothing else (the two gradients of a value that feeds a shortcut) ->
  // that Add, which its kernel computes in the same pass.
  std::unordered_map<const Node*, const Node*> sum_into;
  std::unordered_set<const Node*> absorbed;  // those EltwiseGrads and Adds: they do not run

  // The plan value that carries such a batch norm's ReLU mask: (batch norm,
  // kReluMaskOutput), after its three outputs; one byte per element, as
  // much as any oneDNN implementation keeps.
  static constexpr int kReluMaskOutput = 3;
  static int64_t ReluMaskBytes(const Node& batch_norm) { return batch_norm.output_spec(0).shape.num_elements(); }

  // The node whose kernel computes n's output 0: the node n is fused into,
  // or n itself.
  const Node* ComputedBy(const Node* n) const {
    auto f = fused_into.find(n);
    return f != fused_into.end() ? f->second : n;
  }
};

// The fusions possible in a schedule (the nodes a run executes, in order)
// that must still produce `fetches`; `training`: whether its runs train
// (batch norm then normalises with batch statistics and is not folded).
Fusions FindFusions(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                    const PassOptions& options, bool training = true);

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_FUSION_H_
