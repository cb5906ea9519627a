// Data-parallel training over MPI: training::DataParallel with OpenMPI.
//
// Gradients are averaged in buckets: as the backward sweep finalises each
// variable's gradient (last layers first), it joins the current bucket; once
// a bucket holds bucket_mb megabytes, an AllReduceStart for it is added right
// there, so the runtime starts its all-reduce as soon as those gradients are
// computed and the communication overlaps the rest of the backward pass. The
// AllReduceWait of every bucket runs before the updates (which the runtime
// schedules last). bucket_mb = 0 gives one bucket per variable; a huge value
// one bucket for all, started at the end of the backward pass (no overlap).
#ifndef STRATA_DISTRIBUTED_DATA_PARALLEL_H_
#define STRATA_DISTRIBUTED_DATA_PARALLEL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "distributed/mpi_context.h"
#include "training/data_parallel.h"

namespace strata::distributed {

struct DataParallelOptions {
  double bucket_mb = 25;   // PyTorch DDP's default bucket_cap_mb
  double timeout_s = 60;   // every collective must finish within this
};

class MpiDataParallel : public training::DataParallel {
 public:
  // Initialises MPI (once per process). InvalidArgument for a negative
  // bucket size or a timeout outside (0, 1e6] seconds.
  static absl::StatusOr<std::shared_ptr<MpiDataParallel>> Create(const DataParallelOptions& options);

  int rank() const override { return mpi_->rank(); }
  int size() const override { return mpi_->size(); }
  absl::Status AverageGradients(optim::OptimizerConfig& config) override;
  absl::Status BroadcastVariables(runtime::VariableStore& store) override;
  absl::StatusOr<double> Average(double value) override;
  std::string Summary() override;

  MpiContext& mpi() { return *mpi_; }
  int buckets() const { return buckets_; }

 private:
  MpiDataParallel(MpiContext* mpi, DataParallelOptions options) : mpi_(mpi), options_(options) {}

  MpiContext* mpi_;
  DataParallelOptions options_;
  int buckets_ = 0;  // of the last graph AverageGradients was used for
};

}  // namespace strata::distributed

#endif  // STRATA_DISTRIBUTED_DATA_PARALLEL_H_
