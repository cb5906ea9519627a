// Convolution. oneDNN kernels: direct convolution forward, backward data and
// backward weights, each letting the primitive choose its layouts
// (format_tag::any) and bridging to the graph's plain NCHW/OIHW tensors; with
// groups the weights are oneDNN's 5-D [G, K/G, C/G, F, F], whose plain goihw
// layout is byte for byte our OIHW [K, C/G, F, F]. The bias gradient is a
// plain loop. Reference kernels: one float64 loop nest shared by the three
// convolution passes.
#include "ops/conv.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <immintrin.h>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"
#include "ops/onednn.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

using dnnl::algorithm;
using dnnl::prop_kind;
using onednn::memory;

// "2.33" for fractions, "-1" for whole numbers, as the lecture writes them.
std::string FormatNumber(double v) {
  if (v == std::floor(v)) return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrFormat("%.2f", v);
}

// (N - F + 2P)/S + 1, or the lecture's "does not fit" with the formula, its
// value, `where` (the axis and the shapes, when known) and why. With
// `floor_mode` the quotient is rounded down instead.
absl::StatusOr<int64_t> OutputSize(int64_t input, int64_t filter, int64_t stride, int64_t pad, bool floor_mode,
                                   absl::string_view where) {
  if (stride < 1) return absl::InvalidArgumentError(absl::StrCat("the stride must be >= 1, got ", stride));
  if (pad < 0) return absl::InvalidArgumentError(absl::StrCat("the padding must be >= 0, got ", pad));
  if (filter < 1) return absl::InvalidArgumentError(absl::StrCat("the filter size must be >= 1, got ", filter));
  const int64_t span = input - filter + 2 * pad;
  if (span >= 0 && (floor_mode || span % stride == 0)) return span / stride + 1;
  const double result = static_cast<double>(span) / static_cast<double>(stride) + 1;
  return absl::InvalidArgumentError(absl::StrCat(
      "does not fit: (N - F + 2P)/S + 1 = (", input, " - ", filter, " + 2*", pad, ")/", stride, " + 1 = ",
      FormatNumber(result), where,
      span < 0 ? ": the filter is larger than the padded input" : ": not a whole number"));
}

struct ConvAttrs {
  int64_t stride = 1;
  int64_t pad = 0;
  int64_t groups = 1;
  bool floor_mode = false;
  bool winograd = false;  // allowed (KernelBuildContext::winograd; kernels only)
};

// oneDNN's Winograd convolution, F(4x4, 3x3), does a 3x3 stride-1 pass with
// 2.25x fewer multiplications. It pays once there are enough 4x4 output
// tiles to keep its blocks full; measured alone on this machine (2 threads,
// bench/RESULTS.md), ResNet-50's 3x3 passes take 0.36-0.61x the direct
// algorithm's time at 16 or more tiles per image and batch 8 (0.79-0.93x at
// 7x7, 32 tiles), and at batch 1 0.47x at 56x56 (196 tiles), 0.66x at 28x28
// (49), but 1.27x at 14x14 (16) and 3.8-4.6x at 7x7 (4). Its kernels work
// in blocks of 16 channels: a layer of 3 input channels (the image) would
// be padded to 16 and do 5x the work.
constexpr int64_t kMinWinogradTiles = 32;

algorithm Algorithm(const Shape& w, const Shape& y, const ConvAttrs& a) {
  if (!a.winograd || a.groups != 1 || a.stride != 1 || w[2] != 3 || w[3] != 3 || w[0] % 16 != 0 ||
      w[1] % 16 != 0) {
    return algorithm::convolution_direct;
  }
  const int64_t tiles = y[0] * ((y[2] + 3) / 4) * ((y[3] + 3) / 4);
  return tiles >= kMinWinogradTiles ? algorithm::convolution_winograd : algorithm::convolution_direct;
}

// make(algorithm) with the algorithm for these shapes, or the direct one
// where oneDNN has no Winograd implementation for them (channels, layouts,
// post-ops).
template <typename Make>
auto WithAlgorithm(const Shape& w, const Shape& y, const ConvAttrs& a, Make make) {
  const algorithm chosen = Algorithm(w, y, a);
  if (chosen == algorithm::convolution_direct) return make(chosen);
  try {
    return make(chosen);
  } catch (const dnnl::error&) {
    return make(algorithm::convolution_direct);
  }
}

// The bottom (or right) padding of an axis of `input` rows through `filter`
// taps: P, or in floor mode P - r with r = (N - F + 2P) mod S, which drops the
// rows only a partial last window would reach, so that (N - F + P + (P - r))/S
// + 1 is exactly the output size. It is negative when r > P (1x1/2 on 56: -1)
// but always > -S. oneDNN 2.6's headers say nothing on negative padding; its
// CPU primitives accept it and compute the same values as the reference
// kernels (conv_ops_test's Floor1x1Stride2, FloorStride3Crop and floor_*
// cases: pad_r -1 and -2, forward and both backward passes). Were a primitive
// to refuse it, onednn::Guard reports the error with the node's name.
int64_t PadAfter(int64_t input, int64_t filter, const ConvAttrs& a) {
  if (!a.floor_mode) return a.pad;
  const int64_t span = input - filter + 2 * a.pad;
  return span >= 0 ? a.pad - span % a.stride : a.pad;
}

template <typename Context>
absl::StatusOr<ConvAttrs> ReadAttrs(const Context& c) {
  ConvAttrs a;
  STRATA_ASSIGN_OR_RETURN(a.stride, c.template Attr<int64_t>("stride"));
  STRATA_ASSIGN_OR_RETURN(a.pad, c.template Attr<int64_t>("pad"));
  STRATA_ASSIGN_OR_RETURN(a.groups, c.template Attr<int64_t>("groups"));
  STRATA_ASSIGN_OR_RETURN(a.floor_mode, c.template Attr<bool>("floor_mode"));
  if constexpr (std::is_same_v<Context, KernelBuildContext>) a.winograd = c.winograd;
  return a;
}

// [N,K,H',W'] for input x [N,C,H,W] and filters w [K,C/groups,F,G], or an
// error naming the node. Shared by the forward op and the consistency checks of
// the backward ops, so that all three agree on what fits.
absl::StatusOr<Shape> ConvShape(const InferenceContext& c, const Shape& x, const Shape& w, const ConvAttrs& a) {
  if (x.rank() != 4) return c.Error(absl::StrCat("the input must be NCHW (rank 4), got ", x.ToString()));
  if (w.rank() != 4) return c.Error(absl::StrCat("the filters must be OIHW (rank 4), got ", w.ToString()));
  if (a.groups < 1) return c.Error(absl::StrCat("groups must be >= 1, got ", a.groups));
  if (a.groups == 1 && x[1] != w[1]) {
    return c.Error(absl::StrCat("the input has ", x[1], " channels but the filters ", w.ToString(), " expect ", w[1],
                                " (filters are [K,C,F,F])"));
  }
  if (a.groups > 1) {
    if (x[1] % a.groups != 0) {
      return c.Error(absl::StrCat("the input's ", x[1], " channels do not divide into ", a.groups, " groups"));
    }
    if (w[0] % a.groups != 0) {
      return c.Error(absl::StrCat("the ", w[0], " filters of ", w.ToString(), " do not divide into ", a.groups,
                                  " groups"));
    }
    if (x[1] / a.groups != w[1]) {
      return c.Error(absl::StrCat("the input has ", x[1], " channels, ", x[1] / a.groups, " per group of ",
                                  a.groups, ", but the filters ", w.ToString(), " expect ", w[1],
                                  " per group (grouped filters are [K,C/G,F,F])"));
    }
  }
  const std::string where = absl::StrCat(" (", x[2], "x", x[3], " input, ", w[2], "x", w[3], " filter, stride ",
                                         a.stride, ", pad ", a.pad, ")");
  auto oh = OutputSize(x[2], w[2], a.stride, a.pad, a.floor_mode, absl::StrCat(" along the height", where));
  if (!oh.ok()) return c.Error(oh.status().message());
  auto ow = OutputSize(x[3], w[3], a.stride, a.pad, a.floor_mode, absl::StrCat(" along the width", where));
  if (!ow.ok()) return c.Error(ow.status().message());
  return Shape{x[0], w[0], *oh, *ow};
}

absl::Status Conv2DShape(InferenceContext& c) {
  if (c.num_inputs() != 2 && c.num_inputs() != 3) {
    return c.Error(absl::StrCat("expects inputs (x, w) or (x, w, b), got ", c.num_inputs(), " inputs"));
  }
  for (int i = 0; i < c.num_inputs(); ++i) STRATA_RETURN_IF_ERROR(c.ExpectDType(i, DType::kFloat32));
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(c));
  STRATA_ASSIGN_OR_RETURN(Shape y, ConvShape(c, c.input(0).shape, c.input(1).shape, a));
  if (c.num_inputs() == 3) {
    const Shape& b = c.input(2).shape;
    if (b.rank() != 1 || b[0] != y[1]) {
      return c.Error(absl::StrCat("the bias must have one value per filter, [", y[1], "], got ", b.ToString()));
    }
  }
  c.set_output(0, {DType::kFloat32, y});
  return absl::OkStatus();
}

absl::StatusOr<Shape> ShapeAttr(const InferenceContext& c, const std::string& name) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>(name));
  auto shape = Shape::Validated(dims);
  if (!shape.ok()) return c.Error(absl::StrCat("attribute '", name, "': ", shape.status().message()));
  return *shape;
}

// dy must be what the forward convolution of these shapes produces.
absl::Status ExpectForwardShape(const InferenceContext& c, const Shape& x, const Shape& w, const Shape& dy,
                                const ConvAttrs& a) {
  STRATA_ASSIGN_OR_RETURN(Shape y, ConvShape(c, x, w, a));
  if (y != dy) {
    return c.Error(absl::StrCat("the output gradient ", dy.ToString(), " does not match the convolution of ",
                                x.ToString(), " by ", w.ToString(), ", which gives ", y.ToString()));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// oneDNN kernels.

memory::desc Any(const Shape& s) {
  return memory::desc(onednn::Dims(s), memory::data_type::f32, memory::format_tag::any);
}

// The weights as oneDNN sees them: OIHW [K, C/G, F, F] itself, or with
// groups the 5-D [G, K/G, C/G, F, F].
memory::dims WeightDims(const Shape& w, const ConvAttrs& a) {
  if (a.groups == 1) return onednn::Dims(w);
  return {a.groups, w[0] / a.groups, w[1], w[2], w[3]};
}
memory::desc AnyWeights(const Shape& w, const ConvAttrs& a) {
  return memory::desc(WeightDims(w, a), memory::data_type::f32, memory::format_tag::any);
}
// The plain layout of the OIHW tensor in those dims: goihw for groups, the
// same bytes.
memory::desc PlainWeights(const Shape& w, const ConvAttrs& a) {
  if (a.groups == 1) return onednn::PlainDesc({DType::kFloat32, w});
  return memory::desc(WeightDims(w, a), memory::data_type::f32, memory::format_tag::goihw);
}

// Scratch memory is allocated by the kernel at build time rather than by
// oneDNN during execution.
dnnl::primitive_attr UserScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

using onednn::BridgedKernel;

// oneDNN's strides, top/left padding and bottom/right padding of the
// convolution of input x [N,C,H,W] by filters w [K,C/G,F,G].
struct Geometry {
  memory::dims strides, pad_l, pad_r;
};
Geometry MakeGeometry(const Shape& x, const Shape& w, const ConvAttrs& a) {
  return {{a.stride, a.stride}, {a.pad, a.pad}, {PadAfter(x[2], w[2], a), PadAfter(x[3], w[3], a)}};
}

// The forward primitive descriptor: the kernel of Conv2D, and the hint the
// backward primitives need to pick matching implementations.
// `x_desc` is format_tag::any, or the layout the plan stores x in.
dnnl::convolution_forward::primitive_desc ForwardPd(const Shape& x, const Shape& w, const Shape* b, const Shape& y,
                                                    const ConvAttrs& a, const dnnl::engine& engine,
                                                    const dnnl::post_ops* post_ops = nullptr,
                                                    const memory::desc* x_desc = nullptr) {
  const Geometry geo = MakeGeometry(x, w, a);
  const memory::desc src = x_desc != nullptr ? *x_desc : Any(x);
  dnnl::primitive_attr attr = UserScratchpad();
  if (post_ops != nullptr) attr.set_post_ops(*post_ops);
  return WithAlgorithm(w, y, a, [&](algorithm alg) {
    auto desc = b != nullptr ? dnnl::convolution_forward::desc(prop_kind::forward_training, alg, src,
                                                               AnyWeights(w, a),
                                                               onednn::PlainDesc({DType::kFloat32, *b}), Any(y),
                                                               geo.strides, geo.pad_l, geo.pad_r)
                             : dnnl::convolution_forward::desc(prop_kind::forward_training, alg, src,
                                                               AnyWeights(w, a), Any(y), geo.strides, geo.pad_l,
                                                               geo.pad_r);
    return dnnl::convolution_forward::primitive_desc(desc, attr, engine);
  });
}

// The backward-data primitive descriptor for dx [N,C,H,W] from dy through
// filters w; `dy_desc` is format_tag::any (null) or the layout the plan
// stores dy in.
dnnl::convolution_backward_data::primitive_desc BackwardDataPd(const Shape& dx, const Shape& w, const Shape& dy,
                                                               const ConvAttrs& a, const dnnl::engine& engine,
                                                               const memory::desc* dy_desc = nullptr) {
  const Geometry geo = MakeGeometry(dx, w, a);
  return WithAlgorithm(w, dy, a, [&](algorithm alg) {
    return dnnl::convolution_backward_data::primitive_desc(
        dnnl::convolution_backward_data::desc(alg, Any(dx), AnyWeights(w, a), dy_desc != nullptr ? *dy_desc : Any(dy),
                                              geo.strides, geo.pad_l, geo.pad_r),
        UserScratchpad(), engine, ForwardPd(dx, w, nullptr, dy, a, engine));
  });
}

// The backward-weights primitive descriptor for dw from x and dy; `x_desc`
// and `dy_desc` are format_tag::any (null) or the plan's stored layouts.
dnnl::convolution_backward_weights::primitive_desc BackwardWeightsPd(const Shape& x, const Shape& dw,
                                                                     const Shape& dy, const ConvAttrs& a,
                                                                     const dnnl::engine& engine,
                                                                     const memory::desc* x_desc = nullptr,
                                                                     const memory::desc* dy_desc = nullptr) {
  const Geometry geo = MakeGeometry(x, dw, a);
  return WithAlgorithm(dw, dy, a, [&](algorithm alg) {
    return dnnl::convolution_backward_weights::primitive_desc(
        dnnl::convolution_backward_weights::desc(alg, x_desc != nullptr ? *x_desc : Any(x), AnyWeights(dw, a),
                                                 dy_desc != nullptr ? *dy_desc : Any(dy), geo.strides, geo.pad_l,
                                                 geo.pad_r),
        UserScratchpad(), engine, ForwardPd(x, dw, nullptr, dy, a, engine));
  });
}

// The primitive descriptor oneDNN chooses freely (make(false): every data
// layout format_tag::any), unless the same implementation also takes the
// blocked inputs in the layouts the plan stores them in (make(true)), which
// saves their reorders (nhwc from LRN into a convolution that would choose
// nChw16c). A different implementation is never taken for it: it might be a
// slow fallback.
template <typename Pd, typename Make>
Pd WithStoredLayouts(const KernelBuildContext& b, Make make) {
  Pd free = make(false);
  bool any_blocked = false;
  for (int i = 0; i < static_cast<int>(b.inputs.size()); ++i) any_blocked |= onednn::InputIsBlocked(b, i);
  if (!any_blocked) return free;
  try {
    Pd stored = make(true);
    if (std::string(stored.impl_info_str()) == free.impl_info_str()) return stored;
  } catch (const dnnl::error&) {
    // No implementation for these layouts.
  }
  return free;
}

// The layout the weights (input 1) are stored in. Weights the plan keeps
// in the convolution's layout (KernelBuildContext::kept_weights_layout)
// take the one the primitive works in, `chosen`, where it has their size
// (the Conv2D reports it); other weights are plain.
memory::desc StoredWeights(const KernelBuildContext& b, const ConvAttrs& a, const memory::desc& chosen) {
  const memory::desc plain = PlainWeights(b.inputs[1].shape, a);
  if (b.kept_weights_layout == nullptr || chosen == plain || chosen.get_size() != plain.get_size()) return plain;
  *b.kept_weights_layout = std::make_shared<const TensorLayout>(TensorLayout{chosen});
  return chosen;
}

// Weights that change only with the variables' generation are reordered
// into the primitive's layout once per generation, not on every run.
bool IsConstant(const KernelBuildContext& b, int i) {
  return i < static_cast<int>(b.input_is_constant.size()) && b.input_is_constant[i];
}

// What a plan fused into a Conv2D (KernelBuildContext::epilogue):
//   - a folded batch norm (inference) goes into the weights and bias:
//     w'[k] = w[k] * s[k], b'[k] = b[k] * s[k] + t[k] with s = gamma /
//     sqrt(var + eps) and t = beta - mean * s, recomputed whenever the
//     variables change (oneDNN 2.6's jit kernels take per-channel post-ops
//     but not a sum after them, which the residual needs);
//   - the residual, as a binary addition post-op of the whole tensor where
//     the convolution's implementation takes it, else as a sum post-op (the
//     residual copied into the destination first, the convolution
//     accumulating onto it);
//   - ReLU, an eltwise post-op.
enum class ResidualBy { kNone, kBinary, kSum };
dnnl::post_ops EpiloguePostOps(const KernelBuildContext::Epilogue& e, ResidualBy residual_by,
                               const memory::desc& residual) {
  dnnl::post_ops ops;
  if (residual_by == ResidualBy::kBinary) ops.append_binary(algorithm::binary_add, residual);
  if (residual_by == ResidualBy::kSum) ops.append_sum(1.0f);
  if (e.relu) ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
  return ops;
}

// A Conv2D's kernel: the primitive through its layout bridges; with a
// folded batch norm, the folded weights and bias it keeps.
class ConvForwardKernel : public BridgedKernel {
 public:
  // `bn_input`: of gamma (beta, running mean and variance follow), -1 for
  // none; `bias_input`: -1 for none.
  ConvForwardKernel(DeviceContext* device, const TensorSpec& w, int bias_input, int bn_input, double epsilon,
                    bool constant)
      : BridgedKernel(device),
        bias_input_(bias_input),
        bn_input_(bn_input),
        epsilon_(epsilon),
        constant_(constant),
        folded_w_(bn_input >= 0 ? Tensor(w) : Tensor()),
        folded_b_(w.shape[0]) {
    if (bn_input_ < 0) return;
    const memory::desc bias({w.shape[0]}, memory::data_type::f32, memory::format_tag::a);
    BindFixed(DNNL_ARG_BIAS, memory(bias, device->engine, folded_b_.data()));
  }

  int64_t held_bytes() const override {
    const int64_t folded = bn_input_ < 0 ? 0 : folded_w_.num_bytes() + static_cast<int64_t>(folded_b_.size() * 4);
    return BridgedKernel::held_bytes() + folded;
  }

  absl::Status Run(KernelRunContext& ctx) override {
    if (bn_input_ < 0) return BridgedKernel::Run(ctx);
    if (!constant_ || !folded_ || folded_generation_ != ctx.variables_generation) Fold(ctx);
    Tensor* w = ctx.inputs[1];
    ctx.inputs[1] = &folded_w_;
    absl::Status s = BridgedKernel::Run(ctx);
    ctx.inputs[1] = w;
    return s;
  }

 private:
  void Fold(const KernelRunContext& ctx) {
    const float* gamma = ctx.inputs[bn_input_]->data<float>();
    const float* beta = ctx.inputs[bn_input_ + 1]->data<float>();
    const float* mean = ctx.inputs[bn_input_ + 2]->data<float>();
    const float* var = ctx.inputs[bn_input_ + 3]->data<float>();
    const float* w = ctx.inputs[1]->data<float>();
    const float* b = bias_input_ >= 0 ? ctx.inputs[bias_input_]->data<float>() : nullptr;
    float* folded = folded_w_.data<float>();
    const int64_t channels = static_cast<int64_t>(folded_b_.size());
    const int64_t per_channel = folded_w_.num_elements() / channels;
    for (int64_t k = 0; k < channels; ++k) {
      const double scale = gamma[k] / std::sqrt(static_cast<double>(var[k]) + epsilon_);
      for (int64_t i = k * per_channel; i < (k + 1) * per_channel; ++i) folded[i] = static_cast<float>(w[i] * scale);
      folded_b_[k] = static_cast<float>((b != nullptr ? b[k] : 0.0) * scale + beta[k] - mean[k] * scale);
    }
    folded_ = true;
    folded_generation_ = ctx.variables_generation;
  }

  int bias_input_, bn_input_;
  double epsilon_;
  bool constant_;  // the weights and batch norm change only with the variables' generation
  bool folded_ = false;
  uint64_t folded_generation_ = 0;
  Tensor folded_w_;
  std::vector<float> folded_b_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeForwardKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(b));
  const int own_inputs = static_cast<int>(b.node.inputs().size());
  const bool has_bias = own_inputs == 3;
  const KernelBuildContext::Epilogue& e = b.epilogue;
  const int bn_input = e.batch_norm ? own_inputs : -1;
  const int residual_input = e.residual ? own_inputs + (e.batch_norm ? 4 : 0) : -1;
  bool constant = IsConstant(b, 1) && (!has_bias || IsConstant(b, 2));
  for (int i = 0; e.batch_norm && i < 4; ++i) constant &= IsConstant(b, bn_input + i);
  auto k = std::make_unique<ConvForwardKernel>(b.device, b.inputs[1], has_bias ? 2 : -1, bn_input,
                                               e.batch_norm_epsilon, constant);
  const Shape bias_shape{b.outputs[0].shape[1]};
  const bool bias = has_bias || e.batch_norm;
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (convolution forward)"), [&] {
    auto make = [&](ResidualBy residual_by, const memory::desc& residual) {
      const dnnl::post_ops post_ops = EpiloguePostOps(e, residual_by, residual);
      return WithStoredLayouts<dnnl::convolution_forward::primitive_desc>(b, [&](bool stored) {
        const memory::desc x = stored ? onednn::InputDesc(b, 0) : Any(b.inputs[0].shape);
        return ForwardPd(b.inputs[0].shape, b.inputs[1].shape, bias ? &bias_shape : nullptr, b.outputs[0].shape,
                         a, b.device->engine, &post_ops, &x);
      });
    };
    ResidualBy residual_by = e.residual ? ResidualBy::kSum : ResidualBy::kNone;
    auto pd = make(residual_by, memory::desc());
    // In place, the sum it is: a binary post-op reading the buffer the
    // convolution writes (and may accumulate partial sums in) is not safe.
    if (e.residual && !e.residual_in_place) {
      // A binary addition reads the residual once; the sum post-op needs a
      // copy first. Binary where the implementation stays the same.
      try {
        auto binary = make(ResidualBy::kBinary, pd.dst_desc());
        if (std::string(binary.impl_info_str()) == pd.impl_info_str() && binary.dst_desc() == pd.dst_desc()) {
          pd = binary;
          residual_by = ResidualBy::kBinary;
        }
      } catch (const dnnl::error&) {
        // No implementation with the binary post-op: the sum it is.
      }
    }
    k->AddInput(DNNL_ARG_SRC, 0, onednn::InputDesc(b, 0), pd.src_desc());
    k->AddInput(DNNL_ARG_WEIGHTS, 1, StoredWeights(b, a, pd.weights_desc()), pd.weights_desc(), constant);
    if (has_bias && !e.batch_norm) k->AddInput(DNNL_ARG_BIAS, 2, onednn::PlainDesc(b.inputs[2]), pd.bias_desc());
    if (residual_by == ResidualBy::kBinary) {
      k->AddInput(DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, residual_input,
                  onednn::InputDesc(b, residual_input), pd.dst_desc());
    }
    if (residual_by == ResidualBy::kSum) {
      const memory::desc stored = onednn::InputDesc(b, residual_input);
      dnnl::reorder copy(dnnl::reorder::primitive_desc(b.device->engine, stored, b.device->engine, pd.dst_desc()));
      const dnnl::engine engine = b.device->engine;
      k->SetPreExecute([copy, stored, engine, residual_input](KernelRunContext& ctx,
                                                               const std::unordered_map<int, memory>& args,
                                                               dnnl::stream& stream) {
        memory to = args.at(DNNL_ARG_DST);
        void* residual = ctx.inputs[residual_input]->raw_data();
        const bool in_place = to.get_data_handle() == residual;
        // In place, in the residual's own layout: it is there already.
        if (in_place && to.get_desc() == stored) return;
        memory from(stored, engine, residual);
        if (in_place) {
          // In place but in another layout (a plan whose layouts differ
          // around this convolution): reorder from a copy, not over itself.
          memory copy_of(stored, engine);
          std::memcpy(copy_of.get_data_handle(), residual, stored.get_size());
          from = copy_of;
        }
        copy.execute(stream, from, to);
      });
    }
    k->AddOutput(DNNL_ARG_DST, 0, onednn::OutputDesc(b, 0, pd.dst_desc()), pd.dst_desc());
    k->SetPrimitive(dnnl::convolution_forward(pd), pd.scratchpad_desc());
  }));
  return std::unique_ptr<Kernel>(std::move(k));
}

// Inputs dy, w; output dx.
absl::StatusOr<std::unique_ptr<Kernel>> MakeBackpropInputKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(b));
  const Shape &dy = b.inputs[0].shape, &w = b.inputs[1].shape, &dx = b.outputs[0].shape;
  auto k = std::make_unique<BridgedKernel>(b.device);
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (convolution backward data)"), [&] {
    auto pd = WithStoredLayouts<dnnl::convolution_backward_data::primitive_desc>(b, [&](bool stored) {
      const memory::desc dy_stored = onednn::InputDesc(b, 0);
      return BackwardDataPd(dx, w, dy, a, b.device->engine, stored ? &dy_stored : nullptr);
    });
    k->AddInput(DNNL_ARG_DIFF_DST, 0, onednn::InputDesc(b, 0), pd.diff_dst_desc());
    k->AddInput(DNNL_ARG_WEIGHTS, 1, onednn::InputIsBlocked(b, 1) ? onednn::InputDesc(b, 1) : PlainWeights(w, a),
                pd.weights_desc(), IsConstant(b, 1));
    k->AddOutput(DNNL_ARG_DIFF_SRC, 0, onednn::OutputDesc(b, 0, pd.diff_src_desc()), pd.diff_src_desc());
    k->SetPrimitive(dnnl::convolution_backward_data(pd), pd.scratchpad_desc());
  }));
  return std::unique_ptr<Kernel>(std::move(k));
}

// Inputs x, dy; output dw.
absl::StatusOr<std::unique_ptr<Kernel>> MakeBackpropFilterKernel(const KernelBuildContext& b) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(b));
  const Shape &x = b.inputs[0].shape, &dy = b.inputs[1].shape, &dw = b.outputs[0].shape;
  auto k = std::make_unique<BridgedKernel>(b.device);
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (convolution backward weights)"), [&] {
    auto pd = WithStoredLayouts<dnnl::convolution_backward_weights::primitive_desc>(b, [&](bool stored) {
      const memory::desc x_stored = onednn::InputDesc(b, 0), dy_stored = onednn::InputDesc(b, 1);
      return BackwardWeightsPd(x, dw, dy, a, b.device->engine, stored ? &x_stored : nullptr,
                               stored ? &dy_stored : nullptr);
    });
    k->AddInput(DNNL_ARG_SRC, 0, onednn::InputDesc(b, 0), pd.src_desc());
    k->AddInput(DNNL_ARG_DIFF_DST, 1, onednn::InputDesc(b, 1), pd.diff_dst_desc());
    const bool kept = b.kept_weights_layout != nullptr && *b.kept_weights_layout != nullptr;
    if (kept) (*b.output_layouts)[0] = *b.kept_weights_layout;
    k->AddOutput(DNNL_ARG_DIFF_WEIGHTS, 0, kept ? (*b.kept_weights_layout)->desc : PlainWeights(dw, a),
                 pd.diff_weights_desc());
    k->SetPrimitive(dnnl::convolution_backward_weights(pd), pd.scratchpad_desc());
  }));
  return std::unique_ptr<Kernel>(std::move(k));
}

// dy [N,K,H,W] summed over N, H and W. Loops rather than oneDNN: its
// reduction primitive has only the slow reference implementation for this
// pattern. The sums are of values of both signs that largely cancel, so they
// are kept in double lanes (which the compiler vectorises without
// reassociating): the plain and blocked layouts then agree to double
// rounding, not to float's.
void SumPlainPlanes(const float* g, int64_t n, int64_t k, int64_t hw, float* db) {
  for (int64_t c = 0; c < k; ++c) {
    double lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = 0; i < n; ++i) {
      const float* plane = g + (i * k + c) * hw;
      int64_t j = 0;
      for (; j + 8 <= hw; j += 8)
        for (int l = 0; l < 8; ++l) lanes[l] += plane[j + l];
      for (; j < hw; ++j) lanes[0] += plane[j];
    }
    double total = 0;
    for (double v : lanes) total += v;
    db[c] = static_cast<float>(total);
  }
}

// The same sum over dy in a channel-blocked layout (nChw16c, nChw8c: blocks
// of `block` channels, each [N][H*W][block]), with K a multiple of `block`.
void SumChannelBlocks(const float* g, int64_t n, int64_t k, int64_t hw, int64_t block, float* db) {
  std::vector<double> lanes(block);
  for (int64_t cb = 0; cb < k / block; ++cb) {
    std::fill(lanes.begin(), lanes.end(), 0.0);
    for (int64_t i = 0; i < n; ++i) {
      const float* p = g + ((i * (k / block) + cb) * hw) * block;
      for (int64_t j = 0; j < hw; ++j)
        for (int64_t l = 0; l < block; ++l) lanes[l] += p[j * block + l];
    }
    for (int64_t l = 0; l < block; ++l) db[cb * block + l] = static_cast<float>(lanes[l]);
  }
}

// The channel block of a nChwXc layout of these dims, or 0 for any other.
int64_t ChannelBlock(const memory::desc& d) {
  const memory::dims dims = d.dims();
  for (auto [tag, block] : {std::pair{memory::format_tag::nChw16c, 16}, std::pair{memory::format_tag::nChw8c, 8}}) {
    if (dims[1] % block == 0 && d == memory::desc(dims, memory::data_type::f32, tag)) return block;
  }
  return 0;
}

// dy stored plain, channel-blocked, or in any other layout (reordered to
// plain through the shared scratch first).
class BackpropBiasKernel : public Kernel {
 public:
  BackpropBiasKernel(DeviceContext* device, const memory::desc& stored, const Shape& dy)
      : device_(device), block_(ChannelBlock(stored)), n_(dy[0]), k_(dy[1]), hw_(dy[2] * dy[3]) {
    if (block_ == 0) {
      to_plain_ = onednn::LayoutBridge(stored, onednn::PlainDesc({DType::kFloat32, dy}), device->engine);
      to_plain_.Place(scratch_);
      device->scratch.Reserve(scratch_.total());
    }
  }

  absl::Status Run(KernelRunContext& ctx) override {
    float* db = Out<float>(ctx, 0);
    if (block_ > 0) {
      SumChannelBlocks(In<float>(ctx, 0), n_, k_, hw_, block_, db);
      return absl::OkStatus();
    }
    to_plain_.Bind(device_->scratch.Get(scratch_.total()));
    const float* g = static_cast<const float*>(to_plain_.In(*ctx.inputs[0], device_->stream).get_data_handle());
    SumPlainPlanes(g, n_, k_, hw_, db);
    return absl::OkStatus();
  }

 private:
  DeviceContext* device_;
  int64_t block_;
  int64_t n_, k_, hw_;
  onednn::LayoutBridge to_plain_;
  onednn::ScratchLayout scratch_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeBackpropBiasKernel(const KernelBuildContext& b) {
  std::unique_ptr<Kernel> k;
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(b.node.Describe(), " (bias gradient)"), [&] {
    k = std::make_unique<BackpropBiasKernel>(b.device, onednn::InputDesc(b, 0), b.inputs[0].shape);
  }));
  return k;
}

// ---------------------------------------------------------------------------
// Reference kernels.

// pad_t/pad_l are the top and left padding, pad_b/pad_r the bottom and right
// (smaller in floor mode, possibly negative: input rows no window reaches).
struct ConvDims {
  int64_t n, c, h, w;  // input
  int64_t k, fh, fw;   // filters
  int64_t oh, ow;      // output
  int64_t stride;
  int64_t pad_t, pad_b, pad_l, pad_r;
  int64_t groups;
};

ConvDims MakeDims(const Shape& x, const Shape& w, const Shape& y, const ConvAttrs& a) {
  ConvDims d{};
  d.n = x[0], d.c = x[1], d.h = x[2], d.w = x[3];
  d.k = w[0], d.fh = w[2], d.fw = w[3];
  d.oh = y[2], d.ow = y[3];
  d.stride = a.stride;
  d.pad_t = a.pad, d.pad_b = PadAfter(x[2], w[2], a);
  d.pad_l = a.pad, d.pad_r = PadAfter(x[3], w[3], a);
  d.groups = a.groups;
  return d;
}

enum class Pass { kForward, kBackwardData, kBackwardFilter };

// The three passes visit the same (output, tap, input) triples; each
// accumulates into a different one of x, w and y, which it first zeroes.
// Filter k belongs to group k / (K/G) and sees that group's C/G channels.
// A tap reads padded row ih of the padded input [-pad_t, h + pad_b): rows
// outside [0, h) are zeros (or, past h + pad_b < h, rows the windows never
// reach, which the output size already rules out).
void NaiveConv(Pass pass, const ConvDims& d, double* x, double* w, double* y) {
  double* written = pass == Pass::kForward ? y : pass == Pass::kBackwardData ? x : w;
  const int64_t cg = d.c / d.groups, kg = d.k / d.groups;  // channels and filters per group
  const int64_t count = pass == Pass::kForward        ? d.n * d.k * d.oh * d.ow
                        : pass == Pass::kBackwardData ? d.n * d.c * d.h * d.w
                                                      : d.k * cg * d.fh * d.fw;
  std::fill(written, written + count, 0.0);
  for (int64_t n = 0; n < d.n; ++n)
    for (int64_t k = 0; k < d.k; ++k)
      for (int64_t oh = 0; oh < d.oh; ++oh)
        for (int64_t ow = 0; ow < d.ow; ++ow) {
          const int64_t yi = ((n * d.k + k) * d.oh + oh) * d.ow + ow;
          for (int64_t g = 0; g < cg; ++g)
            for (int64_t i = 0; i < d.fh; ++i) {
              const int64_t ih = oh * d.stride - d.pad_t + i;
              if (ih < 0 || ih >= d.h || ih >= d.h + d.pad_b) continue;
              for (int64_t j = 0; j < d.fw; ++j) {
                const int64_t iw = ow * d.stride - d.pad_l + j;
                if (iw < 0 || iw >= d.w || iw >= d.w + d.pad_r) continue;
                const int64_t c = (k / kg) * cg + g;  // the input channel
                const int64_t xi = ((n * d.c + c) * d.h + ih) * d.w + iw;
                const int64_t wi = ((k * cg + g) * d.fh + i) * d.fw + j;
                switch (pass) {
                  case Pass::kForward: y[yi] += x[xi] * w[wi]; break;
                  case Pass::kBackwardData: x[xi] += y[yi] * w[wi]; break;
                  case Pass::kBackwardFilter: w[wi] += x[xi] * y[yi]; break;
                }
              }
            }
        }
}

absl::Status ReferenceForward(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(node));
  Tensor &x = *ctx.inputs[0], &w = *ctx.inputs[1], &y = *ctx.outputs[0];
  const ConvDims d = MakeDims(x.shape(), w.shape(), y.shape(), a);
  NaiveConv(Pass::kForward, d, x.data<double>(), w.data<double>(), y.data<double>());
  if (ctx.inputs.size() == 3) {
    const double* bias = ctx.inputs[2]->data<double>();
    double* out = y.data<double>();
    for (int64_t n = 0; n < d.n; ++n)
      for (int64_t k = 0; k < d.k; ++k)
        for (int64_t i = 0; i < d.oh * d.ow; ++i) out[(n * d.k + k) * d.oh * d.ow + i] += bias[k];
  }
  return absl::OkStatus();
}

absl::Status ReferenceBackpropInput(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(node));
  Tensor &dy = *ctx.inputs[0], &w = *ctx.inputs[1], &dx = *ctx.outputs[0];
  NaiveConv(Pass::kBackwardData, MakeDims(dx.shape(), w.shape(), dy.shape(), a), dx.data<double>(),
            w.data<double>(), dy.data<double>());
  return absl::OkStatus();
}

absl::Status ReferenceBackpropFilter(const Node& node, KernelRunContext& ctx) {
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(node));
  Tensor &x = *ctx.inputs[0], &dy = *ctx.inputs[1], &dw = *ctx.outputs[0];
  NaiveConv(Pass::kBackwardFilter, MakeDims(x.shape(), dw.shape(), dy.shape(), a), x.data<double>(),
            dw.data<double>(), dy.data<double>());
  return absl::OkStatus();
}

absl::Status ReferenceBackpropBias(const Node&, KernelRunContext& ctx) {
  const Tensor& dy = *ctx.inputs[0];
  const int64_t n = dy.shape()[0], k = dy.shape()[1], hw = dy.shape()[2] * dy.shape()[3];
  const double* g = dy.data<double>();
  double* db = Out<double>(ctx, 0);
  for (int64_t c = 0; c < k; ++c) {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < hw; ++j) s += g[(i * k + c) * hw + j];
    db[c] = s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Output>> Conv2DGradient(GradientContext& c) {
  const std::vector<Output>& in = c.node.inputs();
  std::vector<Output> grads(in.size());
  const Output dy = c.output_grads[0];
  if (!dy.valid()) return grads;
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(c.node));
  const Conv2DOptions opts{a.stride, a.pad, a.groups, a.floor_mode};
  grads[0] = Conv2DBackpropInput(c.graph, dy, in[1], in[0].shape(), opts, "backprop_input");
  grads[1] = Conv2DBackpropFilter(c.graph, in[0], dy, in[1].shape(), opts, "backprop_filter");
  if (in.size() == 3) grads[2] = Conv2DBackpropBias(c.graph, dy, "backprop_bias");
  return grads;
}

}  // namespace

absl::StatusOr<int64_t> ConvOutputSize(int64_t input, int64_t filter, int64_t stride, int64_t pad,
                                       bool floor_mode) {
  return OutputSize(input, filter, stride, pad, floor_mode, "");
}

namespace {

// Writes back and drops every cache line of [p, p + bytes), so that the next
// read comes from memory.
void EvictFromCaches(const void* p, size_t bytes) {
  const char* c = static_cast<const char*>(p);
  for (size_t i = 0; i < bytes; i += 64) _mm_clflush(c + i);
  _mm_mfence();
}

}  // namespace

absl::StatusOr<StandaloneConvolution> StandaloneConvolutionMs(const Node& node, int iters, bool winograd) {
  const std::string& op = node.op();
  if (op != "Conv2D" && op != "Conv2DBackpropInput" && op != "Conv2DBackpropFilter") {
    return absl::InvalidArgumentError(absl::StrCat(node.Describe(), " is not a convolution pass"));
  }
  iters = std::max(1, iters);
  DeviceContext device;
  std::vector<TensorSpec> in, out;
  for (const Output& i : node.inputs()) in.push_back(i.spec());
  for (int k = 0; k < node.num_outputs(); ++k) out.push_back(node.output_spec(k));
  KernelBuildContext b{node, in, out, &device, {}};
  b.winograd = winograd;
  STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(b));
  dnnl::primitive primitive;
  std::unordered_map<int, memory> args;
  auto bind = [&](int arg, const memory::desc& d) {
    if (d.get_size() == 0) return;
    memory m(d, device.engine);  // oneDNN allocates it
    float* p = static_cast<float*>(m.get_data_handle());
    std::fill(p, p + d.get_size() / sizeof(float), 0.01f);  // no denormals, no zeros to skip
    args[arg] = m;
  };
  STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat(node.Describe(), " (standalone primitive)"), [&] {
    const Shape& first = in[0].shape;
    if (op == "Conv2D") {
      auto pd = ForwardPd(first, in[1].shape, in.size() == 3 ? &in[2].shape : nullptr, out[0].shape, a,
                          device.engine);
      bind(DNNL_ARG_SRC, pd.src_desc());
      bind(DNNL_ARG_WEIGHTS, pd.weights_desc());
      if (in.size() == 3) bind(DNNL_ARG_BIAS, pd.bias_desc());
      bind(DNNL_ARG_DST, pd.dst_desc());
      bind(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc());
      primitive = dnnl::convolution_forward(pd);
    } else if (op == "Conv2DBackpropInput") {
      auto pd = BackwardDataPd(out[0].shape, in[1].shape, first, a, device.engine);
      bind(DNNL_ARG_DIFF_DST, pd.diff_dst_desc());
      bind(DNNL_ARG_WEIGHTS, pd.weights_desc());
      bind(DNNL_ARG_DIFF_SRC, pd.diff_src_desc());
      bind(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc());
      primitive = dnnl::convolution_backward_data(pd);
    } else if (op == "Conv2DBackpropFilter") {
      auto pd = BackwardWeightsPd(first, out[0].shape, in[1].shape, a, device.engine);
      bind(DNNL_ARG_SRC, pd.src_desc());
      bind(DNNL_ARG_DIFF_DST, pd.diff_dst_desc());
      bind(DNNL_ARG_DIFF_WEIGHTS, pd.diff_weights_desc());
      bind(DNNL_ARG_SCRATCHPAD, pd.scratchpad_desc());
      primitive = dnnl::convolution_backward_weights(pd);
    }
  }));
  const memory& weights = args.count(DNNL_ARG_WEIGHTS) ? args[DNNL_ARG_WEIGHTS] : args[DNNL_ARG_DIFF_WEIGHTS];
  auto median_ms = [&](bool weights_cold) {
    std::vector<double> ms;
    for (int i = 0; i < 2 + iters; ++i) {
      if (weights_cold) EvictFromCaches(weights.get_data_handle(), weights.get_desc().get_size());
      const auto start = std::chrono::steady_clock::now();
      primitive.execute(device.stream, args);
      device.stream.wait();
      if (i >= 2) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  StandaloneConvolution times;
  STRATA_RETURN_IF_ERROR(onednn::Guard(node.Describe(), [&] {
    times.warm_ms = median_ms(false);
    times.weights_cold_ms = median_ms(true);
  }));
  return times;
}

void RegisterConvOps(OpRegistry& r) {
  r.Add(OpDef("Conv2D")
            .Inputs(-1)
            .Attr("stride", int64_t{1})
            .Attr("pad", int64_t{0})
            .Attr("groups", int64_t{1})
            .Attr("floor_mode", false)
            .Shape(Conv2DShape)
            .Kernel(MakeForwardKernel)
            .Layouts(LayoutSupport::kAny, /*plain=*/{1, 2})
            .ReferenceKernel(SimpleKernel(ReferenceForward))
            .Gradient(Conv2DGradient)
            .Doc("y = conv(x, w) + b: x [N,C,H,W], w [K,C/groups,F,G], optional b [K]; zero padding `pad` on "
                 "every side, one `stride`; y [N,K,(H - F + 2P)/S + 1,(W - G + 2P)/S + 1]. With `groups` G, "
                 "filter k sees only the C/G input channels of its group k / (K/G). With `floor_mode`, the output "
                 "size is floor((H - F + 2P)/S) + 1 (bottom/right padding P - ((H - F + 2P) mod S)) instead "
                 "of an error when the stride does not divide (H - F + 2P)."));
  r.Add(OpDef("Conv2DBackpropInput")
            .Inputs(2)
            .Attr("stride", int64_t{1})
            .Attr("pad", int64_t{0})
            .Attr("groups", int64_t{1})
            .Attr("floor_mode", false)
            .RequiredAttr("input_shape")
            .Shape([](InferenceContext& c) -> absl::Status {
              STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(c));
              STRATA_ASSIGN_OR_RETURN(Shape x, ShapeAttr(c, "input_shape"));
              STRATA_RETURN_IF_ERROR(ExpectForwardShape(c, x, c.input(1).shape, c.input(0).shape, a));
              c.set_output(0, {c.input(0).dtype, x});
              return absl::OkStatus();
            })
            .Kernel(MakeBackpropInputKernel)
            .Layouts(LayoutSupport::kAny, /*plain=*/{1})
            .ReferenceKernel(SimpleKernel(ReferenceBackpropInput))
            .NoGradient()
            .Doc("dL/dx of Conv2D from dy and w; the output has shape `input_shape`."));
  r.Add(OpDef("Conv2DBackpropFilter")
            .Inputs(2)
            .Attr("stride", int64_t{1})
            .Attr("pad", int64_t{0})
            .Attr("groups", int64_t{1})
            .Attr("floor_mode", false)
            .RequiredAttr("filter_shape")
            .Shape([](InferenceContext& c) -> absl::Status {
              STRATA_ASSIGN_OR_RETURN(ConvAttrs a, ReadAttrs(c));
              STRATA_ASSIGN_OR_RETURN(Shape w, ShapeAttr(c, "filter_shape"));
              STRATA_RETURN_IF_ERROR(ExpectForwardShape(c, c.input(0).shape, w, c.input(1).shape, a));
              c.set_output(0, {c.input(0).dtype, w});
              return absl::OkStatus();
            })
            .Kernel(MakeBackpropFilterKernel)
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceBackpropFilter))
            .NoGradient()
            .Doc("dL/dw of Conv2D from x and dy; the output has shape `filter_shape`."));
  r.Add(OpDef("Conv2DBackpropBias")
            .Inputs(1)
            .Shape([](InferenceContext& c) -> absl::Status {
              STRATA_RETURN_IF_ERROR(c.ExpectRank(0, 4));
              c.set_output(0, {c.input(0).dtype, Shape{c.input(0).shape[1]}});
              return absl::OkStatus();
            })
            .Kernel(MakeBackpropBiasKernel)
            .Layouts(LayoutSupport::kAny)
            .ReferenceKernel(SimpleKernel(ReferenceBackpropBias))
            .NoGradient()
            .Doc("dL/db of Conv2D: dy [N,K,H,W] summed over N, H and W to [K]."));
}

Output Conv2D(Graph& g, Output x, Output w, Output b, Conv2DOptions opts, absl::string_view name) {
  std::vector<Output> inputs{x, w};
  if (b.valid()) inputs.push_back(b);
  Node* n = g.AddNode(Def("Conv2D"), name, std::move(inputs),
                      {{"stride", opts.stride}, {"pad", opts.pad}, {"groups", opts.groups}, {"floor_mode", opts.floor_mode}});
  return n ? n->output(0) : Output{};
}

Output Conv2DBackpropInput(Graph& g, Output dy, Output w, const Shape& input_shape, Conv2DOptions opts,
                           absl::string_view name) {
  Node* n = g.AddNode(Def("Conv2DBackpropInput"), name, {dy, w},
                      {{"stride", opts.stride},
                       {"pad", opts.pad},
                       {"groups", opts.groups},
                       {"floor_mode", opts.floor_mode},
                       {"input_shape", input_shape.dims()}});
  return n ? n->output(0) : Output{};
}

Output Conv2DBackpropFilter(Graph& g, Output x, Output dy, const Shape& filter_shape, Conv2DOptions opts,
                            absl::string_view name) {
  Node* n = g.AddNode(Def("Conv2DBackpropFilter"), name, {x, dy},
                      {{"stride", opts.stride},
                       {"pad", opts.pad},
                       {"groups", opts.groups},
                       {"floor_mode", opts.floor_mode},
                       {"filter_shape", filter_shape.dims()}});
  return n ? n->output(0) : Output{};
}

Output Conv2DBackpropBias(Graph& g, Output dy, absl::string_view name) {
  Node* n = g.AddNode(Def("Conv2DBackpropBias"), name, {dy});
  return n ? n->output(0) : Output{};
}

}  // namespace strata::ops
