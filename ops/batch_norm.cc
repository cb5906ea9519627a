// Batch normalisation. oneDNN kernels: batch_normalization forward and
// backward, each built once per mode (batch statistics for training runs,
// global statistics for inference runs) and chosen per run from
// RunOptions.training, working in a channel-blocked layout where that gets a
// jit implementation (see ChooseLayouts). Reference kernels: per-channel
// loops in double.
//
// The forward node has outputs (y, saved_mean, saved_var): the statistics the
// run actually normalised with, so that BatchNormGrad (which runs in the same
// Session::Run, with the same RunOptions) differentiates the same function in
// both modes. saved_var is the biased variance, as oneDNN takes it back.
#include "ops/batch_norm.h"

#include <algorithm>
#include <initializer_list>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::normalization_flags;
using dnnl::prop_kind;
using onednn::memory;

// Sessions always set the options; a kernel run without them is an inference.
bool Training(const KernelRunContext& ctx) { return ctx.options != nullptr && ctx.options->training; }

struct BnAttrs {
  double epsilon = 1e-5;
  double momentum = 0.1;
};

template <typename Context>
absl::StatusOr<BnAttrs> ReadAttrs(const Context& c) {
  BnAttrs a;
  STRATA_ASSIGN_OR_RETURN(a.epsilon, c.template Attr<double>("epsilon"));
  STRATA_ASSIGN_OR_RETURN(a.momentum, c.template Attr<double>("momentum"));
  return a;
}

// x as (N, C, S): S = H*W for [N,C,H,W], 1 for [N,C]. Channel c of example n
// is the S contiguous values at (n*C + c)*S.
struct Geometry {
  int64_t n, c, s;
  int64_t per_channel() const { return n * s; }
};

Geometry GeometryOf(const Shape& x) { return {x[0], x[1], x.rank() == 4 ? x[2] * x[3] : 1}; }

// The unbiased variance needs two values per channel; PyTorch refuses too.
absl::Status CheckTrainable(const Geometry& g) {
  if (g.per_channel() >= 2) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "training needs more than one value per channel to estimate the variance, got N*H*W = ", g.per_channel()));
}

// running = (1 - momentum) * running + momentum * batch, with the batch
// variance made unbiased (x M/(M-1)) as PyTorch stores it. T is float for the
// oneDNN kernel and double for the reference one.
template <typename T>
void UpdateRunningStats(KernelRunContext& ctx, const Geometry& g, double momentum) {
  T* running_mean = ctx.inputs[3]->data<T>();
  T* running_var = ctx.inputs[4]->data<T>();
  const T* mean = Out<T>(ctx, 1);
  const T* var = Out<T>(ctx, 2);
  const double m = static_cast<double>(g.per_channel());
  const double unbias = m / (m - 1);
  for (int64_t c = 0; c < g.c; ++c) {
    running_mean[c] = static_cast<T>((1 - momentum) * running_mean[c] + momentum * mean[c]);
    running_var[c] = static_cast<T>((1 - momentum) * running_var[c] + momentum * var[c] * unbias);
  }
}

// ---------------------------------------------------------------------------
// Shape functions.

absl::Status ExpectChannelVector(InferenceContext& c, int i, const char* what, int64_t channels) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(i, DType::kFloat32));
  const Shape& s = c.input(i).shape;
  if (s.rank() == 1 && s[0] == channels) return absl::OkStatus();
  return c.Error(absl::StrCat(what, " must have one value per channel, [", channels, "], got ", s.ToString()));
}

absl::Status ExpectData(InferenceContext& c, int i, const char* what) {
  STRATA_RETURN_IF_ERROR(c.ExpectDType(i, DType::kFloat32));
  const Shape& s = c.input(i).shape;
  if (s.rank() == 4 || s.rank() == 2) return absl::OkStatus();
  return c.Error(absl::StrCat(what, " must be [N,C,H,W] or [N,C], got ", s.ToString()));
}

absl::Status CheckEpsilon(InferenceContext& c, double epsilon) {
  // A zero epsilon divides by zero on a constant channel.
  if (epsilon > 0) return absl::OkStatus();
  return c.Error(absl::StrCat("epsilon must be > 0, got ", epsilon));
}

// Inputs x, gamma, beta, running_mean, running_var.
absl::Status BatchNormShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectData(c, 0, "x"));
  const int64_t channels = c.input(0).shape[1];
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 1, "gamma", channels));
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 2, "beta", channels));
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 3, "running_mean", channels));
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 4, "running_var", channels));
  STRATA_ASSIGN_OR_RETURN(BnAttrs a, ReadAttrs(c));
  STRATA_RETURN_IF_ERROR(CheckEpsilon(c, a.epsilon));
  if (!(a.momentum >= 0 && a.momentum <= 1)) {
    return c.Error(absl::StrCat("momentum must be in [0, 1], got ", a.momentum));
  }
  const TensorSpec stats{DType::kFloat32, Shape{channels}};
  c.set_output(0, c.input(0));
  c.set_output(1, stats);
  c.set_output(2, stats);
  return absl::OkStatus();
}

// Inputs dy, x, gamma, saved_mean, saved_var; outputs dx, dgamma, dbeta.
absl::Status BatchNormGradShape(InferenceContext& c) {
  STRATA_RETURN_IF_ERROR(ExpectData(c, 1, "x"));
  if (c.input(0) != c.input(1)) return c.Error("dy and x must have the same spec");
  const int64_t channels = c.input(1).shape[1];
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 2, "gamma", channels));
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 3, "saved_mean", channels));
  STRATA_RETURN_IF_ERROR(ExpectChannelVector(c, 4, "saved_var", channels));
  STRATA_ASSIGN_OR_RETURN(double epsilon, c.Attr<double>("epsilon"));
  STRATA_RETURN_IF_ERROR(CheckEpsilon(c, epsilon));
  c.set_output(0, c.input(1));
  c.set_output(1, c.input(2));
  c.set_output(2, c.input(2));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// oneDNN kernels.

// Scratch memory is allocated once by the kernel rather than by oneDNN on
// every execution.
dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

// Separate scale and shift (oneDNN 2.3+) bind gamma and beta directly, where
// the older use_scale_shift would need them packed into a [2,C] copy.
// With `relu`, the ReLU after it is applied to the output too (the plan
// fused it: runtime/fusion.h).
normalization_flags Flags(bool training, bool relu = false) {
  normalization_flags f = normalization_flags::use_scale | normalization_flags::use_shift;
  if (!training) f |= normalization_flags::use_global_stats;
  if (relu) f |= normalization_flags::fuse_norm_relu;
  return f;
}

// The forward primitive descriptor of one mode; for training it is also the
// hint of the backward primitive. A forward_inference pd would do for the
// inference kernel, but the backward hint must be a training one.
dnnl::batch_normalization_forward::primitive_desc ForwardPd(prop_kind kind, const memory::desc& data, float epsilon,
                                                            bool training, const dnnl::engine& engine,
                                                            bool relu = false) {
  return dnnl::batch_normalization_forward::primitive_desc(
      dnnl::batch_normalization_forward::desc(kind, data, epsilon, Flags(training, relu)), UserScratchpad(), engine);
}

// The data layout the primitives work in. For plain nchw (and nc) data
// oneDNN 2.6 only has its generic C++ ncsp_bnorm; the jit kernels want
// channel-blocked nChw16c / nChw8c. Measured on AVX-512 with the reorders in
// and out included, blocked is 1.2-1.4x faster on [N,C,H,W] and 4-20x on
// [N,C] (seen as [N,C,1,1]), so the first blocked layout that gets a jit
// implementation wins, and plain is the fallback. Forward and backward
// kernels choose by the same rule, so they agree.
struct Layouts {
  memory::desc plain;   // the tensor as stored, viewed as 4-D
  memory::desc chosen;  // what the primitives use
  memory::desc stats;   // [C]
};

//
// Where the plan already stores x in a blocked layout (the convolution's
// before it), that layout is tried first, so that no reorder is needed.
Layouts ChooseLayouts(const KernelBuildContext& b, int x_index, float epsilon) {
  const Shape& s = b.inputs[x_index].shape;
  const memory::dims dims{s[0], s[1], s.rank() == 4 ? s[2] : 1, s.rank() == 4 ? s[3] : 1};
  Layouts l;
  l.plain = memory::desc(dims, memory::data_type::f32, memory::format_tag::nchw);
  l.stats = memory::desc({s[1]}, memory::data_type::f32, memory::format_tag::a);
  l.chosen = l.plain;
  std::vector<memory::desc> candidates;
  if (onednn::InputIsBlocked(b, x_index)) candidates.push_back(onednn::InputDesc(b, x_index));
  for (memory::format_tag tag : {memory::format_tag::nChw16c, memory::format_tag::nChw8c}) {
    candidates.emplace_back(dims, memory::data_type::f32, tag);
  }
  for (const memory::desc& blocked : candidates) {
    dnnl::batch_normalization_forward::primitive_desc pd(
        dnnl::batch_normalization_forward::desc(prop_kind::forward_training, blocked, epsilon, Flags(true)),
        UserScratchpad(), b.device->engine, /*allow_empty=*/true);
    if (pd && std::string(pd.impl_info_str()).find("jit") != std::string::npos) {
      l.chosen = blocked;
      break;
    }
  }
  return l;
}

// The plan sizes the tensor that carries a fused ReLU's mask from the
// forward to the backward before oneDNN is asked (runtime/fusion.h); a
// larger workspace is a bug, thrown as a dnnl::error for the kernel's Guard.
void CheckMask(const TensorSpec& mask, const memory::desc& workspace) {
  if (static_cast<int64_t>(workspace.get_size()) > mask.shape.num_elements()) {
    throw dnnl::error(dnnl_runtime_error, "the ReLU mask tensor is smaller than the primitive's workspace");
  }
}

// How data input i is stored, in the primitives' 4-D view: blocked by the
// plan, or plain.
memory::desc StoredInput(const KernelBuildContext& b, int i, const Layouts& l) {
  return onednn::InputIsBlocked(b, i) ? onednn::InputDesc(b, i) : l.plain;
}
// How data output i is stored: in the primitives' layout where the plan
// allows, else plain.
memory::desc StoredOutput(const KernelBuildContext& b, int i, const Layouts& l) {
  const memory::desc d = onednn::OutputDesc(b, i, l.chosen);
  return d == l.chosen ? d : l.plain;
}

// One primitive (of one mode) and how node tensors bind to its arguments:
// [N,C,...] data through a LayoutBridge of the kernel, [C] vectors directly.
class ModePrimitive {
 public:
  void Bind(int arg, bool is_output, int index, onednn::LayoutBridge* bridge) {
    bindings_.push_back({arg, is_output, index, bridge, {}});
  }
  void Bind(int arg, bool is_output, int index, const memory::desc& desc) {
    bindings_.push_back({arg, is_output, index, nullptr, desc});
  }
  // An argument oneDNN insists on without reading it.
  void BindFixed(int arg, memory m) { args_[arg] = std::move(m); }
  // `workspace`: what a forward training batch norm with a fused ReLU
  // writes for its backward, which here only reads its output (the ReLU's
  // gradient does): it lives in the scratch too, behind the scratchpad.
  void Init(dnnl::primitive p, const memory::desc& scratchpad, const dnnl::engine& engine,
            const memory::desc& workspace = memory::desc()) {
    primitive_ = std::move(p);
    if (scratchpad.get_size() > 0) scratchpad_ = memory(scratchpad, engine, DNNL_MEMORY_NONE);
    scratch_.Add(scratchpad.get_size());  // the scratchpad at offset 0
    if (workspace.get_size() > 0) {
      workspace_ = memory(workspace, engine, DNNL_MEMORY_NONE);
      workspace_offset_ = scratch_.Add(workspace.get_size());
    }
  }
  size_t scratch_bytes() const { return scratch_.total(); }
  // `scratch` points into the device's shared scratch, where the kernel
  // placed this mode's scratchpad and workspace; the bridges are bound
  // already.
  void Execute(KernelRunContext& ctx, DeviceContext* device, uint8_t* scratch) {
    dnnl::stream& stream = device->stream;
    if (scratchpad_) {
      scratchpad_.set_data_handle(scratch);
      args_[DNNL_ARG_SCRATCHPAD] = scratchpad_;
    }
    if (workspace_) {
      workspace_.set_data_handle(scratch + workspace_offset_);
      args_[DNNL_ARG_WORKSPACE] = workspace_;
    }
    for (const Binding& b : bindings_) {
      Tensor& t = b.is_output ? *ctx.outputs[b.index] : *ctx.inputs[b.index];
      if (b.bridge == nullptr) {
        args_[b.arg] = onednn::Wrap(t, b.desc, device->engine);
      } else {
        args_[b.arg] = b.is_output ? b.bridge->Out(t) : b.bridge->In(t, stream);
      }
    }
    primitive_.execute(stream, args_);
    for (const Binding& b : bindings_) {
      if (b.is_output && b.bridge != nullptr) b.bridge->Finish(*ctx.outputs[b.index], stream);
    }
    // Callers read what it wrote (the running-stat update) right after.
    stream.wait();
  }

 private:
  struct Binding {
    int arg;
    bool is_output;
    int index;
    onednn::LayoutBridge* bridge;  // owned by the kernel; null for [C] vectors
    memory::desc desc;
  };
  dnnl::primitive primitive_;
  memory scratchpad_, workspace_;
  onednn::ScratchLayout scratch_;  // of the scratchpad and the workspace
  size_t workspace_offset_ = 0;
  std::vector<Binding> bindings_;
  std::unordered_map<int, memory> args_;  // fixed ones stay; tensors and scratch are rebound per run
};

// The scratch of a kernel with two modes: its bridges, and one scratchpad
// region as large as either mode's (they never run together).
struct KernelScratch {
  onednn::ScratchLayout layout;
  size_t scratchpad_offset = 0;
  void Place(std::initializer_list<onednn::LayoutBridge*> bridges, const ModePrimitive& a, const ModePrimitive& b,
             DeviceContext* device) {
    for (onednn::LayoutBridge* bridge : bridges) bridge->Place(layout);
    scratchpad_offset = layout.Add(std::max(a.scratch_bytes(), b.scratch_bytes()));
    device->scratch.Reserve(layout.total());
  }
  // Binds the bridges and returns where the scratchpad goes.
  uint8_t* Bind(std::initializer_list<onednn::LayoutBridge*> bridges, DeviceContext* device) const {
    uint8_t* base = device->scratch.Get(layout.total());
    for (onednn::LayoutBridge* bridge : bridges) bridge->Bind(base);
    return base + scratchpad_offset;
  }
};

// Inputs x, gamma, beta, running_mean, running_var; outputs y, saved_mean, saved_var.
class BatchNormKernel : public Kernel {
 public:
  BatchNormKernel(DeviceContext* device, const TensorSpec& x, const BnAttrs& a)
      : device_(device), attrs_(a), geometry_(GeometryOf(x.shape)) {}

  // Builds the primitives of both modes (must run in a Guard). The bridges
  // are shared: only one mode runs at a time.
  void Build(const KernelBuildContext& b) {
    const dnnl::engine& e = device_->engine;
    const float eps = static_cast<float>(attrs_.epsilon);
    const Layouts l = ChooseLayouts(b, 0, eps);
    x_ = onednn::LayoutBridge(StoredInput(b, 0, l), l.chosen, e);
    y_ = onednn::LayoutBridge(StoredOutput(b, 0, l), l.chosen, e);
    for (bool training : {true, false}) {
      ModePrimitive& mode = training ? training_ : inference_;
      auto pd = ForwardPd(training ? prop_kind::forward_training : prop_kind::forward_inference, l.chosen, eps,
                          training, e, b.epilogue.relu);
      if (training && b.outputs.size() > 3) {
        // The plan keeps the ReLU's mask for the gradient (output 3).
        CheckMask(b.outputs[3], pd.workspace_desc());
        mode.Init(dnnl::batch_normalization_forward(pd), pd.scratchpad_desc(), e);
        mode.Bind(DNNL_ARG_WORKSPACE, true, 3, pd.workspace_desc());
      } else {
        mode.Init(dnnl::batch_normalization_forward(pd), pd.scratchpad_desc(), e, pd.workspace_desc());
      }
      mode.Bind(DNNL_ARG_SRC, false, 0, &x_);
      mode.Bind(DNNL_ARG_SCALE, false, 1, l.stats);
      mode.Bind(DNNL_ARG_SHIFT, false, 2, l.stats);
      mode.Bind(DNNL_ARG_DST, true, 0, &y_);
      // Training computes the statistics into the saved outputs; inference
      // reads the running ones.
      mode.Bind(DNNL_ARG_MEAN, training, training ? 1 : 3, l.stats);
      mode.Bind(DNNL_ARG_VARIANCE, training, training ? 2 : 4, l.stats);
    }
    scratch_.Place({&x_, &y_}, training_, inference_, device_);
  }

  absl::Status Run(KernelRunContext& ctx) override {
    uint8_t* scratchpad = scratch_.Bind({&x_, &y_}, device_);
    if (Training(ctx)) {
      STRATA_RETURN_IF_ERROR(CheckTrainable(geometry_));
      training_.Execute(ctx, device_, scratchpad);
      UpdateRunningStats<float>(ctx, geometry_, attrs_.momentum);
    } else {
      inference_.Execute(ctx, device_, scratchpad);
      const size_t bytes = static_cast<size_t>(geometry_.c) * sizeof(float);
      std::memcpy(ctx.outputs[1]->raw_data(), ctx.inputs[3]->raw_data(), bytes);
      std::memcpy(ctx.outputs[2]->raw_data(), ctx.inputs[4]->raw_data(), bytes);
    }
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_;
  BnAttrs attrs_;
  Geometry geometry_;
  onednn::LayoutBridge x_, y_;
  ModePrimitive training_, inference_;
  KernelScratch scratch_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeBatchNormKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(BnAttrs a, ReadAttrs(b));
  auto k = std::make_unique<BatchNormKernel>(b.device, b.inputs[0], a);
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (batch normalization forward)"),
                                       [&] { k->Build(b); }));
  return std::unique_ptr<Kernel>(std::move(k));
}

// Inputs dy, x, gamma, saved_mean, saved_var; outputs dx, dgamma, dbeta.
class BatchNormGradKernel : public Kernel {
 public:
  explicit BatchNormGradKernel(DeviceContext* device) : device_(device) {}

  // prop_kind::backward also gives dgamma and dbeta. With global statistics
  // (inference runs) the mean and variance are constants of the function, so
  // oneDNN's dx is dy * gamma / std, which is what those runs computed.
  void Build(const KernelBuildContext& b, float epsilon) {
    const dnnl::engine& e = device_->engine;
    const Layouts l = ChooseLayouts(b, 1, epsilon);
    dy_ = onednn::LayoutBridge(StoredInput(b, 0, l), l.chosen, e);
    x_ = onednn::LayoutBridge(StoredInput(b, 1, l), l.chosen, e);
    dx_ = onednn::LayoutBridge(StoredOutput(b, 0, l), l.chosen, e);
    // oneDNN 2.6 refuses to execute the backward primitive without the shift
    // argument (use_shift is what makes it compute dbeta) though it never
    // reads it, and beta is not an input of this op: a [C] placeholder.
    memory unused_shift(l.stats, e);
    // With a fused ReLU (training plans only), dy is the gradient of the
    // ReLU's output, masked by what the forward kept (the last input).
    relu_ = b.epilogue.relu;
    for (bool training : {true, false}) {
      if (relu_ && !training) continue;
      ModePrimitive& mode = training ? training_ : inference_;
      auto hint = ForwardPd(prop_kind::forward_training, l.chosen, epsilon, training, e, relu_);
      dnnl::batch_normalization_backward::primitive_desc pd(
          dnnl::batch_normalization_backward::desc(prop_kind::backward, l.chosen, l.chosen, epsilon,
                                                   Flags(training, relu_)),
          UserScratchpad(), e, hint);
      mode.Init(dnnl::batch_normalization_backward(pd), pd.scratchpad_desc(), e);
      if (relu_) {
        CheckMask(b.inputs[5], pd.workspace_desc());
        mode.Bind(DNNL_ARG_WORKSPACE, false, 5, pd.workspace_desc());
      }
      mode.Bind(DNNL_ARG_DIFF_DST, false, 0, &dy_);
      mode.Bind(DNNL_ARG_SRC, false, 1, &x_);
      mode.Bind(DNNL_ARG_SCALE, false, 2, l.stats);
      mode.BindFixed(DNNL_ARG_SHIFT, unused_shift);
      mode.Bind(DNNL_ARG_MEAN, false, 3, l.stats);
      mode.Bind(DNNL_ARG_VARIANCE, false, 4, l.stats);
      mode.Bind(DNNL_ARG_DIFF_SRC, true, 0, &dx_);
      mode.Bind(DNNL_ARG_DIFF_SCALE, true, 1, l.stats);
      mode.Bind(DNNL_ARG_DIFF_SHIFT, true, 2, l.stats);
    }
    scratch_.Place({&dy_, &x_, &dx_}, training_, inference_, device_);
  }

  absl::Status Run(KernelRunContext& ctx) override {
    if (relu_ && !Training(ctx)) {
      return absl::InternalError("a batch norm gradient with a fused ReLU runs only in training plans");
    }
    uint8_t* scratchpad = scratch_.Bind({&dy_, &x_, &dx_}, device_);
    (Training(ctx) ? training_ : inference_).Execute(ctx, device_, scratchpad);
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_;
  bool relu_ = false;
  onednn::LayoutBridge dy_, x_, dx_;
  ModePrimitive training_, inference_;
  KernelScratch scratch_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeBatchNormGradKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(double epsilon, b.Attr<double>("epsilon"));
  auto k = std::make_unique<BatchNormGradKernel>(b.device);
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (batch normalization backward)"),
                                       [&] { k->Build(b, static_cast<float>(epsilon)); }));
  return std::unique_ptr<Kernel>(std::move(k));
}

// ---------------------------------------------------------------------------
// Reference kernels (float64).

// Calls f(offset) for the offset of every value of channel c.
template <typename F>
void ForChannel(const Geometry& g, int64_t c, F f) {
  for (int64_t n = 0; n < g.n; ++n) {
    const int64_t base = (n * g.c + c) * g.s;
    for (int64_t i = 0; i < g.s; ++i) f(base + i);
  }
}

absl::Status ReferenceBatchNorm(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(BnAttrs a, ReadAttrs(node));
  const Geometry g = GeometryOf(ctx.inputs[0]->shape());
  const bool training = Training(ctx);
  if (training) STRATA_RETURN_IF_ERROR(CheckTrainable(g));
  const double *x = In<double>(ctx, 0), *gamma = In<double>(ctx, 1), *beta = In<double>(ctx, 2);
  double *y = Out<double>(ctx, 0), *mean = Out<double>(ctx, 1), *var = Out<double>(ctx, 2);
  const double m = static_cast<double>(g.per_channel());
  for (int64_t c = 0; c < g.c; ++c) {
    if (training) {
      // Two passes: the mean first, then the (biased) variance about it.
      double sum = 0, squares = 0;
      ForChannel(g, c, [&](int64_t i) { sum += x[i]; });
      mean[c] = sum / m;
      ForChannel(g, c, [&](int64_t i) { squares += (x[i] - mean[c]) * (x[i] - mean[c]); });
      var[c] = squares / m;
    } else {
      mean[c] = In<double>(ctx, 3)[c];
      var[c] = In<double>(ctx, 4)[c];
    }
    const double scale = gamma[c] / std::sqrt(var[c] + a.epsilon);
    ForChannel(g, c, [&](int64_t i) { y[i] = (x[i] - mean[c]) * scale + beta[c]; });
  }
  if (training) UpdateRunningStats<double>(ctx, g, a.momentum);
  return absl::OkStatus();
}

// With xhat = (x - mean) / std and M values per channel:
//   dbeta = sum dy, dgamma = sum dy * xhat,
//   training:  dx = gamma / std * (dy - dbeta / M - xhat * dgamma / M)
//   inference: dx = gamma / std * dy (the statistics are constants).
absl::Status ReferenceBatchNormGrad(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(double epsilon, node.Attr<double>("epsilon"));
  const Geometry g = GeometryOf(ctx.inputs[1]->shape());
  const bool training = Training(ctx);
  const double *dy = In<double>(ctx, 0), *x = In<double>(ctx, 1), *gamma = In<double>(ctx, 2);
  const double *mean = In<double>(ctx, 3), *var = In<double>(ctx, 4);
  double *dx = Out<double>(ctx, 0), *dgamma = Out<double>(ctx, 1), *dbeta = Out<double>(ctx, 2);
  const double m = static_cast<double>(g.per_channel());
  for (int64_t c = 0; c < g.c; ++c) {
    const double inv_std = 1 / std::sqrt(var[c] + epsilon);
    double sum_dy = 0, sum_dy_xhat = 0;
    ForChannel(g, c, [&](int64_t i) {
      sum_dy += dy[i];
      sum_dy_xhat += dy[i] * (x[i] - mean[c]) * inv_std;
    });
    dbeta[c] = sum_dy;
    dgamma[c] = sum_dy_xhat;
    const double scale = gamma[c] * inv_std;
    ForChannel(g, c, [&](int64_t i) {
      const double xhat = (x[i] - mean[c]) * inv_std;
      dx[i] = training ? scale * (dy[i] - sum_dy / m - xhat * sum_dy_xhat / m) : scale * dy[i];
    });
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Gradient rule.

absl::StatusOr<std::vector<Output>> BatchNormGradient(GradientContext& c) {
  if (c.output_grads[1].valid() || c.output_grads[2].valid()) {
    return absl::UnimplementedError("no gradient flows through saved_mean and saved_var (outputs 1 and 2)");
  }
  STRATA_ASSIGN_OR_RETURN(double epsilon, c.node.Attr<double>("epsilon"));
  Node& forward = const_cast<Node&>(c.node);
  const std::vector<Output>& in = c.node.inputs();
  // The saved statistics are those of the same run, so BatchNormGrad follows
  // the run's mode as the forward node did.
  Node* n = c.graph.AddNode(Def("BatchNormGrad"), "BatchNormGrad",
                            {c.output_grads[0], in[0], in[1], forward.output(1), forward.output(2)},
                            {{"epsilon", epsilon}});
  if (n == nullptr) return absl::InternalError("BatchNormGrad could not be added");  // the graph has the error
  // No gradient for the running statistics: they are state, not parameters.
  return std::vector<Output>{n->output(0), n->output(1), n->output(2), Output{}, Output{}};
}

}  // namespace

void RegisterBatchNormOps(OpRegistry& r) {
  r.Add(OpDef("BatchNorm")
            .Inputs(5)
            .Outputs(3)
            .Attr("epsilon", 1e-5)
            .Attr("momentum", 0.1)
            .Stateful()  // batch or running statistics, by the run's mode
            .Shape(BatchNormShape)
            .Kernel(MakeBatchNormKernel)
            .Layouts(LayoutSupport::kAny, /*plain=*/{1, 2, 3, 4})
            .ReferenceKernel(SimpleKernel(ReferenceBatchNorm))
            .Gradient(BatchNormGradient)
            // Training runs update running_mean and running_var in place.
            .WritesInputsWhenTraining()
            .Doc("Batch normalisation over dimension 1 of x [N,C,H,W] or [N,C] (inputs x, gamma, beta, "
                 "running_mean, running_var); outputs y and the mean and biased variance it used. Training "
                 "runs use and save the batch statistics and update the running ones in place "
                 "(running = (1 - momentum) * running + momentum * batch, the variance unbiased); inference "
                 "runs use the running statistics."));
  r.Add(OpDef("BatchNormGrad")
            .Inputs(5)
            .Outputs(3)
            .RequiredAttr("epsilon")
            .Stateful()  // by the run's mode
            .Shape(BatchNormGradShape)
            .Kernel(MakeBatchNormGradKernel)
            .Layouts(LayoutSupport::kAny, /*plain=*/{2, 3, 4})
            .ReferenceKernel(SimpleKernel(ReferenceBatchNormGrad))
            .NoGradient()
            .Doc("Backward of BatchNorm: inputs (dy, x, gamma, saved_mean, saved_var), outputs (dx, dgamma, "
                 "dbeta); the statistics are treated as functions of x in training runs and as constants in "
                 "inference runs."));
}

Output BatchNorm(Graph& g, Output x, Output gamma, Output beta, Output running_mean, Output running_var,
                 BatchNormOptions opts, absl::string_view name) {
  Node* n = g.AddNode(Def("BatchNorm"), name, {x, gamma, beta, running_mean, running_var},
                      {{"epsilon", opts.epsilon}, {"momentum", opts.momentum}});
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
