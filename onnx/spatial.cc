#include "onnx/spatial.h"

#include "absl/strings/str_join.h"
#include "graph/status_macros.h"

namespace strata::onnx_io {

int64_t Spatial::OutputSize(int i, int64_t n) const {
  const int64_t span = n + begin[i] + end[i] - kernel[i];
  if (span < 0) return 0;
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= n + begin[i]) --out;
  return out;
}

absl::StatusOr<Spatial> ReadSpatial(const ConvertContext& c, const std::vector<int64_t>& input_dims,
                                    const std::vector<int64_t>& kernel) {
  Spatial s;
  if (input_dims.size() != 4) {
    return c.Unimplemented("", absl::StrCat("only 2-D NCHW inputs are supported, got rank ", input_dims.size()));
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> kernel_shape, c.IntsAttr("kernel_shape", kernel));
  if (kernel_shape.size() != 2) return c.Invalid("kernel_shape must have 2 values (or the weights rank 4)");
  if (!kernel.empty() && kernel_shape != kernel) {
    return c.Invalid(absl::StrCat("kernel_shape [", absl::StrJoin(kernel_shape, ","),
                                  "] differs from the weights' [", absl::StrJoin(kernel, ","), "]"));
  }
  for (int i = 0; i < 2; ++i) {
    if (kernel_shape[i] < 1) return c.Invalid("kernel_shape must be positive");
    s.kernel[i] = kernel_shape[i];
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> strides, c.IntsAttr("strides", {1, 1}));
  if (strides.size() != 2 || strides[0] < 1 || strides[1] < 1) return c.Invalid("strides must be 2 positive values");
  if (strides[0] != strides[1]) {
    return c.Unimplemented("strides", "Strata's convolution and pooling have one stride for both axes");
  }
  s.stride = strides[0];
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dilations, c.IntsAttr("dilations", {1, 1}));
  for (int64_t d : dilations) {
    if (d != 1) return c.Unimplemented("dilations", "Strata's convolution and pooling have no dilation");
  }
  STRATA_ASSIGN_OR_RETURN(s.ceil_mode, c.IntAttr("ceil_mode", 0));
  STRATA_ASSIGN_OR_RETURN(std::string auto_pad, c.StringAttr("auto_pad", "NOTSET"));
  if (auto_pad == "NOTSET") {
    STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> pads, c.IntsAttr("pads", {0, 0, 0, 0}));
    if (pads.size() != 4) return c.Invalid("pads must have 4 values (top, left, bottom, right)");
    for (int64_t p : pads) {
      if (p < 0) return c.Invalid("pads must not be negative");
    }
    s.begin[0] = pads[0];
    s.begin[1] = pads[1];
    s.end[0] = pads[2];
    s.end[1] = pads[3];
  } else if (auto_pad == "VALID") {
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    // Output ceil(n / stride); the odd pixel of padding goes at the end
    // (UPPER) or at the beginning (LOWER).
    for (int i = 0; i < 2; ++i) {
      const int64_t n = input_dims[2 + i];
      const int64_t out = (n + s.stride - 1) / s.stride;
      const int64_t total = std::max<int64_t>((out - 1) * s.stride + s.kernel[i] - n, 0);
      s.begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      s.end[i] = total - s.begin[i];
    }
  } else {
    return c.Unimplemented("auto_pad", "must be NOTSET, VALID, SAME_UPPER or SAME_LOWER");
  }
  for (int i = 0; i < 2; ++i) {
    if (s.OutputSize(i, input_dims[2 + i]) < 1) {
      return c.Invalid(absl::StrCat("the ", s.kernel[0], "x", s.kernel[1], " window does not fit the input ",
                                    input_dims[2], "x", input_dims[3], " with its padding"));
    }
  }
  return s;
}

}  // namespace strata::onnx_io
