// Plots of a training run's CSV log (metrics.csv, written by `strata train
// --log_dir=DIR` through metrics::CsvWriter) as one SVG file: three stacked
// panels against the step, the training loss and the learning rate of the
// `step` rows, and the test and validation accuracy of the `epoch` rows.
#ifndef STRATA_VIZ_PLOT_H_
#define STRATA_VIZ_PLOT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace strata::viz {

// A CSV file as records of fields. Quoted fields follow RFC 4180 (as
// metrics::CsvField writes them): commas, quotes (doubled) and line breaks
// inside quotes. Lines end in "\n" or "\r\n"; the last may lack one.
struct CsvTable {
  std::string path;                            // for error messages
  std::vector<std::string> header;             // the first record
  std::vector<std::vector<std::string>> rows;  // each with header.size() fields
  std::vector<int64_t> lines;                  // rows[i] starts on line lines[i] (1-based)
};

// Errors (InvalidArgument) read "CSV file PATH, line N: ..." where N is the
// line the offending record starts on.
absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view path);
absl::StatusOr<CsvTable> ReadCsv(const std::string& path);

// One curve: values[i] at steps[i], in file order.
struct Series {
  std::vector<double> steps;
  std::vector<double> values;
};

struct TrainingLog {
  Series loss;                 // step rows
  Series learning_rate;        // step rows
  Series test_accuracy;        // epoch rows
  Series validation_accuracy;  // epoch rows with a value (the column is empty without --validation)
};

// The series of a metrics.csv table. Columns are found by name (step, kind,
// loss, learning_rate, test_accuracy, validation_accuracy; others are
// ignored); an empty cell adds no point. A missing column, a kind other than
// `step` or `epoch` or a cell that is not a number is an error naming the file
// and line. "nan" and "inf" are numbers here (a diverged run logs them); the
// plot leaves such points out.
absl::StatusOr<TrainingLog> ParseTrainingLog(const CsvTable& table);

struct PlotOptions {
  std::string title = "training run";  // above the panels (escaped)
  int width = 800;                     // pixels
  int panel_height = 240;              // pixels per panel
};

// The SVG document. Every curve is one <polyline class="loss|learning_rate|
// test_accuracy|validation_accuracy"> with one point per finite value (and,
// on the log-scale learning-rate panel, per positive value). The learning
// rate is on a log scale when its positive values span more than 10x and
// none is zero or negative; its panel title then says "(log scale)". All
// panels share the step axis.
std::string TrainingLogSvg(const TrainingLog& log, const PlotOptions& options = {});

// ReadCsv, ParseTrainingLog and TrainingLogSvg, written to `out`.
absl::Status PlotTrainingCsv(const std::string& csv, const std::string& out, const PlotOptions& options = {});

}  // namespace strata::viz

#endif  // STRATA_VIZ_PLOT_H_
