// The all-reduce ops, the variable broadcast and the scalar average on 2 and
// 3 ranks (an odd count: the average is not a power-of-two scaling), through
// mpirun with the TCP transport; tests/collective_ops_mpi_main.cc does the
// checking on every rank.
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/distributed_util.h"

namespace strata::testing_mpi {
namespace {

void ExpectOkOnEveryRank(int ranks) {
  const std::string binary = absl::StrCat(std::getenv("TEST_SRCDIR"), "/strata/tests/collective_ops_mpi_main");
  const CommandResult run = RunCommand(MpirunPrefix(ranks) + binary);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  for (int r = 0; r < ranks; ++r) {
    EXPECT_NE(run.output.find(absl::StrCat("rank ", r, " of ", ranks, ": ok")), std::string::npos) << run.output;
  }
}

TEST(CollectiveOps, AverageBroadcastAndReduceOnTwoRanks) { ExpectOkOnEveryRank(2); }

TEST(CollectiveOps, AverageBroadcastAndReduceOnThreeRanks) { ExpectOkOnEveryRank(3); }

}  // namespace
}  // namespace strata::testing_mpi
