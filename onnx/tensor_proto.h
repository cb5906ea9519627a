// ONNX TensorProto <-> the values the importer and exporter work with. ONNX
// stores data in typed repeated fields or little-endian raw_data; both are
// read, sizes are checked against the dims before anything is trusted.
#ifndef STRATA_ONNX_TENSOR_PROTO_H_
#define STRATA_ONNX_TENSOR_PROTO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/tensor.h"
#include "onnx/onnx_pb.h"

namespace strata::onnx_io {

// A constant known at import time: float32 data in `floats`, integer and
// bool data (INT64, INT32, BOOL) in `ints`.
struct OnnxTensor {
  std::vector<int64_t> dims;
  int32_t data_type = 0;  // onnx::TensorProto::DataType
  std::vector<float> floats;
  std::vector<int64_t> ints;

  bool is_float() const { return data_type == onnx::TensorProto::FLOAT; }
  int64_t num_elements() const;
};

// Reads FLOAT, INT64, INT32 and BOOL tensors; other types and external data
// are Unimplemented, wrong sizes InvalidArgument. `what` starts messages
// ("initializer 'fc.weight'").
absl::StatusOr<OnnxTensor> ReadTensorProto(const onnx::TensorProto& proto, absl::string_view what);

// The float32 Strata tensor of a FLOAT OnnxTensor (rank 0 stays a scalar).
absl::StatusOr<Tensor> ToStrataTensor(const OnnxTensor& t, absl::string_view what);

// A float32 Strata tensor as a FLOAT TensorProto (raw_data).
void WriteFloatTensor(const Tensor& t, const std::string& name, onnx::TensorProto* out);
// An INT64 TensorProto (shape constants).
void WriteInt64Tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& values,
                      const std::string& name, onnx::TensorProto* out);

}  // namespace strata::onnx_io

#endif  // STRATA_ONNX_TENSOR_PROTO_H_
