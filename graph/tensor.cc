#include "graph/tensor.h"

#include <cstdlib>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"

namespace strata {

std::string TensorSpec::ToString() const { return absl::StrCat(DTypeName(dtype), shape.ToString()); }

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  // Round up so that a zero-sized or odd-sized tensor still gets a valid,
  // aligned allocation.
  size_t bytes = static_cast<size_t>(num_bytes());
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  // As operator new does: the caller (Session::Run) turns it into a Status.
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  data_ = std::shared_ptr<uint8_t>(static_cast<uint8_t*>(p), [](uint8_t* q) { std::free(q); });
}

Tensor Tensor::View(const TensorSpec& spec, const std::shared_ptr<uint8_t>& storage, int64_t offset) {
  Tensor t;
  t.dtype_ = spec.dtype;
  t.shape_ = spec.shape;
  t.data_ = std::shared_ptr<uint8_t>(storage, storage.get() + offset);
  return t;
}

Tensor Tensor::Clone() const {
  if (!valid()) return Tensor();
  Tensor t(dtype_, shape_);
  std::memcpy(t.raw_data(), raw_data(), num_bytes());
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::CastTo(DType dtype) const {
  if (dtype == dtype_) return Clone();
  Tensor t(dtype, shape_);
  const int64_t n = num_elements();
  auto read = [&](int64_t i) -> double {
    switch (dtype_) {
      case DType::kFloat32: return data<float>()[i];
      case DType::kFloat64: return data<double>()[i];
      case DType::kInt32: return data<int32_t>()[i];
      case DType::kUInt8: return data<uint8_t>()[i];
      default: return 0;
    }
  };
  for (int64_t i = 0; i < n; ++i) {
    double v = read(i);
    switch (dtype) {
      case DType::kFloat32: t.data<float>()[i] = static_cast<float>(v); break;
      case DType::kFloat64: t.data<double>()[i] = v; break;
      case DType::kInt32: t.data<int32_t>()[i] = static_cast<int32_t>(v); break;
      case DType::kUInt8: t.data<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      default: break;
    }
  }
  return t;
}

}  // namespace strata
