#include "onnx/tensor_proto.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace strata::onnx_io {
namespace {

// Far above any real model, and small enough that products never overflow.
constexpr int64_t kMaxElements = int64_t{1} << 36;

template <typename T>
std::vector<T> FromRaw(const std::string& raw) {
  std::vector<T> out(raw.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), raw.data(), out.size() * sizeof(T));  // x86: little-endian
  return out;
}

absl::Status SizeMismatch(absl::string_view what, int64_t expected, int64_t got) {
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": dims hold ", expected, " elements but the data has ", got));
}

}  // namespace

int64_t OnnxTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

absl::StatusOr<OnnxTensor> ReadTensorProto(const onnx::TensorProto& proto, absl::string_view what) {
  OnnxTensor t;
  t.data_type = proto.data_type();
  int64_t n = 1;
  for (int64_t d : proto.dims()) {
    if (d < 0 || (d > 0 && n > kMaxElements / d)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": invalid dims [", absl::StrJoin(proto.dims(), ","), "]"));
    }
    n *= d;
    t.dims.push_back(d);
  }
  if (proto.data_location() == onnx::TensorProto::EXTERNAL) {
    return absl::UnimplementedError(absl::StrCat(what, ": external data files are not supported"));
  }
  const bool raw = proto.has_raw_data();
  switch (proto.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (raw) {
        if (static_cast<int64_t>(proto.raw_data().size()) != n * 4) {
          return SizeMismatch(what, n, proto.raw_data().size() / 4);
        }
        t.floats = FromRaw<float>(proto.raw_data());
      } else {
        t.floats.assign(proto.float_data().begin(), proto.float_data().end());
      }
      if (static_cast<int64_t>(t.floats.size()) != n) return SizeMismatch(what, n, t.floats.size());
      return t;
    case onnx::TensorProto::INT64:
      if (raw) {
        if (static_cast<int64_t>(proto.raw_data().size()) != n * 8) {
          return SizeMismatch(what, n, proto.raw_data().size() / 8);
        }
        t.ints = FromRaw<int64_t>(proto.raw_data());
      } else {
        t.ints.assign(proto.int64_data().begin(), proto.int64_data().end());
      }
      break;
    case onnx::TensorProto::INT32:
      if (raw) {
        if (static_cast<int64_t>(proto.raw_data().size()) != n * 4) {
          return SizeMismatch(what, n, proto.raw_data().size() / 4);
        }
        for (int32_t v : FromRaw<int32_t>(proto.raw_data())) t.ints.push_back(v);
      } else {
        t.ints.assign(proto.int32_data().begin(), proto.int32_data().end());
      }
      break;
    case onnx::TensorProto::BOOL:
      if (raw) {
        for (unsigned char c : proto.raw_data()) t.ints.push_back(c != 0);
      } else {
        for (int32_t v : proto.int32_data()) t.ints.push_back(v != 0);
      }
      break;
    default:
      return absl::UnimplementedError(absl::StrCat(
          what, ": data type ", onnx::TensorProto::DataType_Name(static_cast<onnx::TensorProto::DataType>(
                                    proto.data_type())),
          " is not supported (FLOAT, INT64, INT32 and BOOL are)"));
  }
  if (static_cast<int64_t>(t.ints.size()) != n) return SizeMismatch(what, n, t.ints.size());
  return t;
}

absl::StatusOr<Tensor> ToStrataTensor(const OnnxTensor& t, absl::string_view what) {
  if (!t.is_float()) {
    return absl::UnimplementedError(absl::StrCat(what, ": only FLOAT tensors can be graph values"));
  }
  for (int64_t d : t.dims) {
    if (d == 0) return absl::UnimplementedError(absl::StrCat(what, ": empty tensors are not supported"));
  }
  return Tensor::FromVector<float>(Shape(t.dims), t.floats);
}

void WriteFloatTensor(const Tensor& t, const std::string& name, onnx::TensorProto* out) {
  out->set_name(name);
  out->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : t.shape().dims()) out->add_dims(d);
  out->set_raw_data(std::string(static_cast<const char*>(t.raw_data()), t.num_bytes()));
}

void WriteInt64Tensor(const std::vector<int64_t>& dims, const std::vector<int64_t>& values,
                      const std::string& name, onnx::TensorProto* out) {
  out->set_name(name);
  out->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) out->add_dims(d);
  for (int64_t v : values) out->add_int64_data(v);
}

}  // namespace strata::onnx_io
