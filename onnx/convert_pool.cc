// MaxPool, AveragePool and GlobalAveragePool -> Strata's square-window pools.
// Strata pads every side by one P (at most half the window) and neither
// counts nor picks the padding; ONNX pads each side separately. A pool is
// converted only where the windows are provably the same: top = left = P and
// Strata's output size equals ONNX's on both axes. AveragePool with
// count_include_pad zero-pads explicitly instead, so the zeros are counted.
#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "onnx/spatial.h"
#include "onnx/zero_pad.h"
#include "ops/pool.h"

namespace strata::onnx_io {
namespace {

// The Strata options that reproduce `s` on input x, or Unimplemented naming
// the attribute that cannot be expressed.
absl::StatusOr<ops::PoolOptions> StrataPool(const ConvertContext& c, const Spatial& s, const Shape& x) {
  if (s.kernel[0] != s.kernel[1]) {
    return c.Unimplemented("kernel_shape", "Strata's pools have square windows");
  }
  ops::PoolOptions o;
  o.size = s.kernel[0];
  o.stride = s.stride;
  o.pad = s.begin[0];
  o.ceil_mode = s.ceil_mode;
  bool same = s.begin[0] == s.begin[1] && 2 * o.pad <= o.size;
  for (int i = 0; same && i < 2; ++i) {
    auto strata_size = ops::PoolOutputSize(x[2 + i], o);
    same = strata_size.ok() && *strata_size == s.OutputSize(i, x[2 + i]);
  }
  if (!same) {
    return c.Unimplemented(c.HasAttr("pads") ? "pads" : "auto_pad",
                           "Strata pools pad all sides alike, by at most half the window; these pads give "
                           "other windows");
  }
  return o;
}

absl::Status Pool(ConvertContext& c, bool max) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(Spatial s, ReadSpatial(c, x.shape().dims(), {}));
  if (max) {
    STRATA_RETURN_IF_ERROR(c.RejectOutputsFrom(1, "Indices"));
    STRATA_ASSIGN_OR_RETURN(ops::PoolOptions o, StrataPool(c, s, x.shape()));
    return c.SetOutput(0, ops::MaxPool(c.graph(), x, o, c.name()));
  }
  STRATA_ASSIGN_OR_RETURN(int64_t count_include_pad, c.IntAttr("count_include_pad", 0));
  const bool padded = s.begin[0] + s.begin[1] + s.end[0] + s.end[1] > 0;
  if (count_include_pad && padded) {
    if (s.ceil_mode) {
      return c.Unimplemented("count_include_pad",
                             "with ceil_mode, how a window reaching past the padding is counted is not "
                             "specified by ONNX");
    }
    x = ZeroPad(c.graph(), x, {0, 0, s.begin[0], s.begin[1]}, {0, 0, s.end[0], s.end[1]}, c.SubName("pad"));
    if (!x.valid()) return c.GraphError();
    s.begin[0] = s.begin[1] = s.end[0] = s.end[1] = 0;
  }
  STRATA_ASSIGN_OR_RETURN(ops::PoolOptions o, StrataPool(c, s, x.shape()));
  return c.SetOutput(0, ops::AvgPool(c.graph(), x, o, c.name()));
}

}  // namespace

absl::Status ConvertMaxPool(ConvertContext& c) { return Pool(c, /*max=*/true); }
absl::Status ConvertAveragePool(ConvertContext& c) { return Pool(c, /*max=*/false); }

absl::Status ConvertGlobalAveragePool(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  if (x.shape().rank() != 4 || x.shape()[2] != x.shape()[3]) {
    return c.Unimplemented("", absl::StrCat("Strata's GlobalAvgPool takes square NCHW planes, got ",
                                            x.shape().ToString()));
  }
  return c.SetOutput(0, ops::GlobalAvgPool(c.graph(), x, c.name()));
}

}  // namespace strata::onnx_io
