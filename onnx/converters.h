// The registration table: ONNX op type -> converter, with the attributes
// each converter understands. The importer rejects any other attribute as
// Unimplemented before calling the converter, so none is silently ignored.
#ifndef STRATA_ONNX_CONVERTERS_H_
#define STRATA_ONNX_CONVERTERS_H_

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "onnx/convert_context.h"

namespace strata::onnx_io {

using ConvertFn = std::function<absl::Status(ConvertContext&)>;

struct Converter {
  ConvertFn convert;
  std::vector<std::string> attributes;
};

// Every supported op of the default domain (opsets 9 to 17).
const std::map<std::string, Converter, std::less<>>& Converters();

// The converters, one family per file.
absl::Status ConvertConv(ConvertContext& c);                // convert_conv.cc
absl::Status ConvertMaxPool(ConvertContext& c);             // convert_pool.cc
absl::Status ConvertAveragePool(ConvertContext& c);
absl::Status ConvertGlobalAveragePool(ConvertContext& c);
absl::Status ConvertGemm(ConvertContext& c);                // convert_math.cc
absl::Status ConvertMatMul(ConvertContext& c);
absl::Status ConvertAdd(ConvertContext& c);
absl::Status ConvertSub(ConvertContext& c);
absl::Status ConvertMul(ConvertContext& c);
absl::Status ConvertRelu(ConvertContext& c);
absl::Status ConvertSigmoid(ConvertContext& c);
absl::Status ConvertTanh(ConvertContext& c);
absl::Status ConvertClip(ConvertContext& c);
absl::Status ConvertSoftmax(ConvertContext& c);
absl::Status ConvertBatchNormalization(ConvertContext& c);  // convert_norm.cc
absl::Status ConvertLRN(ConvertContext& c);
absl::Status ConvertDropout(ConvertContext& c);
absl::Status ConvertConcat(ConvertContext& c);              // convert_array.cc
absl::Status ConvertFlatten(ConvertContext& c);
absl::Status ConvertReshape(ConvertContext& c);
absl::Status ConvertConstant(ConvertContext& c);
absl::Status ConvertIdentity(ConvertContext& c);
absl::Status ConvertPad(ConvertContext& c);
absl::Status ConvertShape(ConvertContext& c);               // convert_shape.cc
absl::Status ConvertGather(ConvertContext& c);
absl::Status ConvertUnsqueeze(ConvertContext& c);
absl::Status ConvertSqueeze(ConvertContext& c);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_CONVERTERS_H_
