#include "onnx/converters.h"

namespace strata::onnx_io {

const std::map<std::string, Converter, std::less<>>& Converters() {
  static const auto* table = new std::map<std::string, Converter, std::less<>>{
      {"Conv", {ConvertConv, {"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"}}},
      {"MaxPool",
       {ConvertMaxPool, {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"}}},
      {"AveragePool",
       {ConvertAveragePool, {"auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"}}},
      {"GlobalAveragePool", {ConvertGlobalAveragePool, {}}},
      {"Gemm", {ConvertGemm, {"alpha", "beta", "transA", "transB"}}},
      {"MatMul", {ConvertMatMul, {}}},
      {"Add", {ConvertAdd, {}}},
      {"Sub", {ConvertSub, {}}},
      {"Mul", {ConvertMul, {}}},
      {"Relu", {ConvertRelu, {}}},
      {"Sigmoid", {ConvertSigmoid, {}}},
      {"Tanh", {ConvertTanh, {}}},
      {"Clip", {ConvertClip, {"min", "max"}}},
      {"Softmax", {ConvertSoftmax, {"axis"}}},
      {"BatchNormalization", {ConvertBatchNormalization, {"epsilon", "momentum", "training_mode"}}},
      {"LRN", {ConvertLRN, {"alpha", "beta", "bias", "size"}}},
      {"Dropout", {ConvertDropout, {"ratio"}}},
      {"Concat", {ConvertConcat, {"axis"}}},
      {"Flatten", {ConvertFlatten, {"axis"}}},
      {"Reshape", {ConvertReshape, {"allowzero"}}},
      {"Constant", {ConvertConstant, {"value", "value_float", "value_floats", "value_int", "value_ints"}}},
      {"Identity", {ConvertIdentity, {}}},
      {"Pad", {ConvertPad, {"mode", "pads", "value"}}},
      {"Shape", {ConvertShape, {"start", "end"}}},
      {"Gather", {ConvertGather, {"axis"}}},
      {"Unsqueeze", {ConvertUnsqueeze, {"axes"}}},
      {"Squeeze", {ConvertSqueeze, {"axes"}}},
  };
  return *table;
}

}  // namespace strata::onnx_io
