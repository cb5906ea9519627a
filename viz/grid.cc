#include "viz/grid.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace strata::viz {

int64_t GridLayout::TileX(int64_t i) const { return (i % columns) * (cell_width + pad) + pad; }
int64_t GridLayout::TileY(int64_t i) const { return (i / columns) * (cell_height + pad) + pad; }

GridLayout LayoutGrid(const std::vector<Tile>& tiles, const GridOptions& options) {
  GridLayout l;
  const int64_t n = static_cast<int64_t>(tiles.size());
  const int64_t scale = std::max<int64_t>(1, options.scale);
  l.pad = std::max<int64_t>(0, options.pad);
  l.columns = options.columns > 0 ? options.columns
                                  : std::max<int64_t>(1, static_cast<int64_t>(std::ceil(std::sqrt(double(n)))));
  l.columns = std::max<int64_t>(1, std::min(l.columns, std::max<int64_t>(n, 1)));
  l.rows = (n + l.columns - 1) / l.columns;
  for (const Tile& t : tiles) {
    l.cell_width = std::max(l.cell_width, t.width * scale);
    l.cell_height = std::max(l.cell_height, t.height * scale);
  }
  l.width = l.columns * (l.cell_width + l.pad) + l.pad;
  l.height = l.rows * (l.cell_height + l.pad) + l.pad;
  return l;
}

uint8_t NormalizedPixel(float v, float min, float max) {
  if (!(max > min)) return 0;
  const double x = (static_cast<double>(v) - min) / (static_cast<double>(max) - min) * 255.0;
  return static_cast<uint8_t>(std::clamp(std::lround(x), 0L, 255L));
}

absl::StatusOr<Image> RenderGrid(const std::vector<Tile>& tiles, const GridOptions& options) {
  if (tiles.empty()) return absl::InvalidArgumentError("an image grid needs at least one tile");
  int channels = 1;
  for (size_t i = 0; i < tiles.size(); ++i) {
    const Tile& t = tiles[i];
    if ((t.channels != 1 && t.channels != 3) || t.height < 1 || t.width < 1 ||
        t.values.size() != static_cast<size_t>(t.channels * t.height * t.width)) {
      return absl::InvalidArgumentError(absl::StrCat("tile ", i, " is malformed: ", t.channels, "x", t.height, "x",
                                                     t.width, " with ", t.values.size(), " values"));
    }
    channels = std::max(channels, t.channels);
  }
  const GridLayout l = LayoutGrid(tiles, options);
  const int64_t scale = std::max<int64_t>(1, options.scale);
  Image image(l.width, l.height, channels, 255);
  for (size_t i = 0; i < tiles.size(); ++i) {
    const Tile& t = tiles[i];
    const auto [mn, mx] = std::minmax_element(t.values.begin(), t.values.end());
    const int64_t x0 = l.TileX(static_cast<int64_t>(i)), y0 = l.TileY(static_cast<int64_t>(i));
    for (int64_t y = 0; y < t.height * scale; ++y) {
      for (int64_t x = 0; x < t.width * scale; ++x) {
        for (int c = 0; c < channels; ++c) {
          const int tc = t.channels == 1 ? 0 : c;
          const float v = t.values[static_cast<size_t>((tc * t.height + y / scale) * t.width + x / scale)];
          image.at(x0 + x, y0 + y, c) = NormalizedPixel(v, *mn, *mx);
        }
      }
    }
  }
  return image;
}

namespace {

absl::Status CheckFloat4D(const Tensor& t, const char* what) {
  if (!t.valid() || t.dtype() != DType::kFloat32 || t.shape().rank() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be a float32 4-D tensor, got ",
                                                   t.valid() ? t.shape().ToString() : std::string("none")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Tile>> FilterTiles(const Tensor& weights) {
  if (absl::Status s = CheckFloat4D(weights, "convolution weights [O,I,kh,kw]"); !s.ok()) return s;
  const Shape& s = weights.shape();
  const int64_t o = s[0], in = s[1], kh = s[2], kw = s[3];
  const float* w = weights.data<float>();
  std::vector<Tile> tiles;
  if (in == 3) {
    for (int64_t f = 0; f < o; ++f) {
      Tile t{3, kh, kw, std::vector<float>(w + f * 3 * kh * kw, w + (f + 1) * 3 * kh * kw)};
      tiles.push_back(std::move(t));
    }
    return tiles;
  }
  for (int64_t f = 0; f < o; ++f) {
    for (int64_t c = 0; c < in; ++c) {
      const float* p = w + (f * in + c) * kh * kw;
      tiles.push_back(Tile{1, kh, kw, std::vector<float>(p, p + kh * kw)});
    }
  }
  return tiles;
}

GridOptions FilterGridOptions(const Tensor& weights, int64_t scale) {
  GridOptions o;
  o.scale = scale;
  if (weights.valid() && weights.shape().rank() == 4 && weights.shape()[1] != 3 && weights.shape()[1] != 1) {
    o.columns = weights.shape()[1];
  }
  return o;
}

absl::StatusOr<std::vector<Tile>> ChannelTiles(const Tensor& activations, int64_t n) {
  if (absl::Status s = CheckFloat4D(activations, "activations [N,C,H,W]"); !s.ok()) return s;
  const Shape& s = activations.shape();
  if (n < 0 || n >= s[0]) return absl::OutOfRangeError(absl::StrCat("example ", n, " of ", s[0]));
  const int64_t hw = s[2] * s[3];
  const float* a = activations.data<float>() + n * s[1] * hw;
  std::vector<Tile> tiles;
  for (int64_t c = 0; c < s[1]; ++c) tiles.push_back(Tile{1, s[2], s[3], std::vector<float>(a + c * hw, a + (c + 1) * hw)});
  return tiles;
}

absl::StatusOr<Tile> ImageTile(const Tensor& images, int64_t n) {
  if (absl::Status s = CheckFloat4D(images, "images [N,C,H,W]"); !s.ok()) return s;
  const Shape& s = images.shape();
  if (n < 0 || n >= s[0]) return absl::OutOfRangeError(absl::StrCat("example ", n, " of ", s[0]));
  const int64_t hw = s[2] * s[3];
  const int channels = s[1] == 3 ? 3 : 1;
  const float* a = images.data<float>() + n * s[1] * hw;
  return Tile{channels, s[2], s[3], std::vector<float>(a, a + channels * hw)};
}

}  // namespace strata::viz
