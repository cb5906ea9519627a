// Gradient all-reduce as graph ops, in two halves so that communication
// overlaps the rest of the backward pass (as PyTorch DDP's buckets and
// Horovod's tensor fusion do):
//
//   AllReduceStart(g_1..g_n) -> buffer   copies the gradients into one flat
//       buffer and starts summing it over all ranks on the MPI thread;
//       returns at once.
//   AllReduceWait(buffer) -> averaged   waits for that sum (within the
//       collective timeout) and writes it divided by the number of ranks.
//   UnpackGradient(averaged, g_i) -> a_i   g_i's slice of it, with g_i's
//       spec (g_i gives the spec; `offset` the first element).
//
// These OpDefs belong to this library, not to the global op registry (ops/
// cannot depend on MPI): graph builders pass them directly, as every builder
// does, and a GraphDef holding them cannot be reloaded by name (a collective
// needs a live MPI job anyway). The kernels get the process's MpiContext when
// a plan is built, so the ops fail then, not at build time, without MPI.
#ifndef STRATA_DISTRIBUTED_COLLECTIVE_OPS_H_
#define STRATA_DISTRIBUTED_COLLECTIVE_OPS_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "graph/graph.h"

namespace strata::distributed {

const OpDef& AllReduceStartDef();
const OpDef& AllReduceWaitDef();
const OpDef& UnpackGradientDef();

// `bucket` numbers the bucket in messages ("all-reduce of bucket 3").
Output AllReduceStart(Graph& g, std::vector<Output> grads, int64_t bucket, absl::string_view name = "allreduce_start");
// The averaged gradients, one per entry of `grads`, after waiting for
// `buffer` (made by AllReduceStart from the same `grads`).
std::vector<Output> AllReduceWait(Graph& g, Output buffer, const std::vector<Output>& grads,
                                  absl::string_view name = "allreduce_wait");

// Time spent by the all-reduces since the last reset, summed over buckets:
// `communication` from the start of each all-reduce on the MPI thread to its
// completion, `exposed` the part of it the Wait ops spent blocked (time the
// step lost), so communication - exposed was hidden behind computation.
struct CollectiveStats {
  int64_t collectives = 0;
  int64_t bytes = 0;
  double communication_s = 0;
  double exposed_s = 0;
  double hidden_fraction() const {
    return communication_s > 0 ? std::max(0.0, communication_s - exposed_s) / communication_s : 0;
  }
};
CollectiveStats GetCollectiveStats();
void ResetCollectiveStats();

}  // namespace strata::distributed

#endif  // STRATA_DISTRIBUTED_COLLECTIVE_OPS_H_
