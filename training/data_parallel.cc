#include "training/data_parallel.h"

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace strata::training {

absl::Status CheckDataParallel(const DataParallel* dp, int64_t global_batch) {
  if (dp == nullptr) return absl::OkStatus();
  if (dp->size() < 1 || dp->rank() < 0 || dp->rank() >= dp->size()) {
    return absl::InvalidArgumentError(absl::StrCat("data parallel: rank ", dp->rank(), " of ", dp->size()));
  }
  if (global_batch % dp->size() != 0) {
    return absl::InvalidArgumentError(absl::StrCat("the batch of ", global_batch, " does not divide into ",
                                                   dp->size(), " equal shards, one per rank: use a multiple of ",
                                                   dp->size()));
  }
  return absl::OkStatus();
}

Shape GlobalBatchShape(const Shape& per_rank, int64_t global_batch) {
  std::vector<int64_t> dims = per_rank.dims();
  dims[0] = global_batch;
  return Shape(dims);
}

std::ostream& NullOutput() {
  // A stream without a buffer sets badbit on every write and discards it.
  static std::ostream* null = new std::ostream(nullptr);
  return *null;
}

Tensor ShardRows(const Tensor& batch, int rank, int size) {
  std::vector<int64_t> dims = batch.shape().dims();
  const int64_t rows = dims[0] / size;
  dims[0] = rows;
  Tensor shard(batch.dtype(), Shape(dims));
  const int64_t bytes = shard.num_bytes();
  std::memcpy(shard.raw_data(), static_cast<const char*>(batch.raw_data()) + rank * bytes, bytes);
  return shard;
}

}  // namespace strata::training
