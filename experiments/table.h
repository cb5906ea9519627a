// What every experiment program shares: where its --out folder is, and
// writing its table as Markdown (for docs/experiments.md) and CSV and its
// plots as PNG.
#ifndef STRATA_EXPERIMENTS_TABLE_H_
#define STRATA_EXPERIMENTS_TABLE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "viz/line_plot_png.h"

namespace strata::experiments {

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// "| a | b |\n|---|---|\n| 1 | 2 |\n".
std::string Markdown(const Table& table);
// RFC 4180 CSV (fields with commas or quotes are quoted).
std::string Csv(const Table& table);

// `bazel run` starts a program inside its runfiles: a relative --out is
// taken from the directory the user ran bazel in ($BUILD_WORKING_DIRECTORY).
// The folder is created (with its parents) when missing.
absl::Status PrepareOutDir(const std::string& out, std::string* resolved);

// Writes `text` to `path`; errors name the file.
absl::Status WriteFile(const std::string& path, absl::string_view text);

// Writes DIR/NAME.md and DIR/NAME.csv and prints the Markdown to stdout.
absl::Status WriteTable(const std::string& dir, absl::string_view name, const Table& table);

// Writes DIR/NAME.png (viz::WriteLinePlotPng) and says so on stderr.
absl::Status WritePlot(const std::string& dir, absl::string_view name, const std::vector<viz::LineSeries>& series,
                       const viz::LinePlotOptions& options);

// The 1, 5 and 15 minute load averages ("0.52 0.61 0.70"), from
// /proc/loadavg; "unknown" when it cannot be read.
std::string LoadAverage();
// The 1-minute load average, or -1 when unknown.
double LoadAverage1();

}  // namespace strata::experiments

#endif  // STRATA_EXPERIMENTS_TABLE_H_
