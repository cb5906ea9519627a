// viz/line_plot_png: line plots rasterised to PNG, checked pixel by pixel.
#include "viz/line_plot_png.h"

#include <cstdlib>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "viz/png.h"

namespace strata::viz {
namespace {

constexpr std::array<uint8_t, 3> kRed = {255, 0, 0};

bool IsRed(const Image& image, int64_t x, int64_t y) {
  return image.at(x, y, 0) == 255 && image.at(x, y, 1) == 0 && image.at(x, y, 2) == 0;
}

TEST(LinePlotPngTest, RisingLineRisesAndStaysInsideTheFrame) {
  LineSeries s;
  s.x = {0, 10};
  s.y = {0, 10};
  s.color = kRed;
  LinePlotOptions options;
  options.width = 400;
  options.height = 300;
  auto image = RenderLinePlot({s}, options);
  ASSERT_TRUE(image.ok()) << image.status();
  ASSERT_EQ(image->width, 400);
  ASSERT_EQ(image->height, 300);
  ASSERT_EQ(image->channels, 3);
  // The mean row of the red pixels in each column falls (rises on screen)
  // as the column moves right, and red appears over most of the width.
  double previous = 1e9;
  int columns = 0;
  for (int64_t x = 0; x < image->width; ++x) {
    double sum = 0;
    int n = 0;
    for (int64_t y = 0; y < image->height; ++y) {
      if (IsRed(*image, x, y)) sum += y, ++n;
    }
    if (n == 0) continue;
    ++columns;
    EXPECT_LE(sum / n, previous + 1e-9) << "column " << x;
    previous = sum / n;
  }
  EXPECT_GT(columns, 200);
  // Nothing red in the margins (the line is clipped to the frame).
  for (int64_t y = 0; y < image->height; ++y) EXPECT_FALSE(IsRed(*image, 0, y));
}

TEST(LinePlotPngTest, LegendTextAndRoundTripThroughPng) {
  LineSeries a, b;
  a.label = "PLAIN-20";
  a.x = {1, 2, 3};
  a.y = {0.5, 0.25, 0.125};
  b.label = "RESNET-20";
  b.x = {1, 2, 3};
  b.y = {0.4, 0.1, 0.01};
  b.markers = true;
  LinePlotOptions options;
  options.title = "TRAINING ERROR";
  options.log_y = true;
  auto image = RenderLinePlot({a, b}, options);
  ASSERT_TRUE(image.ok()) << image.status();
  // The palette's first two colours are used when none is given.
  int first = 0, second = 0;
  for (int64_t y = 0; y < image->height; ++y) {
    for (int64_t x = 0; x < image->width; ++x) {
      const auto c0 = PaletteColor(0), c1 = PaletteColor(1);
      if (image->at(x, y, 0) == c0[0] && image->at(x, y, 1) == c0[1] && image->at(x, y, 2) == c0[2]) ++first;
      if (image->at(x, y, 0) == c1[0] && image->at(x, y, 1) == c1[1] && image->at(x, y, 2) == c1[2]) ++second;
    }
  }
  EXPECT_GT(first, 50);
  EXPECT_GT(second, 50);
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  const std::string path = std::string(tmp) + "/plot.png";
  ASSERT_TRUE(WriteLinePlotPng(path, {a, b}, options).ok());
  auto back = ReadPng(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->pixels, image->pixels);
}

TEST(LinePlotPngTest, TextIsDrawnWithTheFont) {
  Image image(40, 20, 3, 255);
  EXPECT_EQ(TextWidth("1.5", 2), 24);
  EXPECT_EQ(DrawText(image, 1, 1, "1.5", kRed, 2), 24);
  // '1' is .#. on its first row: at scale 2, x 3..4 of row 1..2 is set, x 1..2 not.
  EXPECT_TRUE(IsRed(image, 3, 1));
  EXPECT_TRUE(IsRed(image, 4, 2));
  EXPECT_FALSE(IsRed(image, 1, 1));
  // '.' has only its bottom middle pixel.
  EXPECT_FALSE(IsRed(image, 1 + 8 + 2, 1));
  EXPECT_TRUE(IsRed(image, 1 + 8 + 2, 1 + 8));
}

TEST(LinePlotPngTest, Errors) {
  LineSeries bad;
  bad.label = "bad";
  bad.x = {1, 2};
  bad.y = {1};
  auto r = RenderLinePlot({bad}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "('bad') has 2 x values but 1 y values"));
  LineSeries negative;
  negative.x = {1, 2};
  negative.y = {-1, 0};
  LinePlotOptions log;
  log.log_y = true;
  r = RenderLinePlot({negative}, log);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::StrContains(r.status().message(), "log axes need values > 0"));
  LinePlotOptions tiny;
  tiny.width = 50;
  EXPECT_FALSE(RenderLinePlot({negative}, tiny).ok());
  EXPECT_FALSE(WriteLinePlotPng("/nonexistent/dir/p.png", {negative}, {}).ok());
}

}  // namespace
}  // namespace strata::viz
