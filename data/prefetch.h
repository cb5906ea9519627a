// Batches produced ahead of the trainer on a background thread: the
// Batcher's copy plus the Augmenter's work for the next batches overlap the
// current training step. The tensors are allocated once (depth + 1 slots:
// up to `depth` batches ready or in production while the caller holds one),
// and the result is bit-identical to producing the batches synchronously
// with a Batcher and the same Augmenter (Batcher::Batch, then
// Augmenter::Apply with (epoch, batch index), or Eval when !train).
//
// One std::thread, a mutex and two condition variables; the augmentation
// runs serially on that thread (no OpenMP team of its own). The destructor
// stops the thread, mid-epoch or not, and joins it.
#ifndef STRATA_DATA_PREFETCH_H_
#define STRATA_DATA_PREFETCH_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "data/augment.h"
#include "data/batcher.h"
#include "data/mnist.h"
#include "graph/tensor.h"

namespace strata::data {

struct PrefetchOptions {
  int64_t batch_size = 64;
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_remainder = false;
  Augmenter augmenter;  // the identity by default
  bool train = true;    // false: Augmenter::Eval (centre crop, no flip)
  int depth = 2;        // batches ahead; below 1 counts as 1
};

struct PrefetchedBatch {
  int64_t index = -1;  // the batch's index within the epoch
  Tensor images;       // float32 [b, C, H', W'] (the augmenter's output shape)
  Tensor labels;       // int32 [b]
};

class Prefetcher {
 public:
  // Aborts when the augmenter rejects the dataset's image shape (check
  // Augmenter::OutputShape first) or the dataset's images are not rank 4.
  // Produces nothing until StartEpoch.
  Prefetcher(const Dataset& dataset, PrefetchOptions options);
  ~Prefetcher();
  Prefetcher(const Prefetcher&) = delete;
  Prefetcher& operator=(const Prefetcher&) = delete;

  // Starts producing `epoch`'s batches (the Batcher's order for that epoch)
  // from batch `first_batch` on (a resumed epoch skips those it had done),
  // abandoning whatever remained of the previous one. Invalidates the batch
  // the caller holds.
  void StartEpoch(int64_t epoch, int64_t first_batch = 0);

  // The epoch's next batch, in order; false once all have been returned (or
  // before the first StartEpoch). The tensors share the prefetcher's
  // storage: they stay valid until the next Next, StartEpoch or destruction,
  // and must be copied (Clone) to be kept longer.
  bool Next(PrefetchedBatch* batch);

  int64_t num_batches() const { return num_batches_; }
  const Shape& output_example_shape() const { return out_example_; }

 private:
  struct Slot {
    Tensor raw, images, labels;            // full batch
    Tensor raw_last, images_last, labels_last;  // the partial last batch, if any
    int64_t index = -1;
  };
  void Produce();
  void Fill(Slot& slot, int64_t epoch, int64_t i);

  const PrefetchOptions options_;
  Batcher batcher_;  // the producer thread's alone after construction
  int64_t batcher_epoch_ = 0;
  int64_t num_batches_ = 0;
  Shape in_example_, out_example_;  // [C,H,W] before and after augmentation
  std::vector<Slot> slots_;

  std::mutex mu_;
  std::condition_variable produce_cv_, consume_cv_;
  bool stop_ = false;
  bool active_ = false;       // an epoch has been started
  uint64_t generation_ = 0;   // bumped by StartEpoch; stale batches are dropped
  int64_t epoch_ = 0;
  int64_t next_to_produce_ = 0;
  int64_t consumed_ = 0;
  std::vector<int> free_;
  std::deque<int> ready_;
  int held_ = -1;  // the slot the caller holds

  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace strata::data

#endif  // STRATA_DATA_PREFETCH_H_
