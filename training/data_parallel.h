// What the training loop needs from data-parallel training, without knowing
// the transport: the trainer stays free of MPI, and distributed/ implements
// this with OpenMPI (distributed/data_parallel.h).
//
// Every rank builds the same graph with a per-rank batch (the global batch
// divided by the number of ranks), takes its own slice of every global batch
// of the same shuffled order, and applies the gradients averaged over all
// ranks, so every rank keeps the same weights: N ranks with batch B/N follow
// the same trajectory as one process with batch B (up to the summation order).
#ifndef STRATA_TRAINING_DATA_PARALLEL_H_
#define STRATA_TRAINING_DATA_PARALLEL_H_

#include <cstdint>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "graph/tensor.h"
#include "optim/optimizer.h"
#include "runtime/variable_store.h"

namespace strata::training {

class DataParallel {
 public:
  virtual ~DataParallel() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Sets config.gradient_transform so that the updates apply the gradients
  // averaged over all ranks.
  virtual absl::Status AverageGradients(optim::OptimizerConfig& config) = 0;
  // Makes every variable in `store` equal to rank 0's.
  virtual absl::Status BroadcastVariables(runtime::VariableStore& store) = 0;
  // The mean of `value` over all ranks (for the loss that is logged).
  virtual absl::StatusOr<double> Average(double value) = 0;
  // After the run: a line about the communication (buckets, overlap), or "".
  virtual std::string Summary() { return ""; }
};

// InvalidArgument unless the global batch divides into dp's ranks (nothing
// to check without dp).
absl::Status CheckDataParallel(const DataParallel* dp, int64_t global_batch);

// `per_rank` (a model input) with dimension 0 set to the global batch.
Shape GlobalBatchShape(const Shape& per_rank, int64_t global_batch);

// A stream that discards everything: the log of ranks other than 0.
std::ostream& NullOutput();

// Rows [rank * n, (rank + 1) * n) of `batch` (dimension 0), n = rows / size.
// `batch`'s rows must divide by `size`.
Tensor ShardRows(const Tensor& batch, int rank, int size);

}  // namespace strata::training

#endif  // STRATA_TRAINING_DATA_PARALLEL_H_
