// Element types of tensors. float32 is what models train in; float64 runs the
// reference kernels of the gradient checker; int32 holds labels and indices;
// uint8 holds opaque bytes (oneDNN workspaces).
#ifndef STRATA_GRAPH_DTYPE_H_
#define STRATA_GRAPH_DTYPE_H_

#include <cstdint>

#include "absl/strings/string_view.h"
#include "absl/strings/string_view.h"

namespace strata {

enum class DType : int32_t { kInvalid = 0, kFloat32 = 1, kFloat64 = 2, kInt32 = 3, kUInt8 = 4 };

inline int64_t SizeOf(DType t) {
  switch (t) {
    case DType::kFloat32: return 4;
    case DType::kFloat64: return 8;
    case DType::kInt32: return 4;
    case DType::kUInt8: return 1;
    default: return 0;
  }
}

inline absl::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    case DType::kInt32: return "int32";
    case DType::kUInt8: return "uint8";
    default: return "invalid";
  }
}

template <typename T> constexpr DType DTypeOf();
template <> constexpr DType DTypeOf<float>() { return DType::kFloat32; }
template <> constexpr DType DTypeOf<double>() { return DType::kFloat64; }
template <> constexpr DType DTypeOf<int32_t>() { return DType::kInt32; }
template <> constexpr DType DTypeOf<uint8_t>() { return DType::kUInt8; }

}  // namespace strata

#endif  // STRATA_GRAPH_DTYPE_H_
