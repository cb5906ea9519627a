#include "metrics/csv_writer.h"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace strata::metrics {
namespace {

std::string Line(const std::vector<std::string>& fields) {
  std::vector<std::string> quoted;
  quoted.reserve(fields.size());
  for (const std::string& f : fields) quoted.push_back(CsvField(f));
  return absl::StrCat(absl::StrJoin(quoted, ","), "\n");
}

}  // namespace

std::string CsvField(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string CsvNumber(double value) { return absl::StrFormat("%.9g", value); }

absl::StatusOr<std::unique_ptr<CsvWriter>> CsvWriter::Open(const std::string& path, std::vector<std::string> columns,
                                                           bool append) {
  if (columns.empty()) return absl::InvalidArgumentError(absl::StrCat("CSV file ", path, ": no columns"));
  const std::string header = Line(columns);
  bool write_header = true;
  if (append) {
    std::ifstream in(path, std::ios::binary);
    std::string existing((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!existing.empty()) {
      if (existing.compare(0, header.size(), header) != 0) {
        const std::string first = existing.substr(0, existing.find('\n'));
        return absl::FailedPreconditionError(
            absl::StrCat("CSV file ", path, " has the header '", first, "', not '",
                         header.substr(0, header.size() - 1), "': cannot append to it"));
      }
      write_header = false;
      const size_t keep = existing.rfind('\n') + 1;  // the header ends with one
      if (keep != existing.size()) {
        std::error_code error;
        std::filesystem::resize_file(path, keep, error);
        if (error) {
          return absl::FailedPreconditionError(
              absl::StrCat("CSV file ", path, ": cannot drop a partial last line: ", error.message()));
        }
      }
    }
  }
  std::FILE* f = std::fopen(path.c_str(), write_header && !append ? "wb" : "ab");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open CSV file ", path));
  std::unique_ptr<CsvWriter> writer(new CsvWriter(path, std::move(columns), f));
  if (write_header) {
    if (std::fwrite(header.data(), 1, header.size(), f) != header.size() || std::fflush(f) != 0) {
      return absl::ErrnoToStatus(errno, absl::StrCat("CSV file ", path, ": writing the header failed"));
    }
  }
  return writer;
}

CsvWriter::~CsvWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status CsvWriter::WriteRow(const std::vector<std::string>& fields) {
  if (fields.size() != columns_.size()) {
    return absl::InvalidArgumentError(absl::StrCat("CSV file ", path_, ": a row has ", fields.size(),
                                                   " fields for ", columns_.size(), " columns (",
                                                   absl::StrJoin(columns_, ","), ")"));
  }
  const std::string line = Line(fields);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("CSV file ", path_, ": writing a row failed"));
  }
  return absl::OkStatus();
}

absl::Status CsvWriter::WriteValues(const std::vector<double>& values) {
  std::vector<std::string> fields;
  fields.reserve(values.size());
  for (double v : values) fields.push_back(CsvNumber(v));
  return WriteRow(fields);
}

}  // namespace strata::metrics
