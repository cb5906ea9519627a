// The layout pass: which values of a plan may stay in the blocked layout
// their producer's oneDNN primitive works in (nChw16c for training
// convolutions, nhwc for inference ones) instead of being reordered to plain
// NCHW after every op and back before the next. A value may stay blocked
// when every op that reads it takes blocked inputs (LayoutSupport) and the
// user does not fetch it; placeholders, constants and variables are plain.
// Reorders then happen only at the edges: where a plain-only op (a reshape, a
// matrix multiply, an optimizer update) reads a value.
//
// The producing kernel makes the final choice (runtime/session.cc hands it
// KernelBuildContext::output_may_be_blocked and records what it reports), so
// the plan is correct whatever each primitive prefers.
#ifndef STRATA_RUNTIME_LAYOUT_H_
#define STRATA_RUNTIME_LAYOUT_H_

#include <set>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "runtime/fusion.h"

namespace strata::runtime {

// True when `node`'s kernel takes input i in a blocked layout: kAny ops
// (but for their plain_inputs), and kElementwise ops whose inputs all have
// the output's spec.
bool TakesBlockedInput(const Node& node, int i);

// The values (node, output) of the schedule `order` that may be stored
// blocked, given the fusions (a fused activation's readers read its
// producer's value) and the fetches (always plain).
std::set<std::pair<const Node*, int>> BlockableValues(const std::vector<const Node*>& order,
                                                      const std::vector<Output>& fetches, const Fusions& fusions);

// Convolution weights a training plan keeps in their convolution's layout
// across steps, with their optimizer slots and gradient, so that neither
// the weights nor their gradient is reordered on every step: a variable
// read only by one Conv2D (as its filters), any Conv2DBackpropInput (as
// filters) and one elementwise optimizer update (OpDef::elementwise_update),
// whose gradient is a Conv2DBackpropFilter's output read by nothing else and
// whose slots are variables read by nothing else; none of them fetched. The
// Conv2D chooses the layout when its kernel is built.
struct KeptWeights {
  const Node* variable = nullptr;
  const Node* conv = nullptr;
  const Node* gradient = nullptr;  // the Conv2DBackpropFilter
  std::vector<const Node*> slots;
};
std::vector<KeptWeights> FindKeptWeights(const std::vector<const Node*>& order, const std::vector<Output>& fetches);

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_LAYOUT_H_
