#include "distributed/data_parallel.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "distributed/collective_ops.h"
#include "graph/status_macros.h"

namespace strata::distributed {
namespace {

// The buckets of one graph, filled in the order the backward sweep
// finalises the gradients.
struct Buckets {
  int64_t capacity_bytes = 0;
  std::vector<int> open;          // variable indices of the bucket being filled
  std::vector<Output> open_grads;
  int64_t open_bytes = 0;
  struct Started {
    Output buffer;
    std::vector<int> indices;
    std::vector<Output> grads;
  };
  std::vector<Started> started;

  absl::Status Flush(Graph& g) {
    if (open.empty()) return absl::OkStatus();
    Graph::Scope scope(g, "data_parallel");
    Output buffer = AllReduceStart(g, open_grads, static_cast<int64_t>(started.size()),
                                   absl::StrCat("allreduce_start_", started.size()));
    STRATA_RETURN_IF_ERROR(g.status());
    started.push_back({buffer, std::move(open), std::move(open_grads)});
    open.clear();
    open_grads.clear();
    open_bytes = 0;
    return absl::OkStatus();
  }
};

// FNV-1a over every variable's name and spec: equal on ranks that built the
// same graph (absl::Hash is seeded per process, so it cannot be compared).
uint64_t Fingerprint(const runtime::VariableStore& store) {
  uint64_t h = 14695981039346656037ull;
  for (const auto& [name, value] : store.values()) {
    for (char c : absl::StrCat(name, ":", value.spec().ToString(), ";")) {
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  return h;
}

}  // namespace

absl::StatusOr<std::shared_ptr<MpiDataParallel>> MpiDataParallel::Create(const DataParallelOptions& options) {
  if (!(options.bucket_mb >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("the bucket size (", options.bucket_mb, " MB) must be >= 0"));
  }
  // The upper bound keeps deadlines representable in the clock's nanoseconds.
  if (!(options.timeout_s > 0 && options.timeout_s <= 1e6)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the collective timeout (", options.timeout_s, " s) must be in (0, 1e6]"));
  }
  STRATA_ASSIGN_OR_RETURN(MpiContext * mpi, MpiContext::Get());
  mpi->set_timeout(options.timeout_s);
  return std::shared_ptr<MpiDataParallel>(new MpiDataParallel(mpi, options));
}

absl::Status MpiDataParallel::AverageGradients(optim::OptimizerConfig& config) {
  auto buckets = std::make_shared<Buckets>();
  buckets->capacity_bytes = static_cast<int64_t>(options_.bucket_mb * 1e6);
  config.gradient_transform.on_gradient = [buckets](Graph& g, int index, const Output&,
                                                    const Output& grad) -> absl::Status {
    buckets->open.push_back(index);
    buckets->open_grads.push_back(grad);
    buckets->open_bytes += grad.shape().num_elements() * static_cast<int64_t>(sizeof(float));
    if (buckets->open_bytes >= buckets->capacity_bytes) return buckets->Flush(g);
    return absl::OkStatus();
  };
  config.gradient_transform.finish = [this, buckets](Graph& g, const std::vector<Output>& variables,
                                                     const std::vector<Output>& grads)
      -> absl::StatusOr<std::vector<Output>> {
    // Every gradient was announced during the sweep; any that was not (none
    // today) joins the last bucket rather than going unreduced.
    std::vector<bool> seen(grads.size(), false);
    for (const auto& b : buckets->started) for (int i : b.indices) seen[i] = true;
    for (int i : buckets->open) seen[i] = true;
    for (size_t i = 0; i < grads.size(); ++i) {
      if (!seen[i]) {
        buckets->open.push_back(static_cast<int>(i));
        buckets->open_grads.push_back(grads[i]);
      }
    }
    STRATA_RETURN_IF_ERROR(buckets->Flush(g));
    std::vector<Output> averaged(grads.size());
    Graph::Scope scope(g, "data_parallel");
    for (size_t k = 0; k < buckets->started.size(); ++k) {
      const Buckets::Started& b = buckets->started[k];
      std::vector<Output> outs = AllReduceWait(g, b.buffer, b.grads, absl::StrCat("allreduce_wait_", k));
      STRATA_RETURN_IF_ERROR(g.status());
      for (size_t j = 0; j < b.indices.size(); ++j) averaged[b.indices[j]] = outs[j];
    }
    buckets_ = static_cast<int>(buckets->started.size());
    (void)variables;
    return averaged;
  };
  return absl::OkStatus();
}

absl::Status MpiDataParallel::BroadcastVariables(runtime::VariableStore& store) {
  // Ranks that built different graphs (another model or option on one host)
  // would exchange mismatched buffers: compare the variables' names and specs
  // first, and fail on every rank alike.
  const uint64_t mine = Fingerprint(store);
  uint64_t first = mine;
  STRATA_RETURN_IF_ERROR(mpi_->Broadcast(&first, sizeof first, /*root=*/0, "broadcast of the variables' fingerprint"));
  double differing = first != mine ? 1 : 0;
  STRATA_RETURN_IF_ERROR(mpi_->AllReduce(&differing, 1, ElementType::kFloat64, "all-reduce of the fingerprint check"));
  if (differing > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        differing, " of ", size(), " ranks hold variables (names, dtypes, shapes) other than rank 0's",
        first != mine ? ", this one among them" : "", ": every rank must build the same model with the same options"));
  }
  // The store's map is sorted by name, so every rank sends the same sequence.
  for (const auto& [name, value] : store.values()) {
    Tensor copy = value.Clone();
    STRATA_RETURN_IF_ERROR(mpi_->Broadcast(copy.raw_data(), copy.num_bytes(), /*root=*/0,
                                           absl::StrCat("broadcast of variable '", name, "' from rank 0")));
    STRATA_RETURN_IF_ERROR(store.Set(name, copy));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> MpiDataParallel::Average(double value) {
  STRATA_RETURN_IF_ERROR(mpi_->AllReduce(&value, 1, ElementType::kFloat64, "all-reduce of the loss"));
  return value / size();
}

std::string MpiDataParallel::Summary() {
  const CollectiveStats s = GetCollectiveStats();
  if (s.collectives == 0) return "";
  return absl::StrFormat(
      "data parallel: %d ranks, %d gradient buckets (%.1f MB each at most), %.2f MB all-reduced in %d "
      "collectives; communication %.3f s, of which %.3f s exposed: %.0f%% hidden behind the backward pass",
      size(), buckets_, options_.bucket_mb, s.bytes / 1e6, s.collectives, s.communication_s, s.exposed_s,
      100 * s.hidden_fraction());
}

}  // namespace strata::distributed
