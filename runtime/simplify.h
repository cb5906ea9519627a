// Graph passes that rewrite the scheduled part of a graph before a plan is
// made: constant folding (a node whose inputs are all constants becomes a
// constant holding its value, computed once) and merging duplicates (a node
// with the same op, attributes and inputs as an earlier one is dropped and
// its readers read the earlier one's outputs; TensorFlow's common-
// subexpression elimination). Neither changes a value: the folded value is
// what the node's kernel computes, a twin computes what its original does.
//
// Stateful ops (Dropout, batch norm: they depend on the run), sources,
// optimizer updates and nodes without outputs are never folded or merged.
#ifndef STRATA_RUNTIME_SIMPLIFY_H_
#define STRATA_RUNTIME_SIMPLIFY_H_

#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "runtime/fusion.h"

namespace strata::runtime {

// Computes one node's outputs from its inputs' values (Session runs it alone).
using NodeEvaluator =
    std::function<absl::StatusOr<std::vector<Tensor>>(const Node& node, const std::vector<Tensor>& inputs)>;

struct SimplifiedGraph {
  // The rewritten copy of the scheduled nodes (same names), or null when no
  // pass changed anything: the original graph is then planned as it is.
  std::unique_ptr<Graph> graph;
  // Each scheduled node of the original graph -> its outputs in `graph`
  // (a merged node's are its original's; a folded node's, its constant's).
  std::unordered_map<const Node*, std::vector<Output>> outputs_of;
  std::unordered_map<const Node*, Node*> node_of;  // each kept node -> its copy
  int folded = 0;  // nodes replaced by constants
  int merged = 0;  // nodes dropped for an earlier twin

  // `o` of the original graph in the rewritten one (o itself without one).
  Output Map(const Output& o) const;
  Node* Map(const Node* n) const;
};

// Folds a node only when its value is at most this large or no larger than
// its inputs together: folding must not turn a broadcast of a scalar into
// a constant of any size.
inline constexpr int64_t kMaxFoldedGrowthBytes = int64_t{1} << 20;

// `order`: the nodes a run needs, every node after its inputs (Session's
// schedule). `evaluate` computes a folded node's value.
absl::StatusOr<SimplifiedGraph> SimplifyGraph(const std::vector<const Node*>& order, const PassOptions& options,
                                              const NodeEvaluator& evaluate);

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_SIMPLIFY_H_
