// Static tensor shapes. Activations are NCHW, convolution weights OIHW,
// fully connected weights [in, out]: the same conventions as the checkpoints.
#ifndef STRATA_GRAPH_SHAPE_H_
#define STRATA_GRAPH_SHAPE_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strata {

class Shape {
 public:
  Shape() = default;  // a scalar
  Shape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<int64_t> dims) : dims_(std::move(dims)) {}

  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  int64_t operator[](int i) const { return dims_[i]; }
  const std::vector<int64_t>& dims() const { return dims_; }
  // Product of the dimensions; 1 for a scalar.
  int64_t num_elements() const;
  std::string ToString() const;  // "[64,1,28,28]"

  bool operator==(const Shape& o) const { return dims_ == o.dims_; }
  bool operator!=(const Shape& o) const { return dims_ != o.dims_; }

  // Checks that every dimension is positive and the element count fits in
  // int64 (and, times the element size, in a sane byte count).
  static absl::StatusOr<Shape> Validated(std::vector<int64_t> dims);

 private:
  std::vector<int64_t> dims_;
};

}  // namespace strata

#endif  // STRATA_GRAPH_SHAPE_H_
