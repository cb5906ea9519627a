// Data-parallel training (issue 7) when a rank fails: a rank that hangs
// (SIGSTOP) makes the other stop within the collective timeout with a message
// naming the collective; a rank that is killed (SIGKILL) stops the job too;
// either way the last checkpoint rank 0 wrote stays loadable.
#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "data/mnist.h"
#include "tests/distributed_util.h"

namespace strata::testing_mpi {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The pid of the process whose command line mentions `marker` and whose
// environment says it is MPI rank `rank`; -1 if none (yet).
pid_t FindRank(const std::string& marker, int rank) {
  const std::string wanted = absl::StrCat("OMPI_COMM_WORLD_RANK=", rank);
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry.path().filename().string(), &pid)) continue;
    if (ReadFile(entry.path() / "cmdline").find(marker) == std::string::npos) continue;
    const std::string environ = ReadFile(entry.path() / "environ");
    // Entries are NUL-separated: match a whole one.
    size_t at = environ.find(wanted);
    while (at != std::string::npos) {
      const bool starts = at == 0 || environ[at - 1] == '\0';
      const size_t end = at + wanted.size();
      if (starts && (end == environ.size() || environ[end] == '\0')) return pid;
      at = environ.find(wanted, at + 1);
    }
  }
  return -1;
}

struct Failure {
  CommandResult job;
  double seconds_after_signal = 0;
  std::string checkpoint;
};

// Starts 2 ranks training LeNet-5 (a checkpoint every 5 steps, a timeout of
// `timeout_s`), waits for the first checkpoint, sends `signal` to rank 1 and
// waits for the job to end.
Failure RunAndSignalRank1(const std::string& name, int signal, double timeout_s) {
  Failure f;
  const std::string dir = TempDir(name);
  f.checkpoint = dir + "/lenet5.ckpt";
  const std::string args =
      absl::StrCat("train --model=lenet5 --data=", data::DefaultMnistDir(), " --epochs=30 --checkpoint_every=5",
                   " --collective_timeout_s=", timeout_s, " --checkpoint=", f.checkpoint);
  std::future<CommandResult> job = std::async(std::launch::async, [&] { return RunStrataMpi(2, args); });
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  pid_t rank1 = -1;
  while (Clock::now() < deadline && (rank1 < 0 || !fs::exists(f.checkpoint))) {
    if (job.wait_for(std::chrono::milliseconds(50)) == std::future_status::ready) break;
    if (rank1 < 0) rank1 = FindRank(f.checkpoint, 1);
  }
  if (rank1 > 0 && fs::exists(f.checkpoint)) kill(rank1, signal);
  const auto signalled = Clock::now();
  f.job = job.get();
  f.seconds_after_signal = std::chrono::duration<double>(Clock::now() - signalled).count();
  if (rank1 > 0) kill(rank1, SIGKILL);  // a stopped rank mpirun failed to end (it must not be left behind)
  return f;
}

void ExpectCheckpointLoads(const std::string& checkpoint) {
  const CommandResult eval = RunStrata(absl::StrCat("eval --checkpoint=", checkpoint));
  EXPECT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("test accuracy"), std::string::npos) << eval.output;
}

TEST(DataParallelFailure, AHungRankStopsTheOtherWithinTheTimeout) {
  constexpr double kTimeout = 3;
  Failure f = RunAndSignalRank1("hung", SIGSTOP, kTimeout);
  std::printf("hung rank: the job ended %.1f s after rank 1 was stopped (timeout %.0f s)\n", f.seconds_after_signal,
              kTimeout);
  EXPECT_NE(f.job.exit_code, 0) << f.job.output;
  EXPECT_NE(f.job.output.find("strata: rank 0 of 2:"), std::string::npos) << f.job.output;
  EXPECT_NE(f.job.output.find("did not complete within the collective timeout (3 s)"), std::string::npos)
      << f.job.output;
  EXPECT_LT(f.seconds_after_signal, kTimeout + 15) << f.job.output;
  EXPECT_GT(f.seconds_after_signal, kTimeout - 0.5) << "stopped before the timeout: " << f.job.output;
  ExpectCheckpointLoads(f.checkpoint);
}

TEST(DataParallelFailure, AKilledRankStopsTheJob) {
  constexpr double kTimeout = 10;
  Failure f = RunAndSignalRank1("killed", SIGKILL, kTimeout);
  std::printf("killed rank: the job ended %.1f s after rank 1 was killed\n", f.seconds_after_signal);
  EXPECT_NE(f.job.exit_code, 0) << f.job.output;
  // mpirun reports the dead rank and ends the job at once; the timeout is
  // the bound if it did not.
  EXPECT_NE(f.job.output.find("rank 1"), std::string::npos) << f.job.output;
  EXPECT_LT(f.seconds_after_signal, kTimeout + 15) << f.job.output;
  ExpectCheckpointLoads(f.checkpoint);
}

TEST(DataParallelFailure, ABatchThatDoesNotSplitIntoTheRanksStopsEveryRank) {
  const std::string dir = TempDir("odd_batch");
  const CommandResult job = RunStrataMpi(
      2, absl::StrCat("train --model=lenet5 --data=", data::DefaultMnistDir(), " --batch=63 --epochs=1 --checkpoint=",
                      dir, "/lenet5.ckpt"));
  EXPECT_NE(job.exit_code, 0) << job.output;
  EXPECT_NE(job.output.find("the batch of 63 does not divide into 2 equal shards, one per rank"), std::string::npos)
      << job.output;
  EXPECT_FALSE(fs::exists(dir + "/lenet5.ckpt"));
}

TEST(DataParallelFailure, BadOptionsAreErrorsOnEveryRank) {
  for (const std::string flag : {"--bucket_mb=-1", "--collective_timeout_s=0", "--collective_timeout_s=1e9"}) {
    const CommandResult job = RunStrataMpi(
        2, absl::StrCat("train --model=lenet5 --data=", data::DefaultMnistDir(), " --epochs=1 ", flag));
    EXPECT_NE(job.exit_code, 0) << flag << ": " << job.output;
    EXPECT_NE(job.output.find(flag.find("bucket") != std::string::npos ? "the bucket size (-1 MB) must be >= 0"
                                                                        : "the collective timeout"),
              std::string::npos)
        << flag << ": " << job.output;
  }
}

TEST(DataParallelFailure, RanksBuildingDifferentModelsStopWithAMessage) {
  // Rank 1 builds LeNet-5 with 12 classes: its last layer differs, every rank
  // says so (without waiting for the timeout).
  const std::string dir = TempDir("different");
  const std::string common = absl::StrCat(" train --data=", data::DefaultMnistDir(), " --epochs=1 --checkpoint=", dir,
                                          "/x.ckpt --collective_timeout_s=20");
  const CommandResult job = RunCommand(absl::StrCat(MpirunPrefix(1), StrataBinary(), common, " --model=lenet5 : -np 1 ",
                                                    StrataBinary(), common, " --model=lenet5 --classes=12"));
  EXPECT_NE(job.exit_code, 0) << job.output;
  EXPECT_NE(job.output.find("ranks hold variables (names, dtypes, shapes) other than rank 0's"), std::string::npos)
      << job.output;
  EXPECT_LT(job.seconds, 20) << "it waited for the timeout: " << job.output;
}

}  // namespace
}  // namespace strata::testing_mpi
