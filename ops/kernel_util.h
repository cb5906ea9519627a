// Small helpers for writing kernels: a kernel from a lambda, and typed access
// to a kernel's tensors for the naive (reference) loops.
#ifndef STRATA_OPS_KERNEL_UTIL_H_
#define STRATA_OPS_KERNEL_UTIL_H_

#include <memory>
#include <utility>

#include "graph/graph.h"
#include "graph/op_def.h"

namespace strata::ops {

// Wraps fn(KernelRunContext&) -> absl::Status as a Kernel.
template <typename F>
class FnKernel : public Kernel {
 public:
  explicit FnKernel(F fn) : fn_(std::move(fn)) {}
  absl::Status Run(KernelRunContext& ctx) override { return fn_(ctx); }

 private:
  F fn_;
};

template <typename F>
absl::StatusOr<std::unique_ptr<Kernel>> MakeFnKernel(F fn) {
  return std::unique_ptr<Kernel>(new FnKernel<F>(std::move(fn)));
}

// A factory for kernels that build nothing: fn(const KernelBuildContext&,
// KernelRunContext&) runs each time, with the build context captured by copy
// of what it needs. Most reference kernels are written this way.
template <typename F>
KernelFactory SimpleKernel(F fn) {
  return [fn](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return MakeFnKernel([fn, node = &b.node](KernelRunContext& ctx) { return fn(*node, ctx); });
  };
}

template <typename T>
const T* In(const KernelRunContext& ctx, int i) { return ctx.inputs[i]->data<T>(); }
template <typename T>
T* Out(KernelRunContext& ctx, int i) { return ctx.outputs[i]->data<T>(); }

}  // namespace strata::ops

#endif  // STRATA_OPS_KERNEL_UTIL_H_
