// The spatial attributes Conv and the pools share: kernel_shape, strides,
// dilations and pads (explicit or auto_pad), read and checked for 2-D
// NCHW inputs, and ONNX's output size rule.
#ifndef STRATA_ONNX_SPATIAL_H_
#define STRATA_ONNX_SPATIAL_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "onnx/convert_context.h"

namespace strata::onnx_io {

struct Spatial {
  int64_t kernel[2] = {1, 1};
  int64_t stride = 1;  // Strata has one stride for both axes
  int64_t begin[2] = {0, 0};  // top, left
  int64_t end[2] = {0, 0};    // bottom, right
  bool ceil_mode = false;

  bool symmetric() const { return begin[0] == begin[1] && end[0] == begin[0] && end[1] == begin[0]; }
  // ONNX's output size along axis i of an input of size n: floor (or ceil)
  // of (n + begin + end - kernel) / stride, plus 1; with ceil_mode, less one
  // when the last window would start in the end padding (PyTorch's and
  // onnxruntime's rule).
  int64_t OutputSize(int i, int64_t n) const;
};

// Reads the attributes; `kernel` is the weights' [F, G] for Conv (checked
// against kernel_shape when that is given) or empty for pools (then
// kernel_shape is required). Dilations other than 1, different strides per
// axis and unknown auto_pad values are Unimplemented naming the attribute.
absl::StatusOr<Spatial> ReadSpatial(const ConvertContext& c, const std::vector<int64_t>& input_dims,
                                    const std::vector<int64_t>& kernel);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_SPATIAL_H_
