// Conv -> Conv2D (floor_mode, as ONNX always rounds down). Strata pads every
// side by one P; ONNX pads each side separately. Where the result is the
// same (top = left = P and the same output size on both axes: the windows
// are then identical and every padded value is zero either way) Conv2D pads
// itself; otherwise the input is zero-padded explicitly first.
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "onnx/spatial.h"
#include "onnx/zero_pad.h"
#include "ops/conv.h"

namespace strata::onnx_io {

absl::Status ConvertConv(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(Output w, c.Input(1));
  Output b;
  if (c.HasInput(2)) {
    STRATA_ASSIGN_OR_RETURN(b, c.Input(2));
  }
  if (w.shape().rank() != 4) {
    return c.Unimplemented("", absl::StrCat("only 2-D convolutions (rank-4 weights) are supported, got weights ",
                                            w.shape().ToString()));
  }
  STRATA_ASSIGN_OR_RETURN(Spatial s, ReadSpatial(c, x.shape().dims(), {w.shape()[2], w.shape()[3]}));
  STRATA_ASSIGN_OR_RETURN(int64_t group, c.IntAttr("group", 1));
  if (group < 1) return c.Invalid("group must be >= 1");

  ops::Conv2DOptions opts;
  opts.stride = s.stride;
  opts.groups = group;
  opts.floor_mode = true;
  bool direct = s.begin[0] == s.begin[1];
  for (int i = 0; direct && i < 2; ++i) {
    auto strata_size = ops::ConvOutputSize(x.shape()[2 + i], s.kernel[i], s.stride, s.begin[0], true);
    direct = strata_size.ok() && *strata_size == s.OutputSize(i, x.shape()[2 + i]);
  }
  if (direct) {
    opts.pad = s.begin[0];
  } else {
    x = ZeroPad(c.graph(), x, {0, 0, s.begin[0], s.begin[1]}, {0, 0, s.end[0], s.end[1]}, c.SubName("pad"));
    if (!x.valid()) return c.GraphError();
  }
  return c.SetOutput(0, ops::Conv2D(c.graph(), x, w, b, opts, c.name()));
}

}  // namespace strata::onnx_io
