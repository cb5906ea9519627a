// Times a zoo model's training step (forward, cross-entropy, backward, SGD
// momentum update) or inference (forward to the logits, inference mode) on
// random data, as ../shared/bench/torch_peer.py times PyTorch: untimed
// warm-up steps, then the median of timed steps. Behind `strata bench` and
// //bench:step.
#ifndef STRATA_BENCH_MODEL_BENCH_H_
#define STRATA_BENCH_MODEL_BENCH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/fusion.h"
#include "runtime/profile.h"
#include "zoo/model.h"

namespace strata::bench {

struct BenchOptions {
  std::string model = "lenet5";
  zoo::ModelConfig config;  // its batch_size is the batch
  bool train = true;        // false: inference
  int warmup = 10;
  int iters = 50;
  int threads = 0;  // OpenMP threads for oneDNN; 0: the default (all cores)
  runtime::PassOptions passes;  // the plan's fusions
  // Profile the timed steps (adds a stream wait per op) into this.
  runtime::Profile* profile = nullptr;
  // Also time every convolution pass of the plan alone (its oneDNN
  // primitive, ops::StandaloneConvolutionMs) against its time in the plan.
  bool floor = false;
};

// One convolution pass (forward, backward data or weights) of a plan: its
// median time in the plan (profiled, including any layout reorders its kernel
// runs) and its primitive's alone.
struct ConvolutionFloor {
  std::string node, op;
  double plan_ms = 0, floor_ms = 0;
  double weights_cold_floor_ms = 0;  // its weights flushed from the caches first
};

struct BenchResult {
  double ms_median = 0, ms_min = 0, ms_max = 0;
  double images_per_second = 0;
  int64_t peak_rss_bytes = 0;  // the process's resident high-water mark
  int64_t parameters = 0;
  // The timed plan's intermediate values: its arena, and their sum unshared.
  int64_t arena_bytes = 0;
  int64_t unshared_bytes = 0;
  // The peak the plan predicts: the process before the session existed,
  // plus the variables (weights, optimizer state), the arena, the shared
  // kernel scratch, what kernels keep between runs (reordered or folded
  // weights: Session::held_bytes) and the fed inputs.
  int64_t predicted_peak_bytes = 0;
  // With BenchOptions::floor: each convolution pass, and their floors' sum
  // (the time below which no framework runs this step's convolutions).
  std::vector<ConvolutionFloor> convolutions;
  double floor_ms = 0;
  double weights_cold_floor_ms = 0;
};

absl::StatusOr<BenchResult> BenchModel(const BenchOptions& options);

// The same model, step and session, planned but not run: only the memory
// figures (arena, unshared, predicted peak) and parameters are filled.
// For `strata summary --plan`.
absl::StatusOr<BenchResult> PlanModel(const BenchOptions& options);

}  // namespace strata::bench

#endif  // STRATA_BENCH_MODEL_BENCH_H_
