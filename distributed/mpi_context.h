// The process's MPI state: initialised once, a private communicator, and one
// communication thread that runs every collective in submission order.
//
// Why a thread: OpenMPI (without an asynchronous progress thread) advances a
// non-blocking collective over TCP only inside MPI calls, so an all-reduce
// started while the backward pass runs would make little progress until it
// is waited on. The thread keeps testing it, so communication really overlaps
// computation. Only that thread calls MPI between Init and Finalize
// (MPI_THREAD_SERIALIZED is enough).
//
// Why a timeout: a rank that dies or hangs would otherwise leave the others
// blocked in a collective for ever. Each collective must finish within
// `timeout`; if not, it fails with DeadlineExceeded naming the operation, and
// the caller should Abort (MPI_Abort), which makes mpirun stop every rank.
#ifndef STRATA_DISTRIBUTED_MPI_CONTEXT_H_
#define STRATA_DISTRIBUTED_MPI_CONTEXT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::distributed {

using Clock = std::chrono::steady_clock;

// True when this process was started by mpirun/mpiexec (OpenMPI sets
// OMPI_COMM_WORLD_SIZE), so that tools can turn data parallelism on.
bool LaunchedByMpirun();

// One submitted collective. `done` is set (with `status`) by the
// communication thread; the times let callers measure overlap.
struct Collective {
  std::string what;  // "all-reduce of bucket 3 (2.1 MB)", for messages
  absl::Status status;
  bool done = false;
  Clock::time_point submitted, started, finished;
};
using CollectivePtr = std::shared_ptr<Collective>;

enum class ElementType { kFloat32, kFloat64 };

class MpiContext {
 public:
  // The process-wide context, initialising MPI on the first call. Errors:
  // MPI_Init failing, or a thread level below MPI_THREAD_SERIALIZED.
  static absl::StatusOr<MpiContext*> Get();

  int rank() const { return rank_; }
  int size() const { return size_; }

  // Collectives taking longer than this fail with DeadlineExceeded.
  void set_timeout(double seconds) { timeout_s_ = seconds; }
  double timeout() const { return timeout_s_; }

  // Starts summing `count` elements at `data` over all ranks, in place; the
  // buffer must stay untouched until Wait returns. Returns at once.
  CollectivePtr StartAllReduce(void* data, int64_t count, ElementType type, std::string what);
  // Starts copying `bytes` at `data` from `root` to every rank.
  CollectivePtr StartBroadcast(void* data, int64_t bytes, int root, std::string what);
  // Blocks until `c` is done; its status (DeadlineExceeded after the timeout).
  absl::Status Wait(const CollectivePtr& c);

  // Blocking versions.
  absl::Status AllReduce(void* data, int64_t count, ElementType type, std::string what);
  absl::Status Broadcast(void* data, int64_t bytes, int root, std::string what);

  // Prints "strata: rank R of N: <status>" to stderr and calls MPI_Abort,
  // which makes mpirun stop every rank. Does not return.
  [[noreturn]] void Abort(const absl::Status& status);
  // Stops the thread and finalises MPI; after a failed collective it only
  // stops the thread (finalising could wait for a dead peer): call Abort
  // then. Later calls do nothing.
  void Finalize();

 private:
  MpiContext() = default;
  absl::Status Init();
  void Loop();
  CollectivePtr Submit(std::string what, std::function<absl::Status(const Collective&)> run);

  int rank_ = 0;
  int size_ = 1;
  double timeout_s_ = 60;
  void* comm_ = nullptr;  // MPI_Comm (a pointer in OpenMPI), kept out of this header

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<CollectivePtr, std::function<absl::Status(const Collective&)>>> queue_;
  bool stopping_ = false;
  bool finalized_ = false;
  bool broken_ = false;  // a collective failed or timed out
  std::thread thread_;
};

}  // namespace strata::distributed

#endif  // STRATA_DISTRIBUTED_MPI_CONTEXT_H_
