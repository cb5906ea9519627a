// Operator fusion decided when a plan is made: an activation that is the
// only consumer of a convolution's output runs inside the convolution's
// oneDNN primitive as a post-op (one pass over the output instead of two),
// and the activation's node gets no kernel of its own: its output is the
// convolution's buffer.
//
// Fusion never changes a result: the fused primitive applies the same
// activation to the same values, and gradients of fused activations read
// their output, which the fused buffer holds (ReLU's derivative is taken
// from y > 0, equivalent to x > 0).
#ifndef STRATA_RUNTIME_FUSION_H_
#define STRATA_RUNTIME_FUSION_H_

#include <string>
#include <unordered_map>
#include <vector>

#include "graph/graph.h"

namespace strata::runtime {

// Switches for the plan's passes, on by default; off for debugging or to
// measure what a pass gains (`strata bench --nofuse --noplan_memory`).
struct PassOptions {
  bool fuse_conv_relu = true;
  // Intermediate values share one arena where their lifetimes allow
  // (runtime/memory_plan.h); off, each has its own buffer.
  bool plan_memory = true;
  // Values stay in the blocked layouts oneDNN prefers between ops that take
  // them (runtime/layout.h); off, every value is plain between ops.
  bool keep_layouts = true;
};

struct Fusions {
  // Conv2D node -> the activation fused into it ("relu").
  std::unordered_map<const Node*, std::string> activation_of;
  // Activation node -> the node whose output it shares.
  std::unordered_map<const Node*, const Node*> fused_into;
};

// The fusions possible in a schedule (the nodes a run executes, in order)
// that must still produce `fetches`: a Relu whose input is output 0 of a
// Conv2D that nothing else in the schedule reads and that is not fetched.
Fusions FindFusions(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                    const PassOptions& options);

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_FUSION_H_
