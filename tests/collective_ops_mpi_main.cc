// Run under mpirun by tests/collective_ops_test.cc: checks, on every rank,
// the gradient all-reduce ops (two buckets of uneven tensors, a plan reused
// with new values, float32 kernels and float64 reference kernels), the
// variable broadcast and the scalar average against values computed here.
// Prints "rank R of N: ok" or the first mismatch, and exits 0 or 1.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "distributed/collective_ops.h"
#include "distributed/data_parallel.h"
#include "ops/state.h"
#include "runtime/session.h"

namespace strata {
namespace {

// Rank r's value for element i of tensor t on run k: distinct everywhere.
double Value(int rank, int t, int64_t i, int k) { return (rank + 1) * 0.5 + t * 10 + i * 0.25 + k * 100; }

absl::Status CheckOps(int rank, int size, bool reference) {
  Graph g;
  const std::vector<Shape> shapes = {Shape{3, 2}, Shape{5}, Shape{}};
  std::vector<Output> grads;
  for (size_t t = 0; t < shapes.size(); ++t) grads.push_back(ops::Placeholder(g, absl::StrCat("g", t), shapes[t]));
  Output b0 = distributed::AllReduceStart(g, {grads[0], grads[1]}, 0, "start0");
  Output b1 = distributed::AllReduceStart(g, {grads[2]}, 1, "start1");
  std::vector<Output> out = distributed::AllReduceWait(g, b0, {grads[0], grads[1]}, "wait0");
  std::vector<Output> out1 = distributed::AllReduceWait(g, b1, {grads[2]}, "wait1");
  if (!g.status().ok()) return g.status();
  out.insert(out.end(), out1.begin(), out1.end());
  runtime::SessionOptions options;
  options.reference_float64 = reference;
  auto session = runtime::Session::Create(g, options);
  if (!session.ok()) return session.status();
  for (int k = 0; k < 2; ++k) {  // the second run reuses the compiled plan
    runtime::Feeds feeds;
    for (size_t t = 0; t < shapes.size(); ++t) {
      Tensor v(DType::kFloat32, shapes[t]);
      for (int64_t i = 0; i < v.num_elements(); ++i) v.data<float>()[i] = static_cast<float>(Value(rank, t, i, k));
      feeds.push_back({grads[t], v});
    }
    auto fetched = (*session)->Run(feeds, out);
    if (!fetched.ok()) return fetched.status();
    for (size_t t = 0; t < shapes.size(); ++t) {
      const Tensor& f = (*fetched)[t];
      if (f.shape() != shapes[t]) return absl::InternalError(absl::StrCat("output ", t, " has shape ", f.shape().ToString()));
      for (int64_t i = 0; i < f.num_elements(); ++i) {
        double expected = 0;
        for (int r = 0; r < size; ++r) expected += static_cast<float>(Value(r, t, i, k));
        expected /= size;
        const double got = reference ? f.data<double>()[i] : f.data<float>()[i];
        if (std::abs(got - expected) > 1e-6 * std::abs(expected)) {
          return absl::InternalError(absl::StrCat(reference ? "float64" : "float32", " run ", k, ": output ", t,
                                                  "[", i, "] = ", got, ", expected ", expected));
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBroadcastAndAverage(distributed::MpiDataParallel& dp) {
  runtime::VariableStore store;
  Tensor w(DType::kFloat32, Shape{4});
  for (int i = 0; i < 4; ++i) w.data<float>()[i] = static_cast<float>(dp.rank() * 10 + i);
  if (absl::Status s = store.Set("w", w); !s.ok()) return s;
  if (absl::Status s = store.Set("z", Tensor::Scalar<float>(static_cast<float>(dp.rank()) - 7)); !s.ok()) return s;
  if (absl::Status s = dp.BroadcastVariables(store); !s.ok()) return s;
  auto got = store.Get("w");
  auto z = store.Get("z");
  if (!got.ok() || !z.ok()) return absl::InternalError("a broadcast variable went missing");
  for (int i = 0; i < 4; ++i) {
    if (got->data<float>()[i] != static_cast<float>(i)) return absl::InternalError("w is not rank 0's after the broadcast");
  }
  if (z->data<float>()[0] != -7.0f) return absl::InternalError("z is not rank 0's after the broadcast");
  auto mean = dp.Average(dp.rank() + 1.0);
  if (!mean.ok()) return mean.status();
  if (std::abs(*mean - (dp.size() + 1) / 2.0) > 1e-12) return absl::InternalError(absl::StrCat("average ", *mean));
  return absl::OkStatus();
}

}  // namespace
}  // namespace strata

int main() {
  using namespace strata;
  auto dp = distributed::MpiDataParallel::Create({/*bucket_mb=*/25, /*timeout_s=*/30});
  if (!dp.ok()) {
    std::printf("MPI: %s\n", std::string(dp.status().message()).c_str());
    return 1;
  }
  const int rank = (*dp)->rank(), size = (*dp)->size();
  absl::Status s = CheckOps(rank, size, /*reference=*/false);
  if (s.ok()) s = CheckOps(rank, size, /*reference=*/true);
  if (s.ok()) s = CheckBroadcastAndAverage(**dp);
  std::printf("rank %d of %d: %s\n", rank, size, s.ok() ? "ok" : std::string(s.message()).c_str());
  std::fflush(stdout);
  if (!s.ok()) (*dp)->mpi().Abort(s);
  (*dp)->mpi().Finalize();
  return 0;
}
