// Mini-batches over a Dataset, in an order that depends only on (seed, epoch):
// the same seed replays the same run on any standard library, because the
// shuffle and its bounded random draws are written out here rather than left
// to std::shuffle and std::uniform_int_distribution, whose algorithms the
// standard does not fix.
#ifndef STRATA_DATA_BATCHER_H_
#define STRATA_DATA_BATCHER_H_

#include <cstdint>
#include <vector>

#include "data/mnist.h"
#include "graph/tensor.h"

namespace strata::data {

class Batcher {
 public:
  // Keeps a copy of the dataset's tensors (their storage is shared, not
  // copied). A batch_size below 1 yields no batches. Without shuffle the order
  // is the dataset's; with it, epoch 0's order is ready before StartEpoch.
  Batcher(const Dataset& dataset, int64_t batch_size, bool shuffle, uint64_t seed, bool drop_remainder);

  // Sets this epoch's order: a permutation drawn from (seed, epoch) alone.
  void StartEpoch(int64_t epoch);

  // Full batches, plus the partial last one unless drop_remainder.
  int64_t num_batches() const;
  // batch_size, except for a partial last batch.
  int64_t BatchSize(int64_t i) const;

  // Copies batch i into images (float32 [BatchSize(i), ...the dataset's image
  // shape...], any shape with that many elements per example) and labels
  // (int32 [BatchSize(i)]), which the caller allocates once and reuses.
  // Aborts on a wrong index, dtype or size: those are caller bugs, and writing
  // on regardless would corrupt memory.
  void Batch(int64_t i, Tensor* images, Tensor* labels) const;

  // This epoch's order of example indices (for tests and diagnostics).
  const std::vector<int64_t>& order() const { return order_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  Dataset dataset_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool drop_remainder_;
  int64_t example_elements_ = 0;  // floats per image
  std::vector<int64_t> order_;
};

}  // namespace strata::data

#endif  // STRATA_DATA_BATCHER_H_
