// Local response normalisation across channels (AlexNet, GoogLeNet) and its
// gradient. LRN has a second output: oneDNN's workspace as opaque uint8 bytes
// (one unused byte where the chosen implementation keeps none), which LRNGrad
// consumes, as MaxPool's does.
#ifndef STRATA_OPS_LRN_H_
#define STRATA_OPS_LRN_H_

#include <cstdint>

#include "graph/graph.h"

namespace strata::ops {

// Local response normalisation across channels, oneDNN's convention (as Caffe,
// PyTorch and ONNX): y = x / (k + alpha/size * sum over the window of x^2)^beta.
// AlexNet: size 5, alpha 1e-4, beta 0.75, k 2. TensorFlow and the AlexNet paper
// do not divide alpha by size: importers convert.
//
// The window of channel c is the channels c - (size-1)/2 .. c + (size-1)/2
// that exist (it is clipped at the first and last channel, but alpha is still
// divided by the full size). size must be odd, as in Caffe; k > 0, alpha >= 0
// and beta >= 0. oneDNN runs its jit kernels for beta 0.75 (the value every
// published network uses) and its much slower reference kernel otherwise.
struct LRNOptions {
  int64_t size = 5;
  double alpha = 1e-4;
  double beta = 0.75;
  double k = 2.0;
};
// x is float32 [N,C,H,W]; returns y (output 0) of the same shape.
Output LRN(Graph& g, Output x, LRNOptions opts = {}, absl::string_view name = "");

// dL/dx of LRN from dy, x and `workspace`, output 1 of the LRN node that
// produced dy's forward value from x with the same options.
Output LRNGrad(Graph& g, Output dy, Output x, Output workspace, LRNOptions opts = {},
               absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_LRN_H_
