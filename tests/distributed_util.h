// Helpers of the data-parallel tests: run the real `strata` binary, alone or
// under `mpirun -np N` (forced onto the TCP transport, as on a cluster), and
// compare checkpoints.
#ifndef STRATA_TESTS_DISTRIBUTED_UTIL_H_
#define STRATA_TESTS_DISTRIBUTED_UTIL_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "tests/command_util.h"

namespace strata::testing_mpi {

using test::CommandResult;
using test::RunCommand;
using test::StrataBinary;

// `strata <args>` in one process, with one OpenMP thread as each rank has.
CommandResult RunStrata(const std::string& args);
// `mpirun -np <ranks> ... strata <args>` (as root, oversubscribed, TCP).
std::string MpirunPrefix(int ranks);
CommandResult RunStrataMpi(int ranks, const std::string& args);

// A fresh folder under the test's temporary directory.
std::string TempDir(const std::string& name);

// Over the tensors the two checkpoints share (they must share all): the
// largest max|a - b| / max|b| of any tensor and the tensor it is in, and the
// largest ||a - b|| / ||b|| (L2 norms).
struct Difference {
  double max_relative = 0;
  std::string tensor;
  double max_relative_norm = 0;
  std::string norm_tensor;
  int identical_tensors = 0;
  int tensors = 0;
};
absl::StatusOr<Difference> CompareCheckpoints(const std::string& a, const std::string& b);

}  // namespace strata::testing_mpi

#endif  // STRATA_TESTS_DISTRIBUTED_UTIL_H_
