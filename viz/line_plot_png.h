// Line plots rasterised straight to PNG, for the experiments' figures (the
// SVG plots of viz/plot.h need a browser or converter to become pictures).
// One panel: axes with "nice" ticks (1, 2, 5 x 10^k; powers of ten on a log
// axis), their numbers, a title, axis labels and a legend, all in a small
// built-in 3x5 pixel font (upper case, digits and a few signs; lower-case
// letters are drawn as capitals), scaled up `font_scale` times.
#ifndef STRATA_VIZ_LINE_PLOT_PNG_H_
#define STRATA_VIZ_LINE_PLOT_PNG_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "viz/png.h"

namespace strata::viz {

struct LineSeries {
  std::string label;  // in the legend; empty: not listed
  std::vector<double> x, y;
  // RGB; all zero: the palette's colour for the series' index.
  std::array<uint8_t, 3> color = {0, 0, 0};
  bool lines = true;     // join consecutive points
  bool markers = false;  // a small square at every point
  int thickness = 2;     // pixels
};

struct LinePlotOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 720;   // pixels, the whole picture
  int height = 480;
  bool log_x = false;  // points with x <= 0 (y <= 0) are left out on a log axis
  bool log_y = false;
  int font_scale = 2;
};

// The palette's i-th colour (i modulo its size).
std::array<uint8_t, 3> PaletteColor(size_t i);

// Draws `text` with its top-left corner at (x, y) in `image` (RGB), clipped
// to the picture; returns the width drawn, in pixels.
int DrawText(Image& image, int x, int y, absl::string_view text, std::array<uint8_t, 3> color, int scale);
int TextWidth(absl::string_view text, int scale);

// The picture (RGB). InvalidArgument when a series' x and y differ in
// length, the size is below 200x150, or no point is finite (and positive on
// a log axis). Non-finite points are left out.
absl::StatusOr<Image> RenderLinePlot(const std::vector<LineSeries>& series, const LinePlotOptions& options);

// RenderLinePlot, written to `path`.
absl::Status WriteLinePlotPng(const std::string& path, const std::vector<LineSeries>& series,
                              const LinePlotOptions& options);

}  // namespace strata::viz

#endif  // STRATA_VIZ_LINE_PLOT_PNG_H_
