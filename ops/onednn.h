// The one place that touches oneDNN's engine, stream and memory descriptors.
// Kernels use these helpers; dnnl::error never escapes: it becomes a Status.
#ifndef STRATA_OPS_ONEDNN_H_
#define STRATA_OPS_ONEDNN_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "graph/op_def.h"
#include "graph/tensor.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace strata {
namespace onednn {

// Memory a kernel needs only while it runs (the copies its layout bridges
// reorder through, oneDNN's scratchpads). A session runs one kernel at a
// time, so all its kernels share one buffer as large as the largest need,
// instead of each holding its own for the session's lifetime.
class SharedScratch {
 public:
  // A 64-byte aligned buffer of at least `bytes`, valid until the next call
  // (which may move it: callers bind it anew on every run).
  uint8_t* Get(size_t bytes);
  // Grows the buffer to at least `bytes` now: kernels reserve what they will
  // get when they are built, so a plan's memory is known before it runs.
  void Reserve(size_t bytes) { Get(bytes); }
  size_t capacity() const { return capacity_; }

 private:
  struct Free {
    void operator()(uint8_t* p) const;
  };
  std::unique_ptr<uint8_t, Free> buffer_;
  size_t capacity_ = 0;
};

// Places a kernel's scratch regions side by side (each 64-byte aligned):
// they are all in use during one run.
class ScratchLayout {
 public:
  size_t Add(size_t bytes);  // the region's offset
  size_t total() const { return total_; }

 private:
  size_t total_ = 0;
};

}  // namespace onednn

// A blocked layout a plan keeps a tensor in (graph/op_def.h): always of the
// tensor's own dims, and never larger than the plain tensor, so that its
// buffer, memory plan and element-by-element kernels are the same.
struct TensorLayout {
  dnnl::memory::desc desc;
};

// One engine and one stream per Session, and the scratch its kernels share.
struct DeviceContext {
  DeviceContext() : engine(dnnl::engine::kind::cpu, 0), stream(engine) {}
  dnnl::engine engine;
  dnnl::stream stream;
  onednn::SharedScratch scratch;
};

namespace onednn {

using dnnl::memory;

// dnnl_unimplemented -> Unimplemented, bad arguments -> InvalidArgument,
// anything else -> Internal; `what` names the node and primitive.
absl::Status FromDnnlError(const dnnl::error& e, absl::string_view what);

// Runs fn() and converts a dnnl::error into a Status.
template <typename F>
absl::Status Guard(absl::string_view what, F&& fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const dnnl::error& e) {
    return FromDnnlError(e, what);
  }
}

memory::dims Dims(const Shape& shape);
// The plain row-major layout of this shape (nchw for 4-D, nc for 2-D, ...).
memory::format_tag PlainTag(int rank);
memory::data_type DataType(DType dtype);
memory::desc PlainDesc(const TensorSpec& spec);
// Wraps the tensor's storage; the Tensor must outlive the memory.
memory Wrap(Tensor& t, const dnnl::engine& engine);
memory Wrap(Tensor& t, const memory::desc& desc, const dnnl::engine& engine);

// The layout input i of the kernel is stored in: blocked where the plan's
// layout pass left it so (KernelBuildContext::input_layouts), else plain.
memory::desc InputDesc(const KernelBuildContext& b, int i);
bool InputIsBlocked(const KernelBuildContext& b, int i);
// The layout to store output i in, given the one the kernel's primitive
// works in: that one where the plan allows a blocked output and it has the
// tensor's dims and size (the kernel then reports it to the plan), plain
// otherwise. Kernels bridge from what they work in to what this returns.
memory::desc OutputDesc(const KernelBuildContext& b, int i, const memory::desc& working);

// For ops of LayoutSupport::kElementwise: runs `inner` (a kernel that sees
// every tensor as a flat vector) with all inputs in one layout, the first
// blocked input's where the plan allows the output to be blocked, else
// plain; inputs stored otherwise are reordered into copies first. The output
// is stored in that layout.
absl::StatusOr<std::unique_ptr<Kernel>> InCommonLayout(const KernelBuildContext& b, std::unique_ptr<Kernel> inner);

// Layout reorders executed by LayoutBridges so far in this process (all
// threads): the profiler reports them per op, because each one is a copy the
// graph compiler should remove.
int64_t ReordersExecuted();

// Connects a tensor stored in one layout (plain, or blocked by the plan) to
// an argument whose layout the primitive chose (format_tag::any). Build
// once; on each run it either hands the primitive the tensor's own memory or
// reorders through a scratch buffer.
class LayoutBridge {
 public:
  LayoutBridge() = default;
  LayoutBridge(const memory::desc& stored, const memory::desc& chosen, const dnnl::engine& engine);
  bool needs_reorder() const { return needs_reorder_; }
  // The kept copy's bytes (KeepCopy), 0 for a copy in the shared scratch.
  int64_t held_bytes() const { return keep_copy_ ? static_cast<int64_t>(scratch_.get_desc().get_size()) : 0; }
  // The reorder's copy lives in the kernel's shared scratch: Place reserves
  // its region in the kernel's layout (at build), Bind points it into the
  // scratch buffer (at every run, before In or Out).
  void Place(ScratchLayout& layout);
  void Bind(uint8_t* scratch_base);
  // For an input that changes only with the variables' generation (weights
  // in an inference plan): the reordered copy gets memory of its own (call
  // before Place) and is reordered again only when the generation or the
  // tensor's storage changes, not on every run.
  void KeepCopy();
  // For primitive inputs: the memory to pass, reordered from `t` if needed.
  memory In(Tensor& t, dnnl::stream& stream, uint64_t variables_generation = 0);
  // For primitive outputs: the memory the primitive writes...
  memory Out(Tensor& t);
  // ...and, after execute, copies it into `t` if needed.
  void Finish(Tensor& t, dnnl::stream& stream);

 private:
  bool needs_reorder_ = false;
  bool keep_copy_ = false;
  // With keep_copy_: scratch_ holds the tensor at copied_from_ (null: nothing
  // yet) as it was at copied_generation_.
  const void* copied_from_ = nullptr;
  uint64_t copied_generation_ = 0;
  size_t offset_ = 0;  // of the copy in the kernel's scratch
  memory::desc stored_;
  dnnl::engine engine_;
  memory scratch_;
  dnnl::reorder to_chosen_, to_stored_;  // built once, executed per run
};

// The bytes of the uint8 tensor that carries a forward primitive's workspace
// to its backward (pooling, LRN): the workspace, or one unused byte when the
// implementation keeps none (tensors cannot be empty).
int64_t WorkspaceTensorBytes(const memory::desc& ws);
// Internal error naming the node when the workspace tensor (sized by the
// shape function) differs from what this engine's primitive uses.
absl::Status CheckWorkspace(const KernelBuildContext& b, const TensorSpec& tensor, const memory::desc& ws);

// A oneDNN primitive whose arguments are the node's tensors in fixed
// layouts: the factory builds everything, Run only wraps storage and executes.
class PrimitiveKernel : public Kernel {
 public:
  struct Arg {
    int dnnl_arg;
    bool is_output;
    int index;  // into the node's inputs or outputs
    memory::desc desc;
  };
  PrimitiveKernel(DeviceContext* device, dnnl::primitive primitive, std::vector<Arg> args)
      : device_(device), primitive_(std::move(primitive)), args_(std::move(args)) {}
  absl::Status Run(KernelRunContext& ctx) override;

 private:
  DeviceContext* device_;
  dnnl::primitive primitive_;
  std::vector<Arg> args_;
  std::unordered_map<int, memory> bound_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakePrimitiveKernel(DeviceContext* device, dnnl::primitive p,
                                                            std::vector<PrimitiveKernel::Arg> args);

// One primitive whose data arguments each pass through a LayoutBridge (the
// primitive chose their layouts with format_tag::any); an optional workspace
// (pooling, LRN) is bound as the bytes it is. Build in a Guard.
class BridgedKernel : public Kernel {
 public:
  explicit BridgedKernel(DeviceContext* device) : device_(device) {}

  // Node input `index` (stored in `stored`) feeds primitive argument `arg`;
  // `keep_copy`: see LayoutBridge::KeepCopy.
  void AddInput(int arg, int index, const memory::desc& stored, const memory::desc& chosen,
                bool keep_copy = false);
  // Node output `index` (stored in `stored`) receives primitive argument `arg`.
  void AddOutput(int arg, int index, const memory::desc& stored, const memory::desc& chosen);
  // An argument bound to the same memory on every run (the kernel owns it).
  void BindFixed(int arg, const memory& m) { args_[arg] = m; }
  // Runs just before the primitive, with its arguments bound (a sum
  // post-op's operand is copied into the destination then).
  using PreExecute =
      std::function<void(KernelRunContext&, const std::unordered_map<int, memory>&, dnnl::stream&)>;
  void SetPreExecute(PreExecute f) { pre_execute_ = std::move(f); }
  // The workspace is node input (`is_input`) or output `index`; none if empty.
  void SetWorkspace(bool is_input, int index, const memory::desc& ws);
  // The scratchpad (the primitive's attr must ask for a user scratchpad)
  // and the bridges' copies come from the device's shared scratch. Call last.
  void SetPrimitive(dnnl::primitive p, const memory::desc& scratchpad);
  absl::Status Run(KernelRunContext& ctx) override;
  int64_t held_bytes() const override;

 private:
  struct Arg {
    int arg;
    int index;
    LayoutBridge bridge;
  };
  struct Workspace {
    bool is_input = false;
    int index = -1;
    memory::desc desc;
  };
  DeviceContext* device_;
  std::vector<Arg> inputs_, outputs_;
  Workspace workspace_;
  dnnl::primitive primitive_;
  PreExecute pre_execute_;
  memory scratchpad_;  // bound into the shared scratch at each run
  size_t scratchpad_offset_ = 0;
  ScratchLayout scratch_;
  std::unordered_map<int, memory> args_;
};

}  // namespace onednn
}  // namespace strata

#endif  // STRATA_OPS_ONEDNN_H_
