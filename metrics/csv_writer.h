// CSV training logs: a header line once, then one row per record, each
// flushed as it is written so a crash loses nothing already logged. Fields
// follow RFC 4180: a field with a comma, quote or line break is quoted, with
// quotes doubled.
#ifndef STRATA_METRICS_CSV_WRITER_H_
#define STRATA_METRICS_CSV_WRITER_H_

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::metrics {

// One field, quoted when needed.
std::string CsvField(absl::string_view field);
// A number as written in rows: 9 significant digits ("%.9g", exact for float).
std::string CsvNumber(double value);

class CsvWriter {
 public:
  // Without `append` the file is created or truncated and gets the header.
  // With `append` (resuming) an existing non-empty file must start with the
  // same header (FailedPrecondition showing both otherwise); a partial last
  // line, left by a crash mid-row, is dropped, and rows follow the existing
  // ones. A missing or empty file gets the header either way.
  static absl::StatusOr<std::unique_ptr<CsvWriter>> Open(const std::string& path, std::vector<std::string> columns,
                                                         bool append = false);
  ~CsvWriter();

  // One row of exactly columns().size() fields, written and flushed.
  absl::Status WriteRow(const std::vector<std::string>& fields);
  // The same with numbers (CsvNumber).
  absl::Status WriteValues(const std::vector<double>& values);

  const std::string& path() const { return path_; }
  const std::vector<std::string>& columns() const { return columns_; }

 private:
  CsvWriter(std::string path, std::vector<std::string> columns, std::FILE* file)
      : path_(std::move(path)), columns_(std::move(columns)), file_(file) {}

  std::string path_;
  std::vector<std::string> columns_;
  std::FILE* file_;
};

}  // namespace strata::metrics

#endif  // STRATA_METRICS_CSV_WRITER_H_
