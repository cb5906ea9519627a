// libFuzzer harness for TFRecord files and the TensorBoard events in them
// (metrics::ReadRecords, ReadEvents, ReadScalars): any bytes must give
// records or a Status naming the file.
//
// Random bytes rarely carry two right CRCs per record, so an input whose
// first byte is 'F' is framed by the harness: the rest, split at each "\n--\n",
// becomes one correctly framed record per piece, and the event parser behind
// the framing gets fuzzed too. Any other input is read as the file itself.
#include <cstdint>
#include <string>

#include "absl/strings/str_split.h"
#include "fuzz/memfile.h"
#include "metrics/event_writer.h"
#include "metrics/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static strata::fuzz::MemFile file("events");
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  std::string bytes;
  size_t framed = 0;
  if (!input.empty() && input[0] == 'F') {
    for (absl::string_view piece : absl::StrSplit(input.substr(1), "\n--\n")) {
      bytes += strata::metrics::FrameRecord(piece);
      ++framed;
    }
  } else {
    bytes = std::string(input);
  }
  const std::string& path = file.Set(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto names_file = [&](const absl::Status& s) { return std::string(s.message()).find(path) != std::string::npos; };

  auto records = strata::metrics::ReadRecords(path);
  if (!records.ok()) {
    if (!names_file(records.status())) __builtin_trap();
    if (framed > 0) __builtin_trap();  // the harness framed it correctly
  } else {
    if (framed > 0 && records->size() != framed) __builtin_trap();
    size_t total = 0;
    for (const std::string& r : *records) total += r.size() + 16;  // 8 + 4 + data + 4
    if (total != bytes.size()) __builtin_trap();
  }
  auto events = strata::metrics::ReadEvents(path);
  if (!events.ok() && !names_file(events.status())) __builtin_trap();
  if (events.ok() && records.ok() && events->size() != records->size()) __builtin_trap();
  auto scalars = strata::metrics::ReadScalars(path);
  if (!scalars.ok() && !names_file(scalars.status())) __builtin_trap();
  return 0;
}
