// 2-D convolution on NCHW activations with OIHW weights (square or FxG
// filters), one stride and one zero padding for both spatial axes, optional
// channel groups (AlexNet's two-GPU layers, ResNeXt), optional floor rounding
// of the output size (Caffe/PyTorch) and an optional bias per filter; its
// three backward ops.
#ifndef STRATA_OPS_CONV_H_
#define STRATA_OPS_CONV_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::ops {

struct Conv2DOptions {
  int64_t stride = 1;
  int64_t pad = 0;
  // With groups G: x [N,C,H,W], w [K, C/G, F, F], K and C divisible by G;
  // filters g*K/G .. (g+1)*K/G - 1 see only input channels g*C/G ..
  // (g+1)*C/G - 1. The weights stay OIHW with I = C/G (the checkpoint
  // layout); oneDNN reads the same bytes as its grouped [G, K/G, C/G, F, F].
  int64_t groups = 1;
  // Off (the lecture's rule), (N - F + 2P) must be a multiple of S or the
  // layer "does not fit". On, the output size is floor((N - F + 2P)/S) + 1,
  // as Caffe and PyTorch round (ResNet's and GoogLeNet's 7x7/2 pad 3 on 224 ->
  // 112, 3x3/2 pad 1 and 1x1/2 on 56 -> 28): the top/left padding stays P and
  // the bottom/right padding becomes P - r, r = (N - F + 2P) mod S, so the
  // rows and columns only a partial last window would reach are dropped (P - r
  // may be negative: those input rows are never read).
  bool floor_mode = false;
};

// The output size of one spatial axis, (N - F + 2P)/S + 1, or
// InvalidArgument "does not fit: (N - F + 2P)/S + 1 = (7 - 3 + 2*0)/3 + 1 =
// 2.33: not a whole number" when it is not a whole number >= 1. With
// `floor_mode`, floor((N - F + 2P)/S) + 1 (an error only when the filter is
// larger than the padded input).
absl::StatusOr<int64_t> ConvOutputSize(int64_t input, int64_t filter, int64_t stride, int64_t pad,
                                       bool floor_mode = false);

// The floor below which no framework runs a convolution pass: the oneDNN
// primitive of `node` (a Conv2D, Conv2DBackpropInput or Conv2DBackpropFilter)
// alone, without post-ops, every argument in the layout the primitive
// prefers, by the algorithm a plan would choose (`winograd`: whether it may,
// PassOptions::winograd); the median milliseconds of `iters` runs, twice:
// warm, every argument in cache from the run before, and with the weights
// (or the weight gradient) flushed from every cache before each run, as in
// a network whose weights do not fit in the caches together and are read
// once per step (ResNet-50's 100 MB against a 32 MB L3). For `strata bench
// --floor`.
struct StandaloneConvolution {
  double warm_ms = 0;
  double weights_cold_ms = 0;
};
absl::StatusOr<StandaloneConvolution> StandaloneConvolutionMs(const Node& node, int iters, bool winograd);

// y = conv(x, w) + b with x [N,C,H,W], w [K,C/groups,F,G], b [K] (an invalid
// `b` means no bias): y is [N,K,H',W'].
Output Conv2D(Graph& g, Output x, Output w, Output b, Conv2DOptions opts = {}, absl::string_view name = "");

// The gradients of Conv2D, as the gradient rule builds them: dL/dx of shape
// `input_shape` from dy and w, dL/dw of shape `filter_shape` from x and dy,
// and dL/db = the sum of dy over N, H and W.
Output Conv2DBackpropInput(Graph& g, Output dy, Output w, const Shape& input_shape, Conv2DOptions opts = {},
                           absl::string_view name = "");
Output Conv2DBackpropFilter(Graph& g, Output x, Output dy, const Shape& filter_shape, Conv2DOptions opts = {},
                            absl::string_view name = "");
Output Conv2DBackpropBias(Graph& g, Output dy, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_CONV_H_
