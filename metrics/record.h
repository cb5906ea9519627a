// TFRecord framing, the container of TensorBoard event files. Each record:
//   uint64 length        little-endian
//   uint32 masked CRC32C of the 8 length bytes
//   length bytes of data
//   uint32 masked CRC32C of the data
// with mask(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (crc32c::Mask),
// all integers little-endian.
#ifndef STRATA_METRICS_RECORD_H_
#define STRATA_METRICS_RECORD_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::metrics {

// mask(CRC32C(data)).
uint32_t MaskedCrc32c(absl::string_view data);

// The framed bytes of one record.
std::string FrameRecord(absl::string_view data);

class RecordWriter {
 public:
  // Creates (or truncates) `path`; with `append`, adds records after the
  // existing ones. Errors name the file and the system error.
  static absl::StatusOr<std::unique_ptr<RecordWriter>> Open(const std::string& path, bool append = false);
  ~RecordWriter();  // closes, ignoring errors: call Close to see them

  absl::Status Write(absl::string_view data);
  // Hands buffered records to the operating system.
  absl::Status Flush();
  absl::Status Close();

  const std::string& path() const { return path_; }
  int64_t records_written() const { return records_; }

 private:
  RecordWriter(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  absl::Status Error(absl::string_view what) const;

  std::string path_;
  std::FILE* file_;
  int64_t records_ = 0;
};

class RecordReader {
 public:
  // NotFound (or the system error) naming the file.
  static absl::StatusOr<std::unique_ptr<RecordReader>> Open(const std::string& path);
  ~RecordReader();

  // The next record's data. OutOfRange at the end of the file; DataLoss
  // naming the file and the record's index for a CRC mismatch (of the length
  // or of the data) or a truncated record.
  absl::StatusOr<std::string> Next();
  // Index of the record Next returns next (records read so far).
  int64_t index() const { return index_; }

 private:
  RecordReader(std::string path, std::FILE* file, uint64_t size)
      : path_(std::move(path)), file_(file), size_(size) {}
  absl::Status Corrupt(absl::string_view what) const;

  std::string path_;
  std::FILE* file_;
  uint64_t size_;
  uint64_t offset_ = 0;
  int64_t index_ = 0;
};

// Every record of a file, or the first error (as RecordReader::Next).
absl::StatusOr<std::vector<std::string>> ReadRecords(const std::string& path);

}  // namespace strata::metrics

#endif  // STRATA_METRICS_RECORD_H_
