// TensorBoard event files: TFRecord-framed (metrics/record.h) Event protos
// (metrics/event.proto, TensorFlow's field numbers), named
// "events.out.tfevents.<unix seconds>.<hostname>", whose first record holds
// only file_version "brain.Event:2". `tensorboard --logdir <dir>` plots the
// scalars.
#ifndef STRATA_METRICS_EVENT_WRITER_H_
#define STRATA_METRICS_EVENT_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "metrics/event.pb.h"
#include "metrics/record.h"

namespace strata::metrics {

inline constexpr char kEventFileVersion[] = "brain.Event:2";
inline constexpr char kEventFilePrefix[] = "events.out.tfevents.";

// Seconds since the Unix epoch, with microseconds.
double WallTime();

class EventWriter {
 public:
  // Creates `dir` (and parents) if needed and a new event file in it; a
  // ".1", ".2", ... suffix keeps an existing file of the same second intact.
  // Writes and flushes the file_version record.
  static absl::StatusOr<std::unique_ptr<EventWriter>> Create(const std::string& dir);

  // One Event at the current wall time holding one simple_value.
  absl::Status AddScalar(absl::string_view tag, int64_t step, double value);
  // One Event holding several values of the same step.
  absl::Status AddScalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  absl::Status WriteEvent(const Event& event);
  absl::Status Flush();
  absl::Status Close();

  const std::string& path() const { return records_->path(); }

 private:
  explicit EventWriter(std::unique_ptr<RecordWriter> records) : records_(std::move(records)) {}
  std::unique_ptr<RecordWriter> records_;
};

class EventReader {
 public:
  static absl::StatusOr<std::unique_ptr<EventReader>> Open(const std::string& path);
  // The next Event: OutOfRange at the end; DataLoss for a corrupt record or
  // one that does not parse as an Event (naming the file and the record).
  absl::StatusOr<Event> Next();

 private:
  explicit EventReader(std::unique_ptr<RecordReader> records) : records_(std::move(records)) {}
  std::unique_ptr<RecordReader> records_;
  std::string path_;
};

// Every Event of a file, or the first error.
absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path);

struct ScalarPoint {
  int64_t step = 0;
  double wall_time = 0;
  std::string tag;
  float value = 0;
};
// The simple_value entries of every summary Event, in file order.
absl::StatusOr<std::vector<ScalarPoint>> ReadScalars(const std::string& path);

}  // namespace strata::metrics

#endif  // STRATA_METRICS_EVENT_WRITER_H_
