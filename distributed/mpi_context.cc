#include "distributed/mpi_context.h"

// The C API only: OpenMPI's mpi.h otherwise pulls in its deprecated C++
// bindings, whose symbols live in libmpi_cxx (unoptimised builds reference
// them).
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace strata::distributed {
namespace {

MPI_Comm Comm(void* p) { return static_cast<MPI_Comm>(p); }

std::string MpiError(int code) {
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return absl::StrCat("MPI error ", code);
  return std::string(text, length);
}

double Since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Tests `request` until it completes or `timeout_s` has passed since `c` started.
// The short sleep leaves the cores to the computation (ranks on one machine
// share them) while adding at most tens of microseconds of latency.
absl::Status Poll(MPI_Request* request, const Collective& c, double timeout_s) {
  for (;;) {
    int flag = 0;
    const int rc = MPI_Test(request, &flag, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return absl::InternalError(absl::StrCat(c.what, " failed: ", MpiError(rc)));
    if (flag) return absl::OkStatus();
    if (Since(c.started) > timeout_s) {
      return absl::DeadlineExceededError(absl::StrFormat(
          "%s did not complete within the collective timeout (%g s): another rank has died, hung or stopped "
          "taking part (a different configuration?); stopping every rank",
          c.what, timeout_s));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
}

MPI_Datatype MpiType(ElementType t) { return t == ElementType::kFloat64 ? MPI_DOUBLE : MPI_FLOAT; }

}  // namespace

bool LaunchedByMpirun() {
  const char* size = std::getenv("OMPI_COMM_WORLD_SIZE");
  return size != nullptr && *size != '\0';
}

absl::StatusOr<MpiContext*> MpiContext::Get() {
  static MpiContext* context = nullptr;
  static absl::Status* init_status = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    auto* c = new MpiContext();
    init_status = new absl::Status(c->Init());
    if (init_status->ok()) {
      context = c;
      // A program that forgets Finalize still leaves MPI cleanly.
      std::atexit([] { context->Finalize(); });
    }
  });
  if (!init_status->ok()) return *init_status;
  return context;
}

absl::Status MpiContext::Init() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = 0;
  if (!initialized) {
    const int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    if (rc != MPI_SUCCESS) return absl::UnavailableError(absl::StrCat("MPI_Init_thread failed: ", MpiError(rc)));
  } else {
    MPI_Query_thread(&provided);
  }
  if (provided < MPI_THREAD_SERIALIZED) {
    return absl::FailedPreconditionError(
        "this MPI library does not support MPI_THREAD_SERIALIZED, which the communication thread needs");
  }
  MPI_Comm comm;
  if (int rc = MPI_Comm_dup(MPI_COMM_WORLD, &comm); rc != MPI_SUCCESS) {
    return absl::UnavailableError(absl::StrCat("MPI_Comm_dup failed: ", MpiError(rc)));
  }
  // Errors come back as codes (and become statuses) instead of killing the job.
  MPI_Comm_set_errhandler(comm, MPI_ERRORS_RETURN);
  MPI_Comm_rank(comm, &rank_);
  MPI_Comm_size(comm, &size_);
  comm_ = comm;
  thread_ = std::thread([this] { Loop(); });
  return absl::OkStatus();
}

void MpiContext::Loop() {
  for (;;) {
    std::pair<CollectivePtr, std::function<absl::Status(const Collective&)>> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job.first->started = Clock::now();
    absl::Status s = job.second(*job.first);
    {
      std::lock_guard<std::mutex> lock(mu_);
      job.first->finished = Clock::now();
      if (!s.ok()) broken_ = true;
      job.first->status = std::move(s);
      job.first->done = true;
    }
    cv_.notify_all();
  }
}

CollectivePtr MpiContext::Submit(std::string what, std::function<absl::Status(const Collective&)> run) {
  auto c = std::make_shared<Collective>();
  c->what = std::move(what);
  c->submitted = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      c->done = true;
      c->status = absl::FailedPreconditionError(absl::StrCat(c->what, ": MPI is already finalised"));
      return c;
    }
    queue_.emplace_back(c, std::move(run));
  }
  cv_.notify_all();
  return c;
}

CollectivePtr MpiContext::StartAllReduce(void* data, int64_t count, ElementType type, std::string what) {
  const double timeout = timeout_s_;
  MPI_Comm comm = Comm(comm_);
  return Submit(std::move(what), [=](const Collective& c) -> absl::Status {
    if (count > INT32_MAX) return absl::InvalidArgumentError(absl::StrCat(c.what, ": more than 2^31 elements"));
    MPI_Request request;
    const int rc = MPI_Iallreduce(MPI_IN_PLACE, data, static_cast<int>(count), MpiType(type), MPI_SUM, comm, &request);
    if (rc != MPI_SUCCESS) return absl::InternalError(absl::StrCat(c.what, " could not start: ", MpiError(rc)));
    return Poll(&request, c, timeout);
  });
}

CollectivePtr MpiContext::StartBroadcast(void* data, int64_t bytes, int root, std::string what) {
  const double timeout = timeout_s_;
  MPI_Comm comm = Comm(comm_);
  return Submit(std::move(what), [=](const Collective& c) -> absl::Status {
    if (bytes > INT32_MAX) return absl::InvalidArgumentError(absl::StrCat(c.what, ": more than 2^31 bytes"));
    MPI_Request request;
    const int rc = MPI_Ibcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm, &request);
    if (rc != MPI_SUCCESS) return absl::InternalError(absl::StrCat(c.what, " could not start: ", MpiError(rc)));
    return Poll(&request, c, timeout);
  });
}

absl::Status MpiContext::Wait(const CollectivePtr& c) {
  std::unique_lock<std::mutex> lock(mu_);
  // The thread enforces the timeout; this bound only guards against the
  // thread itself being stuck inside MPI.
  const auto limit = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(2 * timeout_s_ + 10));
  if (!cv_.wait_until(lock, limit, [&] { return c->done; })) {
    return absl::DeadlineExceededError(absl::StrCat(c->what, " is stuck inside MPI; stopping every rank"));
  }
  return c->status;
}

absl::Status MpiContext::AllReduce(void* data, int64_t count, ElementType type, std::string what) {
  return Wait(StartAllReduce(data, count, type, std::move(what)));
}

absl::Status MpiContext::Broadcast(void* data, int64_t bytes, int root, std::string what) {
  return Wait(StartBroadcast(data, bytes, root, std::move(what)));
}

void MpiContext::Abort(const absl::Status& status) {
  std::fprintf(stderr, "strata: rank %d of %d: %s\n", rank_, size_, std::string(status.message()).c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::_Exit(1);  // MPI_Abort does not return; this satisfies [[noreturn]]
}

void MpiContext::Finalize() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finalized_) return;
    finalized_ = true;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // After a failed collective a request may still be pending, and finalising
  // could wait for a peer that is gone: leave that to the process exit.
  if (broken_) return;
  MPI_Comm comm = Comm(comm_);
  MPI_Comm_free(&comm);
  MPI_Finalize();
}

}  // namespace strata::distributed
