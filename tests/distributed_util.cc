#include "tests/distributed_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "serialization/checkpoint.h"

namespace strata::testing_mpi {

CommandResult RunStrata(const std::string& args) {
  // One compute thread per process, as each rank gets below: the baseline
  // then runs the same kernels (same blocking, same summation order).
  return RunCommand(absl::StrCat("OMP_NUM_THREADS=1 ", StrataBinary(), " ", args));
}

// LeakSanitizer (tools/ci_sanitizers.sh) reports what OpenMPI and the
// libraries under it keep for the life of the process; only those are
// suppressed. Its plugins (mca_*.so) stay loaded (no dlclose, see below) so
// that their frames have names to match.
std::string LsanSuppressions() {
  const std::string path = absl::StrCat(::testing::TempDir(), "/openmpi.lsan.supp");
  if (FILE* f = std::fopen(path.c_str(), "w")) {
    std::fputs(
        "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:mca_\nleak:libhwloc.so\n"
        "leak:libevent\nleak:libpmix.so\n",
        f);
    std::fclose(f);
  }
  return path;
}

std::string MpirunPrefix(int ranks) {
  // As root (CI containers), more ranks than cores, and the TCP transport
  // (not shared memory), so the network path a cluster uses is exercised.
  // Full stacks (slow unwinding) reach OpenMPI's own frames below the plugins'.
  return absl::StrCat("OMP_NUM_THREADS=1 LSAN_OPTIONS=fast_unwind_on_malloc=0:suppressions=", LsanSuppressions(),
                      " mpirun -np ", ranks,
                      " --allow-run-as-root --oversubscribe --mca btl tcp,self --mca btl_tcp_if_include lo"
                      " --mca mca_base_component_disable_dlclose 1"
                      " -x OMP_NUM_THREADS -x LSAN_OPTIONS ");
}

CommandResult RunStrataMpi(int ranks, const std::string& args) {
  return RunCommand(absl::StrCat(MpirunPrefix(ranks), StrataBinary(), " ", args));
}

std::string TempDir(const std::string& name) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/distributed_test/", name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

absl::StatusOr<Difference> CompareCheckpoints(const std::string& a, const std::string& b) {
  absl::StatusOr<serialization::Checkpoint> ca = serialization::LoadCheckpoint(a);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<serialization::Checkpoint> cb = serialization::LoadCheckpoint(b);
  if (!cb.ok()) return cb.status();
  if (ca->tensors.size() != cb->tensors.size()) {
    return absl::InvalidArgumentError(absl::StrCat(a, " has ", ca->tensors.size(), " tensors, ", b, " ",
                                                   cb->tensors.size()));
  }
  Difference d;
  for (const auto& [name, ta] : ca->tensors) {
    auto it = cb->tensors.find(name);
    if (it == cb->tensors.end()) return absl::NotFoundError(absl::StrCat(b, " has no tensor ", name));
    const Tensor& tb = it->second;
    if (ta.spec() != tb.spec()) return absl::InvalidArgumentError(absl::StrCat(name, ": specs differ"));
    if (ta.dtype() != DType::kFloat32) continue;
    ++d.tensors;
    if (std::memcmp(ta.raw_data(), tb.raw_data(), ta.num_bytes()) == 0) ++d.identical_tensors;
    double max_diff = 0, max_b = 0, diff_sq = 0, b_sq = 0;
    for (int64_t i = 0; i < ta.num_elements(); ++i) {
      const double x = ta.data<float>()[i], y = tb.data<float>()[i];
      max_diff = std::max(max_diff, std::abs(x - y));
      max_b = std::max(max_b, std::abs(y));
      diff_sq += (x - y) * (x - y);
      b_sq += y * y;
    }
    const double relative_norm = b_sq > 0 ? std::sqrt(diff_sq / b_sq) : std::sqrt(diff_sq);
    if (relative_norm >= d.max_relative_norm) {
      d.max_relative_norm = relative_norm;
      d.norm_tensor = name;
    }
    const double relative = max_b > 0 ? max_diff / max_b : max_diff;
    if (relative >= d.max_relative) {
      d.max_relative = relative;
      d.tensor = name;
    }
  }
  return d;
}

}  // namespace strata::testing_mpi
