#include "autodiff/gradients.h"

#include <map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/math.h"
#include "ops/state.h"

namespace strata::autodiff {
namespace {

// Nodes from which the loss can be reached (inputs are always older nodes,
// so ids give a topological order and one backwards sweep suffices).
std::vector<bool> ReachesLoss(const Graph& g, const Node* loss) {
  std::vector<bool> reaches(g.num_nodes(), false);
  reaches[loss->id()] = true;
  for (int id = loss->id(); id >= 0; --id) {
    if (!reaches[id]) continue;
    for (const Output& in : g.nodes()[id]->inputs()) reaches[in.node->id()] = true;
  }
  return reaches;
}

// Nodes that depend on one of the `wrt` outputs.
std::vector<bool> DependsOnWrt(const Graph& g, const std::vector<Output>& wrt) {
  std::vector<bool> depends(g.num_nodes(), false);
  for (const Output& x : wrt) depends[x.node->id()] = true;
  for (const auto& n : g.nodes()) {
    for (const Output& in : n->inputs()) {
      if (depends[in.node->id()]) depends[n->id()] = true;
    }
  }
  return depends;
}

}  // namespace

absl::StatusOr<std::vector<Output>> Gradients(Graph& g, Output loss, const std::vector<Output>& wrt) {
  return Gradients(g, loss, wrt, nullptr);
}

absl::StatusOr<std::vector<Output>> Gradients(Graph& g, Output loss, const std::vector<Output>& wrt,
                                              const GradientReadyFn& on_ready) {
  STRATA_RETURN_IF_ERROR(g.status());
  if (!loss.valid()) return absl::InvalidArgumentError("Gradients: the loss is an invalid Output");
  if (loss.shape().num_elements() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("Gradients: the loss ", loss.name(), " must be a scalar, got ", loss.spec().ToString()));
  }
  for (const Output& x : wrt) {
    if (!x.valid()) return absl::InvalidArgumentError("Gradients: a wrt entry is an invalid Output");
  }
  const std::vector<bool> reaches = ReachesLoss(g, loss.node);
  const std::vector<bool> depends = DependsOnWrt(g, wrt);
  auto on_path = [&](const Node* n) { return reaches[n->id()] && depends[n->id()]; };

  // Pending gradient contributions per (node id, output index).
  std::map<std::pair<int, int>, std::vector<Output>> contributions;
  auto total = [&](const Output& o) -> Output {
    auto it = contributions.find({o.node->id(), o.index});
    if (it == contributions.end()) return Output{};
    std::vector<Output>& parts = it->second;
    if (parts.size() > 1) {
      Graph::Scope scope(g, absl::StrCat("gradients/", o.node->name(), "/sum"));
      Output sum = parts[0];
      for (size_t i = 1; i < parts.size(); ++i) sum = ops::Add(g, sum, parts[i]);
      parts = {sum};
    }
    return parts[0];
  };

  {
    Graph::Scope scope(g, "gradients");
    Tensor one(loss.spec());
    one.data<float>()[0] = 1.0f;
    contributions[{loss.node->id(), loss.index}].push_back(ops::Const(g, one, "seed"));
  }

  // The gradient of wrt[i] is final once the sweep has passed the lowest id
  // among its consumers on the path: (that id, i), highest first.
  std::vector<std::pair<int, int>> ready_after;
  if (on_ready) {
    std::map<std::pair<int, int>, int> lowest_consumer;
    for (const auto& n : g.nodes()) {
      if (!on_path(n.get()) || n->id() > loss.node->id()) continue;
      for (const Output& in : n->inputs()) {
        auto key = std::make_pair(in.node->id(), in.index);
        if (!lowest_consumer.count(key)) lowest_consumer[key] = n->id();  // nodes are visited by id
      }
    }
    for (size_t i = 0; i < wrt.size(); ++i) {
      auto it = lowest_consumer.find({wrt[i].node->id(), wrt[i].index});
      ready_after.push_back({it == lowest_consumer.end() ? -1 : it->second, static_cast<int>(i)});
    }
    std::stable_sort(ready_after.begin(), ready_after.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
  }
  size_t next_ready = 0;
  // Calls on_ready for every wrt entry whose consumers all have ids > id.
  auto announce = [&](int id) -> absl::Status {
    for (; next_ready < ready_after.size() && ready_after[next_ready].first > id; ++next_ready) {
      const int i = ready_after[next_ready].second;
      Output grad = total(wrt[i]);
      STRATA_RETURN_IF_ERROR(g.status());
      if (grad.valid()) STRATA_RETURN_IF_ERROR(on_ready(i, grad));
    }
    return absl::OkStatus();
  };

  const int last = loss.node->id();
  for (int id = last; id >= 0; --id) {
    STRATA_RETURN_IF_ERROR(announce(id));
    Node* node = g.nodes()[id].get();
    if (!on_path(node) || node->inputs().empty()) continue;
    std::vector<Output> output_grads;
    bool any = false;
    for (int i = 0; i < node->num_outputs(); ++i) {
      output_grads.push_back(total(node->output(i)));
      any |= output_grads.back().valid();
    }
    if (!any) continue;
    const OpDef& def = node->def();
    if (def.no_gradient) continue;
    if (!def.gradient) {
      return absl::UnimplementedError(absl::StrCat(node->Describe(), " is on the path from the loss to the ",
                                                   "variables but its op has no gradient rule"));
    }
    Graph::Scope scope(g, absl::StrCat("gradients/", node->name()));
    GradientContext ctx{g, *node, std::move(output_grads)};
    auto input_grads = def.gradient(ctx);
    STRATA_RETURN_IF_ERROR(g.status());
    if (!input_grads.ok()) {
      return absl::Status(input_grads.status().code(), absl::StrCat("gradient of ", node->Describe(), ": ",
                                                                    input_grads.status().message()));
    }
    if (input_grads->size() != node->inputs().size()) {
      return absl::InternalError(absl::StrCat("gradient rule of ", node->Describe(), " returned ",
                                              input_grads->size(), " gradients for ", node->inputs().size(),
                                              " inputs"));
    }
    for (size_t i = 0; i < input_grads->size(); ++i) {
      const Output& in = node->inputs()[i];
      const Output& grad = (*input_grads)[i];
      if (!grad.valid() || !on_path(in.node)) continue;
      if (grad.spec() != in.spec()) {
        return absl::InternalError(absl::StrCat("gradient rule of ", node->Describe(), " gave ",
                                                grad.spec().ToString(), " for input ", i, " of spec ",
                                                in.spec().ToString()));
      }
      contributions[{in.node->id(), in.index}].push_back(grad);
    }
  }

  STRATA_RETURN_IF_ERROR(announce(-2));
  std::vector<Output> result;
  for (const Output& x : wrt) result.push_back(total(x));
  STRATA_RETURN_IF_ERROR(g.status());
  return result;
}

}  // namespace strata::autodiff
