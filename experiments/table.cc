#include "experiments/table.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace strata::experiments {
namespace {

std::string CsvField(const std::string& field) {
  if (field.find_first_of(",\"\n") == std::string::npos) return field;
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

std::string Markdown(const Table& table) {
  std::string text = absl::StrCat("| ", absl::StrJoin(table.header, " | "), " |\n|");
  for (size_t i = 0; i < table.header.size(); ++i) text += "---|";
  text += "\n";
  for (const auto& row : table.rows) absl::StrAppend(&text, "| ", absl::StrJoin(row, " | "), " |\n");
  return text;
}

std::string Csv(const Table& table) {
  auto line = [](const std::vector<std::string>& fields) {
    std::vector<std::string> quoted;
    for (const std::string& f : fields) quoted.push_back(CsvField(f));
    return absl::StrCat(absl::StrJoin(quoted, ","), "\n");
  };
  std::string text = line(table.header);
  for (const auto& row : table.rows) text += line(row);
  return text;
}

absl::Status PrepareOutDir(const std::string& out, std::string* resolved) {
  if (out.empty()) return absl::InvalidArgumentError("--out is empty: give a folder for the table and the plot");
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  *resolved = (out[0] == '/' || cwd == nullptr) ? out : absl::StrCat(cwd, "/", out);
  // mkdir -p: every prefix ending at a '/', then the whole path.
  for (size_t i = 1; i <= resolved->size(); ++i) {
    if (i < resolved->size() && (*resolved)[i] != '/') continue;
    const std::string prefix = resolved->substr(0, i);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      return absl::PermissionDeniedError(absl::StrCat("cannot create folder ", prefix, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (stat(resolved->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("--out ", *resolved, " is not a folder"));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, absl::string_view text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::Status WriteTable(const std::string& dir, absl::string_view name, const Table& table) {
  const std::string md = Markdown(table);
  if (absl::Status s = WriteFile(absl::StrCat(dir, "/", name, ".md"), md); !s.ok()) return s;
  if (absl::Status s = WriteFile(absl::StrCat(dir, "/", name, ".csv"), Csv(table)); !s.ok()) return s;
  std::cout << md << std::flush;
  return absl::OkStatus();
}

absl::Status WritePlot(const std::string& dir, absl::string_view name, const std::vector<viz::LineSeries>& series,
                       const viz::LinePlotOptions& options) {
  const std::string path = absl::StrCat(dir, "/", name, ".png");
  if (absl::Status s = viz::WriteLinePlotPng(path, series, options); !s.ok()) return s;
  std::cerr << "wrote " << path << "\n";
  return absl::OkStatus();
}

std::string LoadAverage() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  if (!(f >> a >> b >> c)) return "unknown";
  return absl::StrCat(a, " ", b, " ", c);
}

double LoadAverage1() {
  const std::string all = LoadAverage();
  double v = -1;
  if (!absl::SimpleAtod(std::vector<std::string>(absl::StrSplit(all, ' '))[0], &v)) return -1;
  return v;
}

}  // namespace strata::experiments
