#include "data/prefetch.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace strata::data {
namespace {

Shape WithBatch(int64_t b, const Shape& example) {
  std::vector<int64_t> dims{b};
  dims.insert(dims.end(), example.dims().begin(), example.dims().end());
  return Shape(std::move(dims));
}

Shape DropBatch(const Shape& s) { return Shape(std::vector<int64_t>(s.dims().begin() + 1, s.dims().end())); }

}  // namespace

Prefetcher::Prefetcher(const Dataset& dataset, PrefetchOptions options)
    : options_(std::move(options)),
      batcher_(dataset, options_.batch_size, options_.shuffle, options_.seed, options_.drop_remainder) {
  num_batches_ = batcher_.num_batches();
  if (dataset.images.valid()) in_example_ = DropBatch(dataset.images.shape());
  if (num_batches_ > 0) {
    if (dataset.images.shape().rank() != 4) {
      std::fprintf(stderr, "strata::data::Prefetcher: images must be [N,C,H,W], not %s\n",
                   dataset.images.shape().ToString().c_str());
      std::abort();
    }
    auto out = options_.augmenter.OutputShape(WithBatch(1, in_example_));
    if (!out.ok()) {
      std::fprintf(stderr, "strata::data::Prefetcher: %s\n", std::string(out.status().message()).c_str());
      std::abort();
    }
    out_example_ = DropBatch(*out);
    const int depth = options_.depth < 1 ? 1 : options_.depth;
    const int64_t full = batcher_.BatchSize(0);
    const int64_t last = batcher_.BatchSize(num_batches_ - 1);
    const bool copy_only = options_.augmenter.is_identity();
    slots_.resize(depth + 1);
    for (Slot& s : slots_) {
      s.images = Tensor(DType::kFloat32, WithBatch(full, out_example_));
      s.labels = Tensor(DType::kInt32, Shape{full});
      if (!copy_only) s.raw = Tensor(DType::kFloat32, WithBatch(full, in_example_));
      if (last != full) {
        s.images_last = Tensor(DType::kFloat32, WithBatch(last, out_example_));
        s.labels_last = Tensor(DType::kInt32, Shape{last});
        if (!copy_only) s.raw_last = Tensor(DType::kFloat32, WithBatch(last, in_example_));
      }
    }
    for (int i = depth; i >= 0; --i) free_.push_back(i);
  }
  thread_ = std::thread([this] { Produce(); });
}

Prefetcher::~Prefetcher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  produce_cv_.notify_all();
  thread_.join();
}

void Prefetcher::StartEpoch(int64_t epoch, int64_t first_batch) {
  first_batch = std::clamp<int64_t>(first_batch, 0, num_batches_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++generation_;
    epoch_ = epoch;
    active_ = true;
    next_to_produce_ = first_batch;
    consumed_ = first_batch;
    if (held_ >= 0) free_.push_back(held_);
    held_ = -1;
    for (int s : ready_) free_.push_back(s);
    ready_.clear();
  }
  produce_cv_.notify_all();
}

bool Prefetcher::Next(PrefetchedBatch* batch) {
  std::unique_lock<std::mutex> lock(mu_);
  if (held_ >= 0) {
    free_.push_back(held_);
    held_ = -1;
    produce_cv_.notify_all();
  }
  if (!active_ || consumed_ >= num_batches_) return false;
  consume_cv_.wait(lock, [this] { return !ready_.empty(); });
  held_ = ready_.front();
  ready_.pop_front();
  ++consumed_;
  const Slot& s = slots_[held_];
  const bool last = s.index == num_batches_ - 1 && s.images_last.valid();
  batch->index = s.index;
  batch->images = last ? s.images_last : s.images;
  batch->labels = last ? s.labels_last : s.labels;
  return true;
}

void Prefetcher::Fill(Slot& slot, int64_t epoch, int64_t i) {
  if (batcher_epoch_ != epoch) {
    batcher_.StartEpoch(epoch);
    batcher_epoch_ = epoch;
  }
  const bool last = i == num_batches_ - 1 && slot.images_last.valid();
  Tensor& images = last ? slot.images_last : slot.images;
  Tensor& labels = last ? slot.labels_last : slot.labels;
  if (options_.augmenter.is_identity()) {
    batcher_.Batch(i, &images, &labels);
  } else {
    Tensor& raw = last ? slot.raw_last : slot.raw;
    batcher_.Batch(i, &raw, &labels);
    if (options_.train) {
      options_.augmenter.Apply(raw, epoch, i, &images);
    } else {
      options_.augmenter.Eval(raw, &images);
    }
  }
  slot.index = i;
}

void Prefetcher::Produce() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    produce_cv_.wait(lock, [this] {
      return stop_ || (active_ && next_to_produce_ < num_batches_ && !free_.empty());
    });
    if (stop_) return;
    const int slot = free_.back();
    free_.pop_back();
    const uint64_t generation = generation_;
    const int64_t epoch = epoch_;
    const int64_t i = next_to_produce_++;
    lock.unlock();
    Fill(slots_[slot], epoch, i);
    lock.lock();
    if (generation == generation_) {
      ready_.push_back(slot);
      consume_cv_.notify_one();
    } else {
      free_.push_back(slot);  // StartEpoch came meanwhile: the batch is stale
    }
  }
}

}  // namespace strata::data
