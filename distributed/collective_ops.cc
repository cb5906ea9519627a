#include "distributed/collective_ops.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "distributed/mpi_context.h"
#include "graph/status_macros.h"
#include "ops/kernel_util.h"

namespace strata::distributed {
namespace {

// The collective in flight for each Start buffer. Start and Wait meet through
// the buffer's address, which is the same tensor in a compiled plan (Wait's
// input 0 is Start's output 0), and distinct between plans.
std::mutex pending_mu;
std::map<const void*, CollectivePtr>& Pending() {
  static auto* pending = new std::map<const void*, CollectivePtr>();
  return *pending;
}

std::mutex stats_mu;
CollectiveStats& Stats() {
  static auto* stats = new CollectiveStats();
  return *stats;
}

absl::Status StartShape(InferenceContext& c) {
  int64_t total = 0;
  for (int i = 0; i < c.num_inputs(); ++i) {
    if (c.input(i).dtype != DType::kFloat32) return c.Error("gradients must be float32");
    total += c.input(i).shape.num_elements();
  }
  c.set_output(0, TensorSpec{DType::kFloat32, Shape{total}});
  return absl::OkStatus();
}

absl::Status WaitShape(InferenceContext& c) {
  if (c.input(0).dtype != DType::kFloat32 || c.input(0).shape.rank() != 1) {
    return c.Error("expects the flat float32 buffer of an AllReduceStart");
  }
  c.set_output(0, c.input(0));
  return absl::OkStatus();
}

absl::Status UnpackShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(int64_t offset, c.Attr<int64_t>("offset"));
  const int64_t n = c.input(1).shape.num_elements();
  if (c.input(0).shape.rank() != 1 || offset < 0 || offset + n > c.input(0).shape.num_elements()) {
    return c.Error(absl::StrCat("elements [", offset, ", ", offset + n, ") are outside the buffer"));
  }
  c.set_output(0, c.input(1));
  return absl::OkStatus();
}

template <typename T>
KernelFactory UnpackKernel() {
  return [](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(int64_t offset, b.Attr<int64_t>("offset"));
    return ops::MakeFnKernel([offset](KernelRunContext& ctx) -> absl::Status {
      std::memcpy(ctx.outputs[0]->raw_data(), ctx.inputs[0]->data<T>() + offset, ctx.outputs[0]->num_bytes());
      return absl::OkStatus();
    });
  };
}

template <typename T>
KernelFactory StartKernel() {
  return [](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(MpiContext * mpi, MpiContext::Get());
    STRATA_ASSIGN_OR_RETURN(int64_t bucket, b.Attr<int64_t>("bucket"));
    return ops::MakeFnKernel([mpi, bucket](KernelRunContext& ctx) -> absl::Status {
      Tensor* buffer = ctx.outputs[0];
      char* dst = static_cast<char*>(buffer->raw_data());
      for (Tensor* in : ctx.inputs) {
        std::memcpy(dst, in->raw_data(), in->num_bytes());
        dst += in->num_bytes();
      }
      const std::string what = absl::StrFormat("all-reduce of gradient bucket %d (%.2f MB) at step %d", bucket,
                                               buffer->num_bytes() / 1e6, ctx.options ? ctx.options->step : 0);
      CollectivePtr c = mpi->StartAllReduce(buffer->raw_data(), buffer->num_elements(),
                                            sizeof(T) == 8 ? ElementType::kFloat64 : ElementType::kFloat32, what);
      std::lock_guard<std::mutex> lock(pending_mu);
      Pending()[buffer->raw_data()] = std::move(c);
      return absl::OkStatus();
    });
  };
}

template <typename T>
KernelFactory WaitKernel() {
  return [](const KernelBuildContext& b) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    STRATA_ASSIGN_OR_RETURN(MpiContext * mpi, MpiContext::Get());
    return ops::MakeFnKernel([mpi](KernelRunContext& ctx) -> absl::Status {
      const Tensor* buffer = ctx.inputs[0];
      CollectivePtr c;
      {
        std::lock_guard<std::mutex> lock(pending_mu);
        auto it = Pending().find(buffer->raw_data());
        if (it == Pending().end()) return absl::InternalError("no all-reduce was started for this buffer");
        c = std::move(it->second);
        Pending().erase(it);
      }
      const Clock::time_point entered = Clock::now();
      STRATA_RETURN_IF_ERROR(mpi->Wait(c));
      const Clock::time_point left = Clock::now();
      {
        std::lock_guard<std::mutex> lock(stats_mu);
        CollectiveStats& s = Stats();
        s.collectives += 1;
        s.bytes += buffer->num_bytes();
        s.communication_s += std::chrono::duration<double>(c->finished - c->started).count();
        s.exposed_s += std::chrono::duration<double>(left - entered).count();
      }
      const T scale = static_cast<T>(1.0 / mpi->size());
      const T* src = buffer->data<T>();
      T* dst = ctx.outputs[0]->data<T>();
      const int64_t n = buffer->num_elements();
      for (int64_t i = 0; i < n; ++i) dst[i] = src[i] * scale;
      return absl::OkStatus();
    });
  };
}

}  // namespace

const OpDef& AllReduceStartDef() {
  static const OpDef* def = [] {
    auto* d = new OpDef("AllReduceStart");
    d->Inputs(-1)
        .Outputs(1)
        .RequiredAttr("bucket")
        .Shape(StartShape)
        .Kernel(StartKernel<float>())
        .ReferenceKernel(StartKernel<double>())
        .NoGradient()
        .Doc("Copies the gradients into one buffer and starts summing it over the MPI ranks.");
    return d;
  }();
  return *def;
}

const OpDef& AllReduceWaitDef() {
  static const OpDef* def = [] {
    auto* d = new OpDef("AllReduceWait");
    d->Inputs(1)
        .Outputs(1)
        .Shape(WaitShape)
        .Kernel(WaitKernel<float>())
        .ReferenceKernel(WaitKernel<double>())
        .NoGradient()
        .Doc("Waits for an AllReduceStart and writes the buffer averaged over the ranks.");
    return d;
  }();
  return *def;
}

Output AllReduceStart(Graph& g, std::vector<Output> grads, int64_t bucket, absl::string_view name) {
  Node* n = g.AddNode(AllReduceStartDef(), name, std::move(grads), {{"bucket", bucket}});
  return n ? n->output(0) : Output{};
}

const OpDef& UnpackGradientDef() {
  static const OpDef* def = [] {
    auto* d = new OpDef("UnpackGradient");
    d->Inputs(2)
        .Outputs(1)
        .RequiredAttr("offset")
        .Shape(UnpackShape)
        .Kernel(UnpackKernel<float>())
        .ReferenceKernel(UnpackKernel<double>())
        .NoGradient()
        .Doc("One gradient's slice of an averaged all-reduce buffer, with that gradient's spec.");
    return d;
  }();
  return *def;
}

std::vector<Output> AllReduceWait(Graph& g, Output buffer, const std::vector<Output>& grads,
                                  absl::string_view name) {
  Node* wait = g.AddNode(AllReduceWaitDef(), name, {buffer});
  std::vector<Output> outs;
  if (wait == nullptr) return outs;
  int64_t offset = 0;
  for (const Output& grad : grads) {
    Node* n = g.AddNode(UnpackGradientDef(), absl::StrCat(name, "/unpack"), {wait->output(0), grad},
                        {{"offset", offset}});
    if (n == nullptr) return {};
    outs.push_back(n->output(0));
    offset += grad.shape().num_elements();
  }
  return outs;
}

CollectiveStats GetCollectiveStats() {
  std::lock_guard<std::mutex> lock(stats_mu);
  return Stats();
}

void ResetCollectiveStats() {
  std::lock_guard<std::mutex> lock(stats_mu);
  Stats() = CollectiveStats();
}

}  // namespace strata::distributed
