// Everything about one op in one value: signature, attribute defaults, shape
// function, kernels and gradient rule. Families (ops/conv.cc, ops/nn.cc, ...)
// build OpDefs and add them to the explicit registry in ops/registry.cc.
#ifndef STRATA_GRAPH_OP_DEF_H_
#define STRATA_GRAPH_OP_DEF_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "graph/attr.h"
#include "graph/tensor.h"

namespace strata {

class Graph;
class Node;
struct Output;
struct DeviceContext;  // oneDNN engine and stream; defined in ops/onednn.h.
// The oneDNN layout a tensor's bytes are stored in between two kernels
// (defined in ops/onednn.h); null means plain row-major. Blocked layouts are
// chosen by the plan's layout pass (runtime/layout.h), never seen by users.
struct TensorLayout;
using LayoutRef = std::shared_ptr<const TensorLayout>;

// Which input layouts an op's kernel can take. The layout pass lets a
// producer keep a blocked layout only where every reader of the value can.
enum class LayoutSupport {
  kPlainOnly,    // every input plain
  kElementwise,  // one value per element: the runtime feeds every input in
                 // one layout (used where all inputs and the output share a
                 // shape) and the kernel never looks at the layout
  kAny,          // the kernel reads KernelBuildContext::input_layouts itself
};

// Shape inference: reads the input specs and attributes, sets every output.
class InferenceContext {
 public:
  InferenceContext(const Node& node, std::vector<TensorSpec> inputs, int num_outputs);

  const Node& node() const { return node_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const TensorSpec& input(int i) const { return inputs_[i]; }
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  void set_output(int i, TensorSpec spec) { outputs_[i] = std::move(spec); }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }

  // An attribute (defaults are already merged in), errors name the node.
  template <typename T>
  absl::StatusOr<T> Attr(const std::string& name) const;

  // InvalidArgument: "<op> node '<name>': <message> (inputs: float32[..], ...)".
  absl::Status Error(absl::string_view message) const;
  // Checks input i has this rank / dtype, with an Error otherwise.
  absl::Status ExpectRank(int i, int rank) const;
  absl::Status ExpectDType(int i, DType dtype) const;

 private:
  const Node& node_;
  std::vector<TensorSpec> inputs_;
  std::vector<TensorSpec> outputs_;
};

// What a gradient rule sees: the forward node and the gradient of each of its
// outputs (an invalid Output where no gradient flows into that output).
struct GradientContext {
  Graph& graph;
  const Node& node;
  std::vector<Output> output_grads;
};
// Returns one gradient per input: an invalid Output where none exists.
using GradientFn = std::function<absl::StatusOr<std::vector<Output>>(GradientContext&)>;

// Per-run options kernels may read.
struct RunOptions {
  bool training = false;  // dropout and batch norm behave accordingly
  uint64_t seed = 0;      // for random ops: combined with the step
  int64_t step = 0;
};

struct KernelRunContext {
  std::vector<Tensor*> inputs;   // ops that write_inputs may modify these
  std::vector<Tensor*> outputs;  // preallocated with the inferred specs
  const RunOptions* options = nullptr;
  // Changes whenever a variable's value may have changed (VariableStore):
  // what a kernel derived from a KernelBuildContext::input_is_constant input
  // (a reordered copy of the weights) stays valid while it does not.
  uint64_t variables_generation = 0;
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  virtual absl::Status Run(KernelRunContext& ctx) = 0;
  // Memory the kernel holds between runs (weights it keeps reordered or
  // folded): part of the plan's predicted peak.
  virtual int64_t held_bytes() const { return 0; }
};

// Given the node and the static specs, builds what the kernel needs once
// (oneDNN primitives, scratch buffers) so that Run only binds and executes.
struct KernelBuildContext {
  const Node& node;
  std::vector<TensorSpec> inputs;
  std::vector<TensorSpec> outputs;
  DeviceContext* device;
  // Set by the plan's fusion pass (runtime/fusion.h) for a Conv2D: what its
  // kernel applies to the output, in this order (for a BatchNorm or an Add,
  // only the ReLU). The inputs of a folded
  // batch norm (gamma, beta, running mean, running variance), then the
  // residual, follow the node's own inputs here and in KernelRunContext.
  struct Epilogue {
    bool batch_norm = false;
    double batch_norm_epsilon = 0;
    bool residual = false;
    // The output shares the residual's buffer (runtime/fusion.h
    // ConvEpilogue::residual_in_place): accumulate onto it, copy nothing.
    bool residual_in_place = false;
    bool relu = false;
    // For an EltwiseGrad: dy is the sum of inputs 0 and 1 (the plan fused
    // the Add before it); the forward value is input 2.
    bool dy_is_sum = false;
    bool any() const { return batch_norm || residual || relu; }
  } epilogue;
  // Set by the layout pass for kernels of LayoutSupport::kAny: the layout
  // each input is stored in (empty or null entries: plain), which outputs
  // may be left in the layout the kernel's primitive prefers, and where the
  // kernel reports the layout it stores each output in (null: plain).
  std::vector<LayoutRef> input_layouts;
  std::vector<bool> output_may_be_blocked;
  std::vector<LayoutRef>* output_layouts = nullptr;
  // Convolution weights the plan keeps in their convolution's layout across
  // training steps (runtime/layout.h FindKeptWeights): a Conv2D reports the
  // layout its primitive works in here (null: plain) and reads the weights
  // in it; a Conv2DBackpropFilter stores dw in the layout found here.
  LayoutRef* kept_weights_layout = nullptr;
  // Convolutions may use oneDNN's Winograd algorithm where it pays
  // (runtime/fusion.h PassOptions::winograd).
  bool winograd = false;
  // Inputs whose values change only with KernelRunContext::variables_generation:
  // constants, and variables in a plan that updates none (inference).
  std::vector<bool> input_is_constant;
  template <typename T>
  absl::StatusOr<T> Attr(const std::string& name) const;
};
using KernelFactory = std::function<absl::StatusOr<std::unique_ptr<Kernel>>(const KernelBuildContext&)>;
using ShapeFn = std::function<absl::Status(InferenceContext&)>;

struct OpDef {
  explicit OpDef(std::string op_name) : name(std::move(op_name)) {}

  std::string name;
  int num_inputs = 0;   // -1: any number >= 1
  int num_outputs = 1;
  AttrMap attr_defaults;                // optional attributes and their defaults
  std::vector<std::string> required_attrs;
  ShapeFn shape_fn;
  KernelFactory kernel;            // float32; oneDNN where it has a primitive
  KernelFactory reference_kernel;  // naive float64 loops, for the gradient checker
  GradientFn gradient;
  bool no_gradient = false;   // deliberately not differentiable (ArgMax, updates)
  bool writes_inputs = false; // updates input tensors in place (optimizer steps)
  bool writes_only_when_training = false;  // ...in training runs only (batch norm's statistics)
  bool aliases_input = false; // output 0 is a view of input 0 (Reshape)
  bool is_source = false;     // Placeholder, Const, Variable: bound by the runtime
  // Outputs depend on more than the inputs and attributes (the run's seed,
  // step or mode, the node's name): never folded or merged with a twin
  // (runtime/simplify.h).
  bool stateful = false;
  LayoutSupport layouts = LayoutSupport::kPlainOnly;
  std::vector<int> plain_inputs;  // kAny ops: inputs always read plain (weights)
  // Optimizer steps: input 0 (a variable) is updated element by element from
  // input 1 (its gradient) and the inputs of its spec (slots), so these may
  // all be stored in any one layout (weights kept in a convolution's).
  bool elementwise_update = false;
  std::string doc;

  // Fluent construction, as the family files read best.
  OpDef& Inputs(int n) { num_inputs = n; return *this; }
  OpDef& Outputs(int n) { num_outputs = n; return *this; }
  OpDef& Attr(const std::string& attr, AttrValue default_value) {
    attr_defaults.Set(attr, std::move(default_value));
    return *this;
  }
  OpDef& RequiredAttr(const std::string& attr) { required_attrs.push_back(attr); return *this; }
  OpDef& Shape(ShapeFn fn) { shape_fn = std::move(fn); return *this; }
  OpDef& Kernel(KernelFactory f) { kernel = std::move(f); return *this; }
  OpDef& ReferenceKernel(KernelFactory f) { reference_kernel = std::move(f); return *this; }
  OpDef& Gradient(GradientFn fn) { gradient = std::move(fn); return *this; }
  OpDef& NoGradient() { no_gradient = true; return *this; }
  OpDef& WritesInputs() { writes_inputs = true; return *this; }
  OpDef& WritesInputsWhenTraining() {
    writes_inputs = writes_only_when_training = true;
    return *this;
  }
  OpDef& ElementwiseUpdate() { elementwise_update = true; return *this; }
  OpDef& AliasesInput() { aliases_input = true; return *this; }
  OpDef& Source() { is_source = true; return *this; }
  OpDef& Stateful() { stateful = true; return *this; }
  OpDef& Layouts(LayoutSupport support, std::vector<int> plain = {}) {
    layouts = support;
    plain_inputs = std::move(plain);
    return *this;
  }
  OpDef& Doc(std::string text) { doc = std::move(text); return *this; }
};

}  // namespace strata

#endif  // STRATA_GRAPH_OP_DEF_H_
