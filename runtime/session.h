// Runs graphs: compiles a plan per (fetches, targets, feeds, training or
// inference) once, with every kernel and oneDNN primitive and every buffer
// created up front, then each Run only copies feeds in, executes the kernels
// and copies fetches out.
#ifndef STRATA_RUNTIME_SESSION_H_
#define STRATA_RUNTIME_SESSION_H_

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "runtime/fusion.h"
#include "runtime/profile.h"
#include "runtime/variable_store.h"

namespace strata {
struct DeviceContext;
}

namespace strata::runtime {

struct SessionOptions {
  // Runs every op with its naive float64 reference kernel: float32 tensors
  // (feeds, constants, variables) become float64. For gradient checking.
  // Fusion is off in this mode: the reference kernels run one op each.
  bool reference_float64 = false;
  PassOptions passes;
};

using Feeds = std::vector<std::pair<Output, Tensor>>;

// A plan's intermediate values: the arena they share, and what they would
// take with a buffer each.
struct PlanMemoryStats {
  int64_t arena_bytes = 0;
  int64_t unshared_bytes = 0;
};

class Plan;

class Session {
 public:
  // The graph must outlive the session and have no build error. Sessions that
  // share a store share variable values (a training and an eval graph).
  static absl::StatusOr<std::unique_ptr<Session>> Create(const Graph& graph, SessionOptions options = {},
                                                        std::shared_ptr<VariableStore> store = nullptr);
  ~Session();

  // Gives every variable of the graph without a value its initial value.
  absl::Status InitializeVariables(uint64_t seed);

  // Feeds placeholders, runs what `fetches` and `targets` need, and returns
  // a copy of each fetch. Errors name the node and the offending shapes.
  // With a `profile`, each op's time and layout reorders are added to it.
  absl::StatusOr<std::vector<Tensor>> Run(const Feeds& feeds, const std::vector<Output>& fetches,
                                          const std::vector<Node*>& targets = {},
                                          const RunOptions& options = {}, Profile* profile = nullptr);

  // Makes the plan a Run of these feeds, fetches and targets would use (its
  // kernels, buffers and memory plan) without running it: plan_memory(),
  // scratch_bytes() and held_bytes() then include it.
  absl::Status Prepare(const Feeds& feeds, const std::vector<Output>& fetches, const std::vector<Node*>& targets = {},
                       bool training = false);

  VariableStore& variables() { return *store_; }
  const std::shared_ptr<VariableStore>& shared_variables() { return store_; }
  const Graph& graph() const { return graph_; }
  int num_cached_plans() const { return static_cast<int>(plans_.size()); }
  // The memory plan of each cached plan (empty arenas where the plan_memory
  // pass is off).
  std::vector<PlanMemoryStats> plan_memory() const;
  // The scratch buffer the kernels share (layout copies, oneDNN scratchpads).
  int64_t scratch_bytes() const;
  // What the kernels of every cached plan hold between runs (Kernel::held_bytes).
  int64_t held_bytes() const;

 private:
  Session(const Graph& graph, SessionOptions options, std::shared_ptr<VariableStore> store);
  absl::StatusOr<Plan*> GetPlan(const Feeds& feeds, const std::vector<Output>& fetches,
                                const std::vector<Node*>& targets, bool training);
  // GetPlan, with running out of memory while making it as an error that
  // names the graph's largest output.
  absl::StatusOr<Plan*> GetPlanOrOutOfMemory(const Feeds& feeds, const std::vector<Output>& fetches,
                                             const std::vector<Node*>& targets, bool training);
  // One node of this graph run by itself on constant inputs, by a session
  // of its own with these options (constant folding's evaluator).
  absl::StatusOr<std::vector<Tensor>> RunAlone(const Node& node, const std::vector<Tensor>& inputs);

  const Graph& graph_;
  SessionOptions options_;
  std::shared_ptr<VariableStore> store_;
  std::unique_ptr<DeviceContext> device_;
  std::map<std::string, std::unique_ptr<Plan>> plans_;
};

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_SESSION_H_
