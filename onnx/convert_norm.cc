// BatchNormalization (inference form), LRN and Dropout.
#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "onnx/converters.h"
#include "ops/batch_norm.h"
#include "ops/dropout.h"
#include "ops/lrn.h"

namespace strata::onnx_io {

// The running statistics become non-trainable variables, scale and bias
// trainable ones, so an imported network fine-tunes as PyTorch's would
// (training runs normalise with the batch statistics and update the running
// ones). ONNX's momentum weighs the old running value, PyTorch's and
// Strata's the new batch value: m_strata = 1 - m_onnx.
absl::Status ConvertBatchNormalization(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(int64_t training_mode, c.IntAttr("training_mode", 0));
  if (training_mode != 0) {
    return c.Unimplemented("training_mode", "only the inference form is imported (Strata switches per run)");
  }
  STRATA_RETURN_IF_ERROR(c.RejectOutputsFrom(1, "training statistics"));
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  STRATA_ASSIGN_OR_RETURN(Output scale, c.Input(1));
  STRATA_ASSIGN_OR_RETURN(Output bias, c.Input(2));
  STRATA_ASSIGN_OR_RETURN(Output mean, c.Input(3, /*trainable=*/false));
  STRATA_ASSIGN_OR_RETURN(Output var, c.Input(4, /*trainable=*/false));
  ops::BatchNormOptions opts;
  STRATA_ASSIGN_OR_RETURN(float epsilon, c.FloatAttr("epsilon", 1e-5f));
  STRATA_ASSIGN_OR_RETURN(float momentum, c.FloatAttr("momentum", 0.9f));
  opts.epsilon = epsilon;
  opts.momentum = 1.0 - static_cast<double>(momentum);
  return c.SetOutput(0, ops::BatchNorm(c.graph(), x, scale, bias, mean, var, opts, c.name()));
}

// The same formula as Strata's (alpha divided by size); ONNX centres an even
// window differently from Caffe, so only odd sizes are exact.
absl::Status ConvertLRN(ConvertContext& c) {
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  ops::LRNOptions opts;
  if (!c.HasAttr("size")) return c.Invalid("attribute 'size' is required");
  STRATA_ASSIGN_OR_RETURN(opts.size, c.IntAttr("size", 0));
  if (opts.size % 2 == 0) {
    return c.Unimplemented("size", "even window sizes are not supported (Strata's window is centred)");
  }
  STRATA_ASSIGN_OR_RETURN(float alpha, c.FloatAttr("alpha", 1e-4f));
  STRATA_ASSIGN_OR_RETURN(float beta, c.FloatAttr("beta", 0.75f));
  STRATA_ASSIGN_OR_RETURN(float bias, c.FloatAttr("bias", 1.0f));
  opts.alpha = alpha;
  opts.beta = beta;
  opts.k = bias;
  return c.SetOutput(0, ops::LRN(c.graph(), x, opts, c.name()));
}

// Strata's Dropout: the identity in inference runs, inverted dropout with
// the same ratio when the imported graph is fine-tuned.
absl::Status ConvertDropout(ConvertContext& c) {
  STRATA_RETURN_IF_ERROR(c.RejectOutputsFrom(1, "mask"));
  STRATA_ASSIGN_OR_RETURN(Output x, c.Input(0));
  float ratio = 0.5f;
  if (c.opset() < 12) {
    STRATA_ASSIGN_OR_RETURN(ratio, c.FloatAttr("ratio", 0.5f));
  } else {
    if (c.HasInput(1)) {
      STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(1, "ratio"));
      if (!t.is_float() || t.num_elements() != 1) return c.Invalid("ratio must be a float scalar");
      ratio = t.floats[0];
    }
    if (c.HasInput(2)) {
      STRATA_ASSIGN_OR_RETURN(OnnxTensor t, c.ConstantInput(2, "training_mode"));
      if (t.num_elements() != 1 || t.ints.empty() || t.ints[0] != 0) {
        return c.Unimplemented("", "input training_mode must be a constant false");
      }
    }
  }
  if (ratio < 0.0f || ratio >= 1.0f) return c.Invalid(absl::StrCat("ratio ", ratio, " is not in [0, 1)"));
  return c.SetOutput(0, ops::Dropout(c.graph(), x, ratio, c.name()));
}

}  // namespace strata::onnx_io
