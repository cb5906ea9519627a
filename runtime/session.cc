#include "runtime/session.h"

#include "runtime/layout.h"
#include "runtime/memory_plan.h"
#include "runtime/simplify.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <set>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/onednn.h"
#include "ops/state.h"

namespace strata::runtime {

// A compiled schedule: nodes in execution order with their kernels and
// preallocated buffers. Built once per (feeds, fetches, targets).
class Plan {
 public:
  struct Step {
    const Node* node;
    std::unique_ptr<Kernel> kernel;
    KernelRunContext ctx;
  };

  // The graph the plan runs: the session's, or a simplified copy of its
  // scheduled nodes (runtime/simplify.h) when a rewrite changed anything;
  // `rewrite.Map` takes the session graph's feeds and fetches into it.
  SimplifiedGraph rewrite;
  std::vector<std::vector<Tensor>> values;  // [node id][output index]
  std::vector<std::vector<LayoutRef>> layouts;  // of each value; null: plain
  std::unordered_map<const Node*, Tensor*> placeholders;
  std::vector<Step> steps;
  std::shared_ptr<uint8_t> arena;  // the intermediate values (runtime/memory_plan.h)
  PlanMemoryStats memory;
  // Whether a run may change variables: its optimizer updates always do,
  // batch norms in training runs (their running statistics).
  bool updates_variables = false;
  bool updates_variables_when_training = false;
  // The variables the plan binds: before each run the store is converted to
  // the layout the plan reads each in (`layouts`; null: plain), where
  // another plan left it otherwise.
  std::vector<const Node*> variables;
  bool MayWriteVariables(bool training) const {
    return updates_variables || (training && updates_variables_when_training);
  }
};

namespace {

DType ExecutionType(DType t, const SessionOptions& o) {
  return (o.reference_float64 && t == DType::kFloat32) ? DType::kFloat64 : t;
}

std::string PlanKey(const Feeds& feeds, const std::vector<Output>& fetches, const std::vector<Node*>& targets) {
  std::vector<std::string> feed_names;
  for (const auto& [out, t] : feeds) feed_names.push_back(out.valid() ? out.name() : "?");
  std::sort(feed_names.begin(), feed_names.end());
  std::vector<std::string> fetch_names, target_names;
  for (const Output& o : fetches) fetch_names.push_back(o.valid() ? o.name() : "?");
  for (const Node* n : targets) target_names.push_back(n ? n->name() : "?");
  return absl::StrCat(absl::StrJoin(feed_names, ","), "|", absl::StrJoin(fetch_names, ","), "|",
                      absl::StrJoin(target_names, ","));
}

// Nodes needed for the fetches and targets, in an order where every node
// comes after its inputs and nodes that write their inputs (optimizer
// updates) come after every node that can run before them.
absl::StatusOr<std::vector<const Node*>> Schedule(const Graph& graph, const std::vector<Output>& fetches,
                                                  const std::vector<Node*>& targets) {
  std::unordered_set<const Node*> needed;
  std::vector<const Node*> stack;
  for (const Output& o : fetches) stack.push_back(o.node);
  for (const Node* n : targets) stack.push_back(n);
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    if (!needed.insert(n).second) continue;
    for (const Output& in : n->inputs()) stack.push_back(in.node);
    for (const Node* c : n->control_inputs()) stack.push_back(c);
  }
  std::unordered_map<const Node*, int> pending;
  std::unordered_map<const Node*, std::vector<const Node*>> consumers;
  for (const Node* n : needed) {
    pending[n] = static_cast<int>(n->inputs().size() + n->control_inputs().size());
    for (const Output& in : n->inputs()) consumers[in.node].push_back(n);
    for (const Node* c : n->control_inputs()) consumers[c].push_back(n);
  }
  // Deterministic order: ready nodes are taken by id.
  auto by_id = [](const Node* a, const Node* b) { return a->id() > b->id(); };
  std::vector<const Node*> ready, ready_writers;
  for (const Node* n : needed) {
    if (pending[n] == 0) (n->def().writes_inputs ? ready_writers : ready).push_back(n);
  }
  std::vector<const Node*> order;
  while (!ready.empty() || !ready_writers.empty()) {
    std::vector<const Node*>& from = ready.empty() ? ready_writers : ready;
    std::sort(from.begin(), from.end(), by_id);
    const Node* n = from.back();
    from.pop_back();
    order.push_back(n);
    for (const Node* c : consumers[n]) {
      if (--pending[c] == 0) (c->def().writes_inputs ? ready_writers : ready).push_back(c);
    }
  }
  if (order.size() != needed.size()) {
    return absl::InvalidArgumentError("the graph has a cycle among the nodes needed for this run");
  }
  return order;
}

}  // namespace

Session::Session(const Graph& graph, SessionOptions options, std::shared_ptr<VariableStore> store)
    : graph_(graph), options_(options), store_(std::move(store)), device_(std::make_unique<DeviceContext>()) {}

Session::~Session() = default;

absl::StatusOr<std::unique_ptr<Session>> Session::Create(const Graph& graph, SessionOptions options,
                                                        std::shared_ptr<VariableStore> store) {
  if (!graph.status().ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run a graph with a build error: ", graph.status().message()));
  }
  if (store == nullptr) store = std::make_shared<VariableStore>();
  std::unique_ptr<Session> s;
  STRATA_RETURN_IF_ERROR(onednn::Guard("creating the oneDNN engine", [&] {
    s.reset(new Session(graph, options, std::move(store)));
  }));
  return s;
}

absl::Status Session::InitializeVariables(uint64_t seed) {
  for (Node* v : ops::Variables(graph_)) {
    if (store_->Has(v->name())) continue;
    STRATA_ASSIGN_OR_RETURN(Tensor value, ops::InitialValue(*v, seed));
    STRATA_RETURN_IF_ERROR(store_->Set(v->name(), value));
  }
  return absl::OkStatus();
}

absl::StatusOr<Plan*> Session::GetPlan(const Feeds& feeds, const std::vector<Output>& fetches,
                                       const std::vector<Node*>& targets, bool training) {
  // Training and inference runs get plans of their own: inference plans fold
  // batch norm into the convolutions before it.
  std::string key = absl::StrCat(PlanKey(feeds, fetches, targets), training ? "|train" : "|infer");
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second.get();

  for (const Output& o : fetches) {
    if (!o.valid()) return absl::InvalidArgumentError("a fetch is an invalid Output (a failed node?)");
  }
  for (const Node* n : targets) {
    if (n == nullptr) return absl::InvalidArgumentError("a target is null (a failed node?)");
  }
  for (const auto& [out, value] : feeds) {
    if (!out.valid() || out.node->op() != "Placeholder") {
      return absl::InvalidArgumentError(
          absl::StrCat("only placeholders can be fed; got ", out.valid() ? out.node->Describe() : "an invalid Output"));
    }
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<const Node*> order, Schedule(graph_, fetches, targets));

  // Graph rewrites first; the passes after them see the rewritten graph.
  auto plan = std::make_unique<Plan>();
  std::vector<Output> plan_fetches = fetches;
  std::vector<Node*> plan_targets = targets;
  if (!options_.reference_float64) {
    STRATA_ASSIGN_OR_RETURN(plan->rewrite,
                            SimplifyGraph(order, options_.passes, [this](const Node& n, const std::vector<Tensor>& in) {
                              return RunAlone(n, in);
                            }));
  }
  if (plan->rewrite.graph != nullptr) {
    for (Output& o : plan_fetches) o = plan->rewrite.Map(o);
    for (Node*& t : plan_targets) t = plan->rewrite.Map(t);
    STRATA_ASSIGN_OR_RETURN(order, Schedule(*plan->rewrite.graph, plan_fetches, plan_targets));
  }
  const Graph& graph = plan->rewrite.graph != nullptr ? *plan->rewrite.graph : graph_;
  std::unordered_set<const Node*> fed;
  for (const auto& [out, value] : feeds) fed.insert(plan->rewrite.Map(out.node));

  const Fusions fusions =
      options_.reference_float64 ? Fusions{} : FindFusions(order, plan_fetches, options_.passes, training);

  const bool keep_layouts = !options_.reference_float64 && options_.passes.keep_layouts;
  const std::set<std::pair<const Node*, int>> blockable =
      keep_layouts ? BlockableValues(order, plan_fetches, fusions) : std::set<std::pair<const Node*, int>>{};

  // Weights kept in their convolution's layout: the Conv2D's kernel writes
  // the layout it chose into the variable's entry of plan->layouts, which
  // its gradient's kernel reads.
  std::unordered_map<const Node*, const KeptWeights*> kept_by_node;  // by Conv2D and Conv2DBackpropFilter
  std::set<const Node*> kept_values;  // the weights, slots and gradients
  const std::vector<KeptWeights> kept = keep_layouts && options_.passes.keep_weight_layouts
                                            ? FindKeptWeights(order, plan_fetches)
                                            : std::vector<KeptWeights>{};
  for (const KeptWeights& k : kept) {
    kept_by_node[k.conv] = kept_by_node[k.gradient] = &k;
    kept_values.insert({k.variable, k.gradient});
    kept_values.insert(k.slots.begin(), k.slots.end());
  }

  for (const Node* n : order) {
    if (!n->def().writes_inputs) continue;
    (n->def().writes_only_when_training ? plan->updates_variables_when_training : plan->updates_variables) = true;
  }
  plan->values.resize(graph.num_nodes());
  plan->layouts.resize(graph.num_nodes());
  MemoryPlan memory;
  if (!options_.reference_float64 && options_.passes.plan_memory) {
    memory = PlanMemory(order, plan_fetches, fusions);
    uint8_t* arena = static_cast<uint8_t*>(std::aligned_alloc(64, std::max<int64_t>(64, memory.arena_bytes)));
    if (arena == nullptr) throw std::bad_alloc();
    std::memset(arena, 0, std::max<int64_t>(64, memory.arena_bytes));  // deterministic first run
    plan->arena = std::shared_ptr<uint8_t>(arena, [](uint8_t* p) { std::free(p); });
  }
  plan->memory.arena_bytes = memory.arena_bytes;
  plan->memory.unshared_bytes = memory.unshared_bytes;
  std::unordered_map<const Node*, std::vector<const Node*>> fused_nodes;  // by the node they are fused into
  for (const Node* n : order) {
    if (auto f = fusions.fused_into.find(n); f != fusions.fused_into.end()) fused_nodes[f->second].push_back(n);
  }
  std::unordered_set<const Node*> masked_batch_norms;  // that write a ReLU mask for their gradient
  for (const auto& [grad, f] : fusions.relu_grad_into) masked_batch_norms.insert(f.batch_norm);
  // Sources first: a kernel may read values its node does not (a folded
  // batch norm's parameters), scheduled after it.
  std::vector<const Node*> build_order = order;
  std::stable_partition(build_order.begin(), build_order.end(),
                        [](const Node* n) { return n->def().is_source; });
  for (const Node* n : build_order) {
    std::vector<Tensor>& outs = plan->values[n->id()];
    std::vector<LayoutRef>& out_layouts = plan->layouts[n->id()];
    out_layouts.resize(n->num_outputs());
    const OpDef& def = n->def();
    if (fusions.fused_into.count(n)) continue;  // bound with the node it is fused into
    if (fusions.absorbed.count(n)) continue;    // another kernel computes it (Fusions::absorbed)
    if (def.is_source) {
      if (n->op() == "Placeholder") {
        if (!fed.count(n)) {
          return absl::FailedPreconditionError(absl::StrCat("placeholder '", n->name(), "' (",
                                                            n->output_spec(0).ToString(), ") must be fed"));
        }
        outs.emplace_back(ExecutionType(n->output_spec(0).dtype, options_), n->output_spec(0).shape);
        plan->placeholders[n] = &outs[0];
      } else if (n->op() == "Const") {
        STRATA_ASSIGN_OR_RETURN(Tensor v, n->Attr<Tensor>("value"));
        outs.push_back(v.CastTo(ExecutionType(v.dtype(), options_)));
      } else if (n->op() == "Variable") {
        auto v = options_.reference_float64 ? store_->Get(n->name()) : store_->Storage(n->name());
        if (!v.ok()) {
          return absl::FailedPreconditionError(absl::StrCat("variable '", n->name(),
                                                            "' has no value: initialize the variables or "
                                                            "load a checkpoint first"));
        }
        if (v->spec() != n->output_spec(0)) {
          return absl::FailedPreconditionError(absl::StrCat("variable '", n->name(), "' holds ",
                                                            v->spec().ToString(), " but the graph declares ",
                                                            n->output_spec(0).ToString()));
        }
        outs.push_back(options_.reference_float64 ? v->CastTo(DType::kFloat64) : *v);
        if (!options_.reference_float64) plan->variables.push_back(n);
      } else {
        return absl::InternalError(absl::StrCat("unknown source op ", n->op()));
      }
      continue;
    }
    Plan::Step step{n, nullptr, {}};
    std::vector<TensorSpec> in_specs, out_specs;
    std::vector<LayoutRef> in_layouts;
    std::vector<bool> in_constant;
    // The node's inputs, then those of what is fused into it (its epilogue).
    std::vector<Output> inputs = n->inputs();
    KernelBuildContext::Epilogue epilogue;
    if (auto f = fusions.epilogue_of.find(n); f != fusions.epilogue_of.end()) {
      const ConvEpilogue& e = f->second;
      if (e.batch_norm != nullptr) {
        epilogue.batch_norm = true;
        STRATA_ASSIGN_OR_RETURN(epilogue.batch_norm_epsilon, e.batch_norm->Attr<double>("epsilon"));
        for (int i = 1; i <= 4; ++i) inputs.push_back(e.batch_norm->inputs()[i]);
      }
      if (e.residual.valid()) {
        epilogue.residual = true;
        epilogue.residual_in_place = e.residual_in_place;
        inputs.push_back(e.residual);
      }
      epilogue.relu = e.relu;
    }
    // A batch norm's gradient that applies its fused ReLU's gradient: from
    // that gradient's input, through the mask the batch norm left.
    if (auto f = fusions.relu_grad_into.find(n); f != fusions.relu_grad_into.end()) {
      inputs[0] = f->second.relu_grad->inputs()[0];
      inputs.push_back(Output{const_cast<Node*>(f->second.batch_norm), Fusions::kReluMaskOutput});
      epilogue.relu = true;
    }
    // A ReLU's gradient that sums its dy itself: (a, b, y).
    if (auto f = fusions.sum_into.find(n); f != fusions.sum_into.end()) {
      inputs = {f->second->inputs()[0], f->second->inputs()[1], n->inputs()[1]};
      epilogue.dy_is_sum = true;
    }
    for (const Output& in : inputs) {
      Tensor* t = &plan->values[in.node->id()][in.index];
      step.ctx.inputs.push_back(t);
      in_specs.push_back(t->spec());
      in_layouts.push_back(plan->layouts[in.node->id()][in.index]);
      const std::string& op = in.node->op();
      in_constant.push_back(op == "Const" || (op == "Variable" && !plan->updates_variables));
      const int i = static_cast<int>(in_layouts.size()) - 1;
      if (in_layouts.back() != nullptr && i < static_cast<int>(n->inputs().size()) && !TakesBlockedInput(*n, i) &&
          !kept_values.count(in.node)) {
        return absl::InternalError(absl::StrCat("the layout pass left input ", i, " of ", n->Describe(),
                                                " blocked, which it must read plain"));
      }
    }
    for (int i = 0; i < n->num_outputs(); ++i) {
      TensorSpec spec = n->output_spec(i);
      spec.dtype = ExecutionType(spec.dtype, options_);
      out_specs.push_back(spec);
    }
    if (def.aliases_input) {
      outs.push_back(step.ctx.inputs[0]->Reshaped(out_specs[0].shape));
      continue;
    }
    for (int k = 0; k < static_cast<int>(out_specs.size()); ++k) {
      auto at = memory.offsets.find({n, k});
      if (epilogue.residual_in_place && k == 0) {
        outs.push_back(*step.ctx.inputs.back());  // written over the residual (the last input)
      } else if (at != memory.offsets.end()) {
        outs.push_back(Tensor::View(out_specs[k], plan->arena, at->second));
      } else {
        outs.emplace_back(out_specs[k]);
      }
    }
    if (masked_batch_norms.count(n)) {
      const TensorSpec mask{DType::kUInt8, Shape{Fusions::ReluMaskBytes(*n)}};
      auto at = memory.offsets.find({n, Fusions::kReluMaskOutput});
      outs.push_back(at != memory.offsets.end() ? Tensor::View(mask, plan->arena, at->second) : Tensor(mask));
      out_specs.push_back(mask);
      out_layouts.resize(outs.size());
    }
    for (Tensor& t : outs) step.ctx.outputs.push_back(&t);
    const KernelFactory& factory = options_.reference_float64 ? def.reference_kernel : def.kernel;
    if (!factory) {
      return absl::UnimplementedError(absl::StrCat(n->Describe(), " has no ",
                                                   options_.reference_float64 ? "float64 reference " : "",
                                                   "kernel"));
    }
    KernelBuildContext build{*n, std::move(in_specs), std::move(out_specs), device_.get(), epilogue};
    build.input_layouts = std::move(in_layouts);
    for (int k = 0; k < n->num_outputs(); ++k) build.output_may_be_blocked.push_back(blockable.count({n, k}) > 0);
    build.output_layouts = &out_layouts;
    build.input_is_constant = std::move(in_constant);
    build.winograd = !options_.reference_float64 && options_.passes.winograd;
    const auto kept_here = kept_by_node.find(n);
    if (kept_here != kept_by_node.end()) build.kept_weights_layout = &plan->layouts[kept_here->second->variable->id()][0];
    auto kernel = factory(build);
    if (kernel.ok() && def.layouts == LayoutSupport::kElementwise && keep_layouts) {
      kernel = onednn::InCommonLayout(build, std::move(kernel).value());
    }
    if (!kernel.ok()) {
      return absl::Status(kernel.status().code(),
                          absl::StrCat("building the kernel of ", n->Describe(), ": ", kernel.status().message()));
    }
    step.kernel = std::move(kernel).value();
    plan->steps.push_back(std::move(step));
    if (kept_here != kept_by_node.end() && kept_here->second->conv == n) {
      // The slots are stored in the layout the convolution chose for the weights.
      const KeptWeights& k = *kept_here->second;
      for (const Node* slot : k.slots) plan->layouts[slot->id()][0] = plan->layouts[k.variable->id()][0];
    }
    // What is fused into this node is computed by its kernel: those nodes
    // share its buffer and layout, and run nothing. They are bound now, not
    // at their place in the schedule, because a later kernel may read them
    // before that (a residual computed by an earlier convolution).
    for (const Node* f : fused_nodes[n]) {
      plan->values[f->id()].push_back(outs[0]);
      plan->layouts[f->id()].resize(f->num_outputs());
      plan->layouts[f->id()][0] = out_layouts[0];
    }
  }
  Plan* raw = plan.get();
  plans_[key] = std::move(plan);
  return raw;
}

std::vector<PlanMemoryStats> Session::plan_memory() const {
  std::vector<PlanMemoryStats> stats;
  for (const auto& [key, plan] : plans_) stats.push_back(plan->memory);
  return stats;
}

int64_t Session::scratch_bytes() const { return static_cast<int64_t>(device_->scratch.capacity()); }

int64_t Session::held_bytes() const {
  int64_t bytes = 0;
  for (const auto& [key, plan] : plans_) {
    for (const Plan::Step& step : plan->steps) bytes += step.kernel->held_bytes();
  }
  return bytes;
}

absl::StatusOr<std::vector<Tensor>> Session::RunAlone(const Node& node, const std::vector<Tensor>& inputs) {
  Graph g;
  std::vector<Output> constants;
  for (size_t i = 0; i < inputs.size(); ++i) {
    constants.push_back(ops::Const(g, inputs[i], absl::StrCat(node.name(), "/input", i)));
  }
  STRATA_ASSIGN_OR_RETURN(Node * alone, g.AddNodeExact(node.def(), node.name(), constants, node.attrs(), {}));
  SessionOptions options = options_;
  options.passes.fold_constants = options.passes.merge_duplicates = false;
  STRATA_ASSIGN_OR_RETURN(auto session, Create(g, options));
  std::vector<Output> outputs;
  for (int k = 0; k < alone->num_outputs(); ++k) outputs.push_back(alone->output(k));
  return session->Run({}, outputs);
}

absl::StatusOr<Plan*> Session::GetPlanOrOutOfMemory(const Feeds& feeds, const std::vector<Output>& fetches,
                                                    const std::vector<Node*>& targets, bool training) {
  try {
    return GetPlan(feeds, fetches, targets, training);
  } catch (const std::bad_alloc&) {
    // A tensor of the plan (an output buffer, a cast) did not fit in memory:
    // name the graph's largest output, the likeliest culprit.
    const Node* largest = nullptr;
    int64_t largest_bytes = -1;
    for (const auto& node : graph_.nodes()) {
      for (int i = 0; i < node->num_outputs(); ++i) {
        const TensorSpec& spec = node->output_spec(i);
        const int64_t bytes = spec.shape.num_elements() * SizeOf(spec.dtype);
        if (bytes > largest_bytes) {
          largest_bytes = bytes;
          largest = node.get();
        }
      }
    }
    return absl::ResourceExhaustedError(absl::StrCat(
        "out of memory allocating the tensors of this run; the graph's largest output is ",
        largest != nullptr ? largest->Describe() : "none", " (", largest_bytes, " bytes)"));
  }
}

absl::Status Session::Prepare(const Feeds& feeds, const std::vector<Output>& fetches,
                              const std::vector<Node*>& targets, bool training) {
  return GetPlanOrOutOfMemory(feeds, fetches, targets, training).status();
}

absl::StatusOr<std::vector<Tensor>> Session::Run(const Feeds& feeds, const std::vector<Output>& fetches,
                                                 const std::vector<Node*>& targets, const RunOptions& options,
                                                 Profile* profile) {
  STRATA_ASSIGN_OR_RETURN(Plan * plan, GetPlanOrOutOfMemory(feeds, fetches, targets, options.training));
  for (const auto& [out, value] : feeds) {
    const TensorSpec& declared = out.node->output_spec(0);
    bool dtype_ok = value.dtype() == declared.dtype ||
                    (options_.reference_float64 && declared.dtype == DType::kFloat32 &&
                     value.dtype() == DType::kFloat64);
    if (!value.valid() || !dtype_ok || value.shape() != declared.shape) {
      return absl::InvalidArgumentError(absl::StrCat("placeholder '", out.node->name(), "' expects ",
                                                     declared.ToString(), ", fed ",
                                                     value.valid() ? value.spec().ToString() : "an empty tensor"));
    }
    auto fed = plan->placeholders.find(plan->rewrite.Map(out.node));
    if (fed == plan->placeholders.end()) continue;  // not needed by this run
    Tensor* dst = fed->second;
    if (value.dtype() == dst->dtype()) {
      std::memcpy(dst->raw_data(), value.raw_data(), value.num_bytes());
    } else {
      Tensor converted = value.CastTo(dst->dtype());
      std::memcpy(dst->raw_data(), converted.raw_data(), converted.num_bytes());
    }
  }
  for (const Node* v : plan->variables) STRATA_RETURN_IF_ERROR(store_->SetLayout(v->name(), plan->layouts[v->id()][0]));
  if (profile != nullptr) profile->BeginRun();
  const uint64_t generation = store_->generation();
  for (Plan::Step& step : plan->steps) {
    step.ctx.options = &options;
    step.ctx.variables_generation = generation;
    absl::Status s;
    const auto start = profile != nullptr ? Profile::Clock::now() : Profile::Clock::time_point();
    const int64_t reorders = profile != nullptr ? onednn::ReordersExecuted() : 0;
    try {
      s = step.kernel->Run(step.ctx);
    } catch (const dnnl::error& e) {
      s = onednn::FromDnnlError(e, step.node->Describe());
    }
    if (profile != nullptr) {
      device_->stream.wait();  // so the time is this op's alone
      profile->Record(step.node->name(), step.node->op(), start, Profile::Clock::now(),
                      onednn::ReordersExecuted() - reorders);
    }
    if (!s.ok()) {
      if (plan->MayWriteVariables(options.training)) store_->MarkWritten();  // some may have run
      return absl::Status(s.code(), absl::StrCat("running ", step.node->Describe(), ": ", s.message()));
    }
  }
  device_->stream.wait();
  if (plan->MayWriteVariables(options.training)) store_->MarkWritten();
  std::vector<Tensor> results;
  results.reserve(fetches.size());
  for (const Output& fetch : fetches) {
    const Output o = plan->rewrite.Map(fetch);
    results.push_back(plan->values[o.node->id()][o.index].Clone());
  }
  return results;
}

}  // namespace strata::runtime
