// A dense tensor: dtype, shape and a 64-byte aligned buffer shared between
// copies (copying a Tensor never copies its data; use Clone for that).
#ifndef STRATA_GRAPH_TENSOR_H_
#define STRATA_GRAPH_TENSOR_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/types/span.h"
#include "graph/dtype.h"
#include "graph/shape.h"

namespace strata {

struct TensorSpec {
  DType dtype = DType::kInvalid;
  Shape shape;
  std::string ToString() const;  // "float32[64,1,28,28]"
  bool operator==(const TensorSpec& o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorSpec& o) const { return !(*this == o); }
};

class Tensor {
 public:
  Tensor() = default;  // an empty tensor: !valid()
  // Allocates zero-filled storage.
  Tensor(DType dtype, Shape shape);
  explicit Tensor(const TensorSpec& spec) : Tensor(spec.dtype, spec.shape) {}

  template <typename T>
  static Tensor FromVector(Shape shape, absl::Span<const T> values);
  template <typename T>
  static Tensor Scalar(T value) { return FromVector<T>(Shape{}, {value}); }

  bool valid() const { return data_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  TensorSpec spec() const { return {dtype_, shape_}; }
  int64_t num_elements() const { return shape_.num_elements(); }
  int64_t num_bytes() const { return num_elements() * SizeOf(dtype_); }

  void* raw_data() { return data_.get(); }
  const void* raw_data() const { return data_.get(); }
  template <typename T> T* data() { return static_cast<T*>(raw_data()); }
  template <typename T> const T* data() const { return static_cast<const T*>(raw_data()); }
  template <typename T> absl::Span<T> flat() { return {data<T>(), static_cast<size_t>(num_elements())}; }
  template <typename T> absl::Span<const T> flat() const {
    return {data<T>(), static_cast<size_t>(num_elements())};
  }

  // A tensor of `spec` whose bytes are `storage` + `offset` (64-byte aligned
  // when storage is): it keeps the storage alive, and does not zero it.
  static Tensor View(const TensorSpec& spec, const std::shared_ptr<uint8_t>& storage, int64_t offset);

  // A deep copy with its own storage.
  Tensor Clone() const;
  // A view of the same storage with another shape of the same element count.
  Tensor Reshaped(Shape shape) const;
  // A deep copy converted to another floating type (float32 <-> float64).
  Tensor CastTo(DType dtype) const;
  // True when both tensors share storage.
  bool SharesStorageWith(const Tensor& o) const { return data_ == o.data_; }

 private:
  DType dtype_ = DType::kInvalid;
  Shape shape_;
  std::shared_ptr<uint8_t> data_;
};

template <typename T>
Tensor Tensor::FromVector(Shape shape, absl::Span<const T> values) {
  Tensor t(DTypeOf<T>(), std::move(shape));
  T* d = t.data<T>();
  for (size_t i = 0; i < values.size() && static_cast<int64_t>(i) < t.num_elements(); ++i) d[i] = values[i];
  return t;
}

}  // namespace strata

#endif  // STRATA_GRAPH_TENSOR_H_
