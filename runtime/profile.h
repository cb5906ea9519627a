// Per-op timing of Session::Run: which node ran when, for how long, and how
// many layout reorders (copies between the graph's plain tensors and the
// layouts oneDNN's primitives chose) it executed. Written as a Chrome trace
// (chrome://tracing, Perfetto) or summed per op type.
#ifndef STRATA_RUNTIME_PROFILE_H_
#define STRATA_RUNTIME_PROFILE_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace strata::runtime {

struct OpEvent {
  std::string node;  // the node's name
  std::string op;    // its op type
  int64_t run = 0;   // which profiled Run (0, 1, ...)
  double start_us = 0;  // since the profile's first event
  double duration_us = 0;
  int64_t reorders = 0;
};

struct OpTotal {
  std::string op;
  int64_t calls = 0;
  double total_us = 0;
  int64_t reorders = 0;
};

class Profile {
 public:
  using Clock = std::chrono::steady_clock;
  // Session::Run calls these around each step when given a Profile.
  void BeginRun();
  void Record(const std::string& node, const std::string& op, Clock::time_point start, Clock::time_point end,
              int64_t reorders);

  const std::vector<OpEvent>& events() const { return events_; }
  int64_t runs() const { return runs_; }

  // Time and reorders per op type over all runs, largest total first.
  std::vector<OpTotal> TotalsByOp() const;
  // A table of TotalsByOp (ms per run, share of the summed op time, calls
  // and reorders per run).
  std::string FormatTotals() const;
  // Chrome's trace event format ("X" complete events in microseconds, one
  // track); errors name the file.
  absl::Status WriteChromeTrace(const std::string& path) const;

 private:
  std::vector<OpEvent> events_;
  int64_t runs_ = 0;
  Clock::time_point origin_;  // the first event's start
};

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_PROFILE_H_
