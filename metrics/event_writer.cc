#include "metrics/event_writer.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"

namespace strata::metrics {
namespace {

std::string HostName() {
  char buffer[256] = {};
  if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0') return "localhost";
  return buffer;
}

}  // namespace

double WallTime() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count() / 1e6;
}

absl::StatusOr<std::unique_ptr<EventWriter>> EventWriter::Create(const std::string& dir) {
  std::error_code error;
  if (!dir.empty()) std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat("cannot create the event folder ", dir, ": ", error.message()));
  }
  const double now = WallTime();
  const std::string base = (std::filesystem::path(dir.empty() ? "." : dir) /
                            absl::StrCat(kEventFilePrefix, static_cast<int64_t>(now), ".", HostName()))
                               .string();
  std::string path = base;
  for (int i = 1; std::filesystem::exists(path, error); ++i) path = absl::StrCat(base, ".", i);
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> records, RecordWriter::Open(path));
  std::unique_ptr<EventWriter> writer(new EventWriter(std::move(records)));
  Event first;
  first.set_wall_time(now);
  first.set_file_version(kEventFileVersion);
  STRATA_RETURN_IF_ERROR(writer->WriteEvent(first));
  STRATA_RETURN_IF_ERROR(writer->Flush());
  return writer;
}

absl::Status EventWriter::AddScalar(absl::string_view tag, int64_t step, double value) {
  return AddScalars(step, {{std::string(tag), value}});
}

absl::Status EventWriter::AddScalars(int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : values) {
    Summary::Value* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  return WriteEvent(event);
}

absl::Status EventWriter::WriteEvent(const Event& event) {
  std::string bytes;
  if (!event.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(absl::StrCat("event file ", path(), ": an event cannot be serialized"));
  }
  return records_->Write(bytes);
}

absl::Status EventWriter::Flush() { return records_->Flush(); }
absl::Status EventWriter::Close() { return records_->Close(); }

absl::StatusOr<std::unique_ptr<EventReader>> EventReader::Open(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<RecordReader> records, RecordReader::Open(path));
  std::unique_ptr<EventReader> reader(new EventReader(std::move(records)));
  reader->path_ = path;
  return reader;
}

absl::StatusOr<Event> EventReader::Next() {
  const int64_t index = records_->index();
  STRATA_ASSIGN_OR_RETURN(std::string bytes, records_->Next());
  Event event;
  if (!event.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("event file ", path_, ", record ", index, ": not an Event"));
  }
  return event;
}

absl::StatusOr<std::vector<Event>> ReadEvents(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<EventReader> reader, EventReader::Open(path));
  std::vector<Event> events;
  while (true) {
    absl::StatusOr<Event> e = reader->Next();
    if (absl::IsOutOfRange(e.status())) break;
    if (!e.ok()) return e.status();
    events.push_back(*std::move(e));
  }
  return events;
}

absl::StatusOr<std::vector<ScalarPoint>> ReadScalars(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::vector<Event> events, ReadEvents(path));
  std::vector<ScalarPoint> points;
  for (const Event& e : events) {
    if (!e.has_summary()) continue;
    for (const Summary::Value& v : e.summary().value()) {
      if (v.value_case() != Summary::Value::kSimpleValue) continue;
      points.push_back({e.step(), e.wall_time(), v.tag(), v.simple_value()});
    }
  }
  return points;
}

}  // namespace strata::metrics
