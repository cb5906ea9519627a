#include "viz/plot.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace strata::viz {
namespace {

absl::Status CsvError(absl::string_view path, int64_t line, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("CSV file ", path, ", line ", line, ": ", what));
}

// XML text and attribute values.
std::string Escape(absl::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

// A linear or log10 mapping of [lo, hi] onto pixels [p0, p1].
struct Axis {
  double lo = 0, hi = 1;  // in log10 units when `log`
  bool log = false;
  std::vector<double> ticks;  // values (not log10)
  double p0 = 0, p1 = 1;
  double Map(double v) const {
    const double t = log ? std::log10(v) : v;
    return p0 + (t - lo) / (hi - lo) * (p1 - p0);
  }
};

// [lo, hi] widened to round numbers, with about five ticks between.
Axis LinearAxis(double lo, double hi) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / 5;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
  Axis a;
  const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
  a.lo = first * step;
  a.hi = last * step;
  for (double k = first; k <= last + 0.5; ++k) {
    const double v = k * step;
    a.ticks.push_back(std::abs(v) < step * 1e-9 ? 0 : v);
  }
  return a;
}

// Whole decades around [lo, hi] (both positive); at most about eight labels.
Axis LogAxis(double lo, double hi) {
  Axis a;
  a.log = true;
  a.lo = std::floor(std::log10(lo) + 1e-9);
  a.hi = std::ceil(std::log10(hi) - 1e-9);
  if (a.hi <= a.lo) a.hi = a.lo + 1;
  const int every = static_cast<int>(std::ceil((a.hi - a.lo) / 8));
  for (double k = a.lo; k <= a.hi + 0.5; k += every) a.ticks.push_back(std::pow(10, k));
  return a;
}

std::string Num(double v) { return absl::StrFormat("%.2f", v); }
std::string Label(double v) { return absl::StrFormat("%g", v); }

struct Curve {
  const Series* series;
  std::string css_class;
  std::string color;
  std::string legend;
};

bool Plottable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// One panel: frame, grid lines and tick labels on both axes, the title and
// the curves.
void Panel(std::string& svg, double top, const PlotOptions& o, const Axis& x_in, const std::string& title,
           const std::vector<Curve>& curves, bool allow_log) {
  constexpr double kLeft = 75, kRight = 20, kTop = 30, kBottom = 40;
  Axis x = x_in;
  x.p0 = kLeft;
  x.p1 = o.width - kRight;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  bool positive = true;
  for (const Curve& c : curves) {
    for (double v : c.series->values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      positive = positive && v > 0;
    }
  }
  const bool empty = !(lo <= hi);
  const bool log = allow_log && !empty && positive && hi > 10 * lo;
  Axis y = empty ? LinearAxis(0, 1) : log ? LogAxis(lo, hi) : LinearAxis(lo, hi);
  y.p0 = top + o.panel_height - kBottom;  // SVG y grows downwards
  y.p1 = top + kTop;
  const double bottom = y.p0;

  svg += absl::StrCat("<g class=\"panel\">\n<text x=\"", Num(o.width / 2.0), "\" y=\"", Num(top + 20),
                      "\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">",
                      Escape(log ? absl::StrCat(title, " (log scale)") : title), "</text>\n");
  svg += absl::StrCat("<rect x=\"", Num(x.p0), "\" y=\"", Num(y.p1), "\" width=\"", Num(x.p1 - x.p0),
                      "\" height=\"", Num(bottom - y.p1), "\" fill=\"none\" stroke=\"black\"/>\n");
  for (double t : x.ticks) {
    const double px = x.Map(t);
    svg += absl::StrCat("<line x1=\"", Num(px), "\" y1=\"", Num(y.p1), "\" x2=\"", Num(px), "\" y2=\"",
                        Num(bottom + 5), "\" stroke=\"#ddd\"/>\n<text x=\"", Num(px), "\" y=\"", Num(bottom + 18),
                        "\" text-anchor=\"middle\" font-size=\"11\">", Escape(Label(t)), "</text>\n");
  }
  for (double t : y.ticks) {
    const double py = y.Map(t);
    svg += absl::StrCat("<line x1=\"", Num(x.p0 - 5), "\" y1=\"", Num(py), "\" x2=\"", Num(x.p1), "\" y2=\"",
                        Num(py), "\" stroke=\"#ddd\"/>\n<text x=\"", Num(x.p0 - 8), "\" y=\"", Num(py + 4),
                        "\" text-anchor=\"end\" font-size=\"11\">", Escape(Label(t)), "</text>\n");
  }
  svg += absl::StrCat("<text x=\"", Num((x.p0 + x.p1) / 2), "\" y=\"", Num(bottom + 34),
                      "\" text-anchor=\"middle\" font-size=\"11\">step</text>\n");
  if (empty) {
    svg += absl::StrCat("<text x=\"", Num((x.p0 + x.p1) / 2), "\" y=\"", Num((y.p0 + y.p1) / 2),
                        "\" text-anchor=\"middle\" font-size=\"12\" fill=\"#888\">no data</text>\n");
  }
  double legend_y = y.p0 - 15.0 * curves.size() + 5;  // bottom right: rising accuracy leaves it free
  for (const Curve& c : curves) {
    std::string points;
    for (size_t i = 0; i < c.series->values.size(); ++i) {
      const double v = c.series->values[i], s = c.series->steps[i];
      if (!Plottable(v, log) || !std::isfinite(s)) continue;
      absl::StrAppend(&points, points.empty() ? "" : " ", Num(x.Map(s)), ",", Num(y.Map(v)));
    }
    svg += absl::StrCat("<polyline class=\"", c.css_class, "\" fill=\"none\" stroke=\"", c.color,
                        "\" stroke-width=\"1.5\" points=\"", points, "\"/>\n");
    if (curves.size() > 1) {
      svg += absl::StrCat("<line x1=\"", Num(x.p1 - 120), "\" y1=\"", Num(legend_y - 4), "\" x2=\"",
                          Num(x.p1 - 100), "\" y2=\"", Num(legend_y - 4), "\" stroke=\"", c.color,
                          "\" stroke-width=\"2\"/>\n<text x=\"", Num(x.p1 - 95), "\" y=\"", Num(legend_y),
                          "\" font-size=\"11\">", Escape(c.legend), "</text>\n");
      legend_y += 15;
    }
  }
  svg += "</g>\n";
}

}  // namespace

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view path) {
  CsvTable t;
  t.path = std::string(path);
  const size_t n = text.size();
  size_t i = 0;
  int64_t line = 1;
  bool have_header = false;
  while (i < n) {
    const int64_t record_line = line;
    std::vector<std::string> fields;
    while (true) {
      std::string field;
      if (i < n && text[i] == '"') {
        ++i;
        while (true) {
          if (i >= n) return CsvError(path, record_line, "a quoted field is not closed");
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field += '"';
              ++i;
              continue;
            }
            break;
          }
          if (c == '\n') ++line;
          field += c;
        }
        if (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return CsvError(path, line, "text after the closing quote of a field");
        }
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return CsvError(path, line, "a quote inside an unquoted field");
          field += text[i++];
        }
      }
      fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n) {  // the end of the line
        if (text[i] == '\r') {
          ++i;
          if (i < n && text[i] == '\n') ++i;
        } else {
          ++i;
        }
        ++line;
      }
      break;
    }
    if (!have_header) {
      t.header = std::move(fields);
      have_header = true;
      continue;
    }
    if (fields.size() != t.header.size()) {
      return CsvError(path, record_line,
                      absl::StrCat("a row of ", fields.size(), " fields; the header has ", t.header.size()));
    }
    t.rows.push_back(std::move(fields));
    t.lines.push_back(record_line);
  }
  if (!have_header) return CsvError(path, 1, "the file is empty (no header)");
  return t;
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open CSV file ", path));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat("CSV file ", path, ": reading failed"));
  return ParseCsv(text, path);
}

absl::StatusOr<TrainingLog> ParseTrainingLog(const CsvTable& table) {
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < table.header.size(); ++i) column.emplace(table.header[i], i);
  size_t step_col = 0, kind_col = 0, loss_col = 0, lr_col = 0, test_col = 0, val_col = 0;
  const std::pair<const char*, size_t*> wanted[] = {{"step", &step_col},
                                                    {"kind", &kind_col},
                                                    {"loss", &loss_col},
                                                    {"learning_rate", &lr_col},
                                                    {"test_accuracy", &test_col},
                                                    {"validation_accuracy", &val_col}};
  for (const auto& [name, index] : wanted) {
    auto it = column.find(name);
    if (it == column.end()) {
      return CsvError(table.path, 1, absl::StrCat("the header has no column '", name, "' (is this a metrics.csv?)"));
    }
    *index = it->second;
  }
  TrainingLog log;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const std::vector<std::string>& row = table.rows[r];
    const int64_t line = table.lines[r];
    auto number = [&](size_t col, double* v) -> absl::Status {
      if (!absl::SimpleAtod(row[col], v)) {
        return CsvError(table.path, line,
                        absl::StrCat("column ", table.header[col], " holds '", row[col], "', not a number"));
      }
      return absl::OkStatus();
    };
    // Appends the cell's value at `step` unless the cell is empty.
    auto add = [&](size_t col, double step, Series* s) -> absl::Status {
      if (row[col].empty()) return absl::OkStatus();
      double v = 0;
      if (absl::Status st = number(col, &v); !st.ok()) return st;
      s->steps.push_back(step);
      s->values.push_back(v);
      return absl::OkStatus();
    };
    double step = 0;
    if (absl::Status st = number(step_col, &step); !st.ok()) return st;
    absl::Status st;
    if (row[kind_col] == "step") {
      st.Update(add(loss_col, step, &log.loss));
      st.Update(add(lr_col, step, &log.learning_rate));
    } else if (row[kind_col] == "epoch") {
      st.Update(add(test_col, step, &log.test_accuracy));
      st.Update(add(val_col, step, &log.validation_accuracy));
    } else {
      st = CsvError(table.path, line, absl::StrCat("kind '", row[kind_col], "' is neither 'step' nor 'epoch'"));
    }
    if (!st.ok()) return st;
  }
  return log;
}

std::string TrainingLogSvg(const TrainingLog& log, const PlotOptions& o) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series* s : {&log.loss, &log.learning_rate, &log.test_accuracy, &log.validation_accuracy}) {
    for (double step : s->steps) {
      if (!std::isfinite(step)) continue;
      lo = std::min(lo, step);
      hi = std::max(hi, step);
    }
  }
  const Axis x = lo <= hi ? LinearAxis(lo, hi) : LinearAxis(0, 1);
  const int title_height = 30;
  const int height = title_height + 3 * o.panel_height;
  std::string svg = absl::StrCat(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", o.width,
      "\" height=\"", height, "\" viewBox=\"0 0 ", o.width, " ", height, "\" font-family=\"sans-serif\">\n<title>",
      Escape(o.title), "</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"",
      Num(o.width / 2.0), "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">", Escape(o.title), "</text>\n");
  Panel(svg, title_height, o, x, "training loss", {{&log.loss, "loss", "#1f77b4", "loss"}}, false);
  Panel(svg, title_height + o.panel_height, o, x, "learning rate",
        {{&log.learning_rate, "learning_rate", "#d62728", "learning rate"}}, true);
  Panel(svg, title_height + 2 * o.panel_height, o, x, "accuracy",
        {{&log.test_accuracy, "test_accuracy", "#2ca02c", "test"},
         {&log.validation_accuracy, "validation_accuracy", "#ff7f0e", "validation"}},
        false);
  svg += "</svg>\n";
  return svg;
}

absl::Status PlotTrainingCsv(const std::string& csv, const std::string& out, const PlotOptions& options) {
  absl::StatusOr<CsvTable> table = ReadCsv(csv);
  if (!table.ok()) return table.status();
  absl::StatusOr<TrainingLog> log = ParseTrainingLog(*table);
  if (!log.ok()) return log.status();
  const std::string svg = TrainingLogSvg(*log, options);
  std::ofstream f(out, std::ios::binary | std::ios::trunc);
  if (!f) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open SVG file ", out));
  f << svg;
  f.close();
  if (!f) return absl::DataLossError(absl::StrCat("SVG file ", out, ": writing failed"));
  return absl::OkStatus();
}

}  // namespace strata::viz
