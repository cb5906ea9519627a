#include "runtime/fusion.h"

#include <map>
#include <utility>

namespace strata::runtime {

using Value = std::pair<const Node*, int>;

namespace {

// The ReLU's gradient of a batch norm with a fused ReLU into the batch
// norm's own gradient, when it is that gradient's sole input: it reads the
// ReLU's output (y), and BatchNormGrad differentiates this batch norm (same
// x, saved statistics and epsilon).
template <typename SoleReader>
void FuseReluGradient(const Node* bn, const Node* relu, const std::map<Value, std::vector<const Node*>>& readers,
                      SoleReader sole_reader, Fusions& fusions) {
  auto it = readers.find({relu, 0});
  if (it == readers.end()) return;
  for (const Node* g : it->second) {
    if (g == nullptr || g->op() != "EltwiseGrad" || g->inputs().size() != 2) continue;
    if (g->inputs()[1].node != relu || g->Attr<std::string>("kind").value_or("") != "relu") continue;
    const Node* b = sole_reader(Value{g, 0});
    if (b == nullptr || b->op() != "BatchNormGrad" || b->inputs().size() != 5) continue;
    const std::vector<Output>& in = b->inputs();
    const bool same = in[0].node == g && in[1].node == bn->inputs()[0].node &&
                      in[1].index == bn->inputs()[0].index && in[3].node == bn && in[3].index == 1 &&
                      in[4].node == bn && in[4].index == 2 &&
                      b->Attr<double>("epsilon").value_or(-1) == bn->Attr<double>("epsilon").value_or(-2);
    if (!same || fusions.relu_grad_into.count(b)) continue;
    fusions.relu_grad_into[b] = {bn, g};
    fusions.absorbed.insert(g);
    return;
  }
}

// Whether `conv` may write over the buffer of `residual`: a value computed
// by a kernel (not a source, not a view) that nothing fetches and that no
// kernel reads at or after conv's step, through any value stored in the
// same buffer (the outputs of what is fused into its producer). Readers
// fused into a kernel run at that kernel's step; the residual's own add is
// fused into conv. Fusions decided for later convolutions are not known
// yet: their readers count at their own, later, step (so: not in place).
bool LastReadBy(const Output& residual, const Node* conv, const std::vector<const Node*>& order,
                const std::map<const Node*, int64_t>& step,
                const std::map<Value, std::vector<const Node*>>& readers, const Fusions& fusions) {
  const Node* producer = fusions.ComputedBy(residual.node);
  if (producer->def().is_source || producer->def().aliases_input || residual.index != 0) return false;
  for (const Node* n : order) {
    if (fusions.ComputedBy(n) != producer) continue;
    auto it = readers.find({n, 0});
    if (it == readers.end()) continue;
    for (const Node* r : it->second) {
      if (r == nullptr || r == conv) return false;  // fetched, or an input of the convolution too
      const Node* runs_in = fusions.ComputedBy(r);
      if (runs_in == producer || runs_in == conv) continue;  // before it, or the residual add itself
      if (step.at(runs_in) >= step.at(conv)) return false;
    }
  }
  return true;
}

}  // namespace

Fusions FindFusions(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                    const PassOptions& options, bool training) {
  Fusions fusions;
  if (!options.fuse_conv_relu) return fusions;
  std::map<const Node*, int64_t> step;
  for (size_t i = 0; i < order.size(); ++i) step[order[i]] = static_cast<int64_t>(i);
  // Readers of each value among the scheduled nodes, fetches counted too.
  std::map<Value, std::vector<const Node*>> readers;
  for (const Node* n : order) {
    for (const Output& in : n->inputs()) readers[{in.node, in.index}].push_back(n);
  }
  for (const Output& o : fetches) readers[{o.node, o.index}].push_back(nullptr);
  // The node that alone reads `v` (and nothing fetches it), else null.
  auto sole_reader = [&](Value v) -> const Node* {
    auto it = readers.find(v);
    return it != readers.end() && it->second.size() == 1 ? it->second[0] : nullptr;
  };
  auto unread = [&](Value v) { return readers.find(v) == readers.end(); };

  for (const Node* conv : order) {
    if (conv->op() != "Conv2D") continue;
    ConvEpilogue e;
    Value at{conv, 0};
    const Node* next = sole_reader(at);
    if (!training && next != nullptr && next->op() == "BatchNorm" && next->inputs()[0].node == conv &&
        next->inputs()[0].index == 0 &&
        unread({next, 1}) && unread({next, 2})) {
      e.batch_norm = next;
      fusions.fused_into[next] = conv;
      at = {next, 0};
      next = sole_reader(at);
    }
    if (next != nullptr && next->op() == "Add" && next->inputs().size() == 2) {
      const Output& a = next->inputs()[0];
      const Output& b = next->inputs()[1];
      const bool at_is_a = a.node == at.first && a.index == at.second;
      const Output& other = at_is_a ? b : a;
      // The other operand must exist when the convolution runs, and have the
      // output's spec (no broadcast).
      // A fused node's value is computed by the convolution it is fused into.
      const Node* computed_by = fusions.ComputedBy(other.node);
      const bool computed_before =
          other.node->def().is_source || (step.count(computed_by) && step[computed_by] < step[conv]);
      if (!(other.node == at.first && other.index == at.second) && computed_before &&
          other.spec() == next->output_spec(0)) {
        e.residual = other;
        fusions.fused_into[next] = conv;
        e.residual_in_place = LastReadBy(other, conv, order, step, readers, fusions);
        at = {next, 0};
        next = sole_reader(at);
      }
    }
    if (next != nullptr && next->op() == "Relu") {
      e.relu = true;
      fusions.fused_into[next] = conv;
    }
    if (e.batch_norm != nullptr || e.residual.valid() || e.relu) fusions.epilogue_of[conv] = e;
  }
  // A ReLU after a batch norm that is not folded (training), or after an
  // addition that is not a convolution's residual, runs inside it: oneDNN's
  // fused-ReLU batch norm, the binary primitive's eltwise post-op. Its
  // gradient reads the output, which is the same either way.
  for (const Node* n : order) {
    if ((n->op() != "BatchNorm" && n->op() != "Add") || fusions.fused_into.count(n)) continue;
    const Node* next = sole_reader({n, 0});
    if (next == nullptr || next->op() != "Relu" || fusions.fused_into.count(next)) continue;
    fusions.epilogue_of[n].relu = true;
    fusions.fused_into[next] = n;
    if (training && n->op() == "BatchNorm") FuseReluGradient(n, next, readers, sole_reader, fusions);
  }
  // The sum of a ReLU's two incoming gradients into that ReLU's gradient.
  for (const Node* g : order) {
    if (!training || g->op() != "EltwiseGrad" || fusions.absorbed.count(g)) continue;
    if (g->Attr<std::string>("kind").value_or("") != "relu") continue;
    const Node* add = g->inputs()[0].node;
    if (add->op() != "Add" || add->inputs().size() != 2 || g->inputs()[0].index != 0) continue;
    if (fusions.fused_into.count(add) || fusions.epilogue_of.count(add) || sole_reader({add, 0}) != g) continue;
    const TensorSpec& spec = add->output_spec(0);
    if (add->inputs()[0].spec() != spec || add->inputs()[1].spec() != spec) continue;  // no broadcast
    fusions.sum_into[g] = add;
    fusions.absorbed.insert(add);
  }
  return fusions;
}

}  // namespace strata::runtime
