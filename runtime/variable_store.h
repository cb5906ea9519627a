// Variable values by name, shared by the sessions (and plans) that use them.
#ifndef STRATA_RUNTIME_VARIABLE_STORE_H_
#define STRATA_RUNTIME_VARIABLE_STORE_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "graph/op_def.h"
#include "graph/tensor.h"

namespace strata::runtime {

// Values are seen plain (row-major) through Get, Set and values(), whatever
// layout the storage is in: a training plan keeps convolution weights and
// their optimizer slots in the convolution's blocked layout across steps
// (runtime/layout.h FindKeptWeights), so that they are converted only when
// read from here (a checkpoint, another plan), not on every step.
class VariableStore {
 public:
  bool Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }
  // NotFound naming the variable. Shares the storage when it is plain, else
  // a plain copy.
  absl::StatusOr<Tensor> Get(absl::string_view name) const;
  // Inserts a copy, or copies into the existing storage (so compiled plans
  // see the new value); InvalidArgument if dtype or shape differ.
  absl::Status Set(absl::string_view name, const Tensor& value);
  // Every value, plain (as Get), sorted by name.
  std::map<std::string, Tensor> values() const;
  // What the values take, without converting any.
  int64_t num_bytes() const;

  // For plans: the storage itself, in layout(name) (null: plain), and the
  // conversion of it in place (same address: plans hold it), which bumps the
  // generation. Layouts have the tensor's own size.
  absl::StatusOr<Tensor> Storage(absl::string_view name) const;
  LayoutRef layout(absl::string_view name) const;
  absl::Status SetLayout(absl::string_view name, LayoutRef layout);

  // Changes whenever a value may have changed: on Set, and when a session
  // has run a plan that updates variables in place (MarkWritten). Kernels
  // keep copies derived from variables (weights in a convolution's layout)
  // while it stays the same. Write variables through Set: writes into the
  // storage of a Tensor from Get are not seen.
  uint64_t generation() const { return generation_; }
  void MarkWritten() { ++generation_; }

 private:
  struct Entry {
    Tensor storage;
    LayoutRef layout;
  };
  absl::StatusOr<Tensor> Plain(const std::string& name, const Entry& e) const;

  std::map<std::string, Entry> values_;
  uint64_t generation_ = 0;
};

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_VARIABLE_STORE_H_
