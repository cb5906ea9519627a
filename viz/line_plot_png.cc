#include "viz/line_plot_png.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace strata::viz {
namespace {

// A 3x5 font: five rows of three pixels per glyph, '#' set. Characters
// outside it are drawn as '?'-less blanks (they still take their width).
struct Glyph {
  char c;
  const char* rows[5];
};
constexpr Glyph kFont[] = {
    {'0', {"###", "#.#", "#.#", "#.#", "###"}}, {'1', {".#.", "##.", ".#.", ".#.", "###"}},
    {'2', {"###", "..#", "###", "#..", "###"}}, {'3', {"###", "..#", ".##", "..#", "###"}},
    {'4', {"#.#", "#.#", "###", "..#", "..#"}}, {'5', {"###", "#..", "###", "..#", "###"}},
    {'6', {"###", "#..", "###", "#.#", "###"}}, {'7', {"###", "..#", "..#", ".#.", ".#."}},
    {'8', {"###", "#.#", "###", "#.#", "###"}}, {'9', {"###", "#.#", "###", "..#", "###"}},
    {'A', {".#.", "#.#", "###", "#.#", "#.#"}}, {'B', {"##.", "#.#", "##.", "#.#", "##."}},
    {'C', {".##", "#..", "#..", "#..", ".##"}}, {'D', {"##.", "#.#", "#.#", "#.#", "##."}},
    {'E', {"###", "#..", "##.", "#..", "###"}}, {'F', {"###", "#..", "##.", "#..", "#.."}},
    {'G', {".##", "#..", "#.#", "#.#", ".##"}}, {'H', {"#.#", "#.#", "###", "#.#", "#.#"}},
    {'I', {"###", ".#.", ".#.", ".#.", "###"}}, {'J', {"..#", "..#", "..#", "#.#", ".#."}},
    {'K', {"#.#", "#.#", "##.", "#.#", "#.#"}}, {'L', {"#..", "#..", "#..", "#..", "###"}},
    {'M', {"#.#", "###", "###", "#.#", "#.#"}}, {'N', {"##.", "#.#", "#.#", "#.#", "#.#"}},
    {'O', {".#.", "#.#", "#.#", "#.#", ".#."}}, {'P', {"##.", "#.#", "##.", "#..", "#.."}},
    {'Q', {".#.", "#.#", "#.#", "##.", ".##"}}, {'R', {"##.", "#.#", "##.", "#.#", "#.#"}},
    {'S', {".##", "#..", ".#.", "..#", "##."}}, {'T', {"###", ".#.", ".#.", ".#.", ".#."}},
    {'U', {"#.#", "#.#", "#.#", "#.#", "###"}}, {'V', {"#.#", "#.#", "#.#", "#.#", ".#."}},
    {'W', {"#.#", "#.#", "###", "###", "#.#"}}, {'X', {"#.#", "#.#", ".#.", "#.#", "#.#"}},
    {'Y', {"#.#", "#.#", ".#.", ".#.", ".#."}}, {'Z', {"###", "..#", ".#.", "#..", "###"}},
    {'.', {"...", "...", "...", "...", ".#."}}, {'-', {"...", "...", "###", "...", "..."}},
    {'+', {"...", ".#.", "###", ".#.", "..."}}, {':', {"...", ".#.", "...", ".#.", "..."}},
    {'/', {"..#", "..#", ".#.", "#..", "#.."}}, {'(', {".#.", "#..", "#..", "#..", ".#."}},
    {')', {".#.", "..#", "..#", "..#", ".#."}}, {'=', {"...", "###", "...", "###", "..."}},
    {',', {"...", "...", "...", ".#.", "#.."}}, {'%', {"#.#", "..#", ".#.", "#..", "#.#"}},
    {'^', {".#.", "#.#", "...", "...", "..."}}, {'_', {"...", "...", "...", "...", "###"}},
    {'*', {"...", "#.#", ".#.", "#.#", "..."}}, {'<', {"..#", ".#.", "#..", ".#.", "..#"}},
    {'>', {"#..", ".#.", "..#", ".#.", "#.."}}, {'[', {"##.", "#..", "#..", "#..", "##."}},
    {']', {".##", "..#", "..#", "..#", ".##"}},
};

const Glyph* FindGlyph(char c) {
  c = absl::ascii_toupper(static_cast<unsigned char>(c));
  for (const Glyph& g : kFont) {
    if (g.c == c) return &g;
  }
  return nullptr;
}

using Rgb = std::array<uint8_t, 3>;
constexpr Rgb kBlack = {0, 0, 0};
constexpr Rgb kGrid = {225, 225, 225};
constexpr Rgb kFrame = {90, 90, 90};

void Put(Image& image, int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
  for (int k = 0; k < 3; ++k) image.at(x, y, k) = c[k];
}

void FillRect(Image& image, int x0, int y0, int x1, int y1, Rgb c) {
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) Put(image, x, y, c);
  }
}

// An axis: value -> pixel, linear or log10.
struct Axis {
  double lo = 0, hi = 1;  // in axis units (log10 of the value on a log axis)
  bool log = false;
  int p0 = 0, p1 = 1;  // pixels of lo and hi
  double Units(double v) const { return log ? std::log10(v) : v; }
  double Pixel(double v) const { return p0 + (Units(v) - lo) / (hi - lo) * (p1 - p0); }
};

bool Usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// 1, 2 or 5 x 10^k, the smallest at least `raw`.
double NiceStep(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    if (m * power >= raw * (1 - 1e-9)) return m * power;
  }
  return 10 * power;
}

// Tick values (in value units) and the axis range, lo/hi extended to ticks
// on a linear axis so the curves never touch the frame.
std::vector<double> Ticks(Axis& axis, double min, double max) {
  std::vector<double> ticks;
  if (axis.log) {
    double lo = std::floor(std::log10(min)), hi = std::ceil(std::log10(max));
    if (hi <= lo) hi = lo + 1;
    axis.lo = lo;
    axis.hi = hi;
    const int every = static_cast<int>(std::ceil((hi - lo) / 8));  // at most ~8 labels
    for (double e = lo; e <= hi + 1e-9; e += every) ticks.push_back(std::pow(10.0, e));
    return ticks;
  }
  if (max <= min) {
    const double half = min == 0 ? 1 : std::abs(min) * 0.1;
    min -= half;
    max += half;
  }
  const double step = NiceStep((max - min) / 5);
  axis.lo = std::floor(min / step + 1e-9) * step;
  axis.hi = std::ceil(max / step - 1e-9) * step;
  for (double k = std::round(axis.lo / step); k * step <= axis.hi + step * 1e-9; k += 1) {
    const double v = k * step;
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  }
  return ticks;
}

std::string TickText(double v) { return absl::StrFormat("%g", v); }

void DrawLine(Image& image, double x0, double y0, double x1, double y1, int thickness, Rgb c, int clip_x0,
              int clip_y0, int clip_x1, int clip_y1) {
  const int steps = static_cast<int>(std::ceil(std::max(std::abs(x1 - x0), std::abs(y1 - y0)))) + 1;
  const int half = thickness / 2;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    const int x = static_cast<int>(std::lround(x0 + t * (x1 - x0)));
    const int y = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
    for (int dy = -half; dy < thickness - half; ++dy) {
      for (int dx = -half; dx < thickness - half; ++dx) {
        const int px = x + dx, py = y + dy;
        if (px >= clip_x0 && px <= clip_x1 && py >= clip_y0 && py <= clip_y1) Put(image, px, py, c);
      }
    }
  }
}

}  // namespace

std::array<uint8_t, 3> PaletteColor(size_t i) {
  // Ten colours that stay apart on white and for most colour-blind readers.
  static constexpr Rgb kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                     {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                     {188, 189, 34},  {23, 190, 207}};
  return kPalette[i % 10];
}

int TextWidth(absl::string_view text, int scale) { return static_cast<int>(text.size()) * 4 * scale; }

int DrawText(Image& image, int x, int y, absl::string_view text, std::array<uint8_t, 3> color, int scale) {
  int cx = x;
  for (char c : text) {
    if (const Glyph* g = FindGlyph(c)) {
      for (int r = 0; r < 5; ++r) {
        for (int col = 0; col < 3; ++col) {
          if (g->rows[r][col] == '#') FillRect(image, cx + col * scale, y + r * scale, cx + (col + 1) * scale - 1,
                                               y + (r + 1) * scale - 1, color);
        }
      }
    }
    cx += 4 * scale;
  }
  return cx - x;
}

absl::StatusOr<Image> RenderLinePlot(const std::vector<LineSeries>& series, const LinePlotOptions& options) {
  if (options.width < 200 || options.height < 150) {
    return absl::InvalidArgumentError(
        absl::StrCat("line plot of ", options.width, "x", options.height, " pixels: at least 200x150 please"));
  }
  double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
  for (size_t s = 0; s < series.size(); ++s) {
    const LineSeries& l = series[s];
    if (l.x.size() != l.y.size()) {
      return absl::InvalidArgumentError(absl::StrCat("line plot series ", s, " ('", l.label, "') has ", l.x.size(),
                                                     " x values but ", l.y.size(), " y values"));
    }
    for (size_t i = 0; i < l.x.size(); ++i) {
      if (!Usable(l.x[i], options.log_x) || !Usable(l.y[i], options.log_y)) continue;
      xmin = std::min(xmin, l.x[i]);
      xmax = std::max(xmax, l.x[i]);
      ymin = std::min(ymin, l.y[i]);
      ymax = std::max(ymax, l.y[i]);
    }
  }
  if (!(xmin <= xmax)) {
    return absl::InvalidArgumentError(absl::StrCat("line plot '", options.title, "' has no point to draw",
                                                   options.log_x || options.log_y ? " (log axes need values > 0)"
                                                                                  : ""));
  }
  const int s = std::max(1, options.font_scale);
  const int line = 7 * s;  // text line height
  Image image(options.width, options.height, 3, 255);
  Axis x_axis, y_axis;
  x_axis.log = options.log_x;
  y_axis.log = options.log_y;
  std::vector<double> x_ticks = Ticks(x_axis, xmin, xmax);
  std::vector<double> y_ticks = Ticks(y_axis, ymin, ymax);
  int label_width = 0;
  for (double v : y_ticks) label_width = std::max(label_width, TextWidth(TickText(v), s));
  const int left = label_width + 4 * s + 6;
  const int right = options.width - 6 * s;
  const int top = (options.title.empty() ? 2 : 4) * line;
  const int bottom = options.height - (options.x_label.empty() ? 2 : 4) * line;
  if (right - left < 40 || bottom - top < 40) {
    return absl::InvalidArgumentError("line plot: too small for its labels; make it larger");
  }
  x_axis.p0 = left;
  x_axis.p1 = right;
  y_axis.p0 = bottom;
  y_axis.p1 = top;

  // Grid, ticks and their numbers.
  for (double v : x_ticks) {
    const int px = static_cast<int>(std::lround(x_axis.Pixel(v)));
    FillRect(image, px, top, px, bottom, kGrid);
    const std::string t = TickText(v);
    DrawText(image, px - TextWidth(t, s) / 2, bottom + 2 * s + 2, t, kBlack, s);
  }
  for (double v : y_ticks) {
    const int py = static_cast<int>(std::lround(y_axis.Pixel(v)));
    FillRect(image, left, py, right, py, kGrid);
    const std::string t = TickText(v);
    DrawText(image, left - 6 - TextWidth(t, s) + s, py - 5 * s / 2, t, kBlack, s);
  }
  // Frame.
  FillRect(image, left, top, right, top, kFrame);
  FillRect(image, left, bottom, right, bottom, kFrame);
  FillRect(image, left, top, left, bottom, kFrame);
  FillRect(image, right, top, right, bottom, kFrame);
  // Title, axis labels (the y label above its axis: the font does not rotate).
  if (!options.title.empty()) {
    DrawText(image, (options.width - TextWidth(options.title, s)) / 2, line / 2, options.title, kBlack, s);
  }
  std::string y_label = options.y_label;
  if (options.log_y && !y_label.empty()) y_label += " (LOG)";
  DrawText(image, 4, top - line - s, y_label, kBlack, s);
  std::string x_label = options.x_label;
  if (options.log_x && !x_label.empty()) x_label += " (LOG)";
  DrawText(image, (left + right - TextWidth(x_label, s)) / 2, bottom + line + 3 * s + 2, x_label, kBlack, s);

  // Curves.
  for (size_t k = 0; k < series.size(); ++k) {
    const LineSeries& l = series[k];
    const Rgb color = l.color == Rgb{0, 0, 0} ? PaletteColor(k) : l.color;
    bool have_previous = false;
    double px0 = 0, py0 = 0;
    for (size_t i = 0; i < l.x.size(); ++i) {
      if (!Usable(l.x[i], options.log_x) || !Usable(l.y[i], options.log_y)) {
        have_previous = false;  // a gap, not a line across the missing point
        continue;
      }
      const double px = x_axis.Pixel(l.x[i]), py = y_axis.Pixel(l.y[i]);
      if (l.lines && have_previous) DrawLine(image, px0, py0, px, py, l.thickness, color, left, top, right, bottom);
      if (l.markers) {
        const int r = 2 + l.thickness;
        FillRect(image, static_cast<int>(px) - r, static_cast<int>(py) - r, static_cast<int>(px) + r,
                 static_cast<int>(py) + r, color);
      }
      px0 = px;
      py0 = py;
      have_previous = true;
    }
  }

  // Legend, top right inside the frame.
  int legend_width = 0, entries = 0;
  for (const LineSeries& l : series) {
    if (l.label.empty()) continue;
    legend_width = std::max(legend_width, TextWidth(l.label, s));
    ++entries;
  }
  if (entries > 0) {
    const int sample = 8 * s;
    const int box_w = legend_width + sample + 6 * s, box_h = entries * line + 2 * s;
    const int bx = right - box_w - 2 * s, by = top + 2 * s;
    FillRect(image, bx, by, bx + box_w, by + box_h, {255, 255, 255});
    FillRect(image, bx, by, bx + box_w, by, kGrid);
    FillRect(image, bx, by + box_h, bx + box_w, by + box_h, kGrid);
    FillRect(image, bx, by, bx, by + box_h, kGrid);
    FillRect(image, bx + box_w, by, bx + box_w, by + box_h, kGrid);
    int row = 0;
    for (size_t k = 0; k < series.size(); ++k) {
      const LineSeries& l = series[k];
      if (l.label.empty()) continue;
      const Rgb color = l.color == Rgb{0, 0, 0} ? PaletteColor(k) : l.color;
      const int ty = by + 2 * s + row * line;
      FillRect(image, bx + 2 * s, ty + 2 * s - 1, bx + 2 * s + sample, ty + 3 * s, color);
      DrawText(image, bx + 4 * s + sample, ty, l.label, kBlack, s);
      ++row;
    }
  }
  return image;
}

absl::Status WriteLinePlotPng(const std::string& path, const std::vector<LineSeries>& series,
                              const LinePlotOptions& options) {
  absl::StatusOr<Image> image = RenderLinePlot(series, options);
  if (!image.ok()) return image.status();
  return WritePng(path, *image);
}

}  // namespace strata::viz
