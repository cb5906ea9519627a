// Tensors as tiled image grids: convolution filters, activation maps and
// input images. Each tile is normalised on its own: its smallest value maps
// to 0 and its largest to 255 (a constant tile is all 0), so a tile shows
// its pattern whatever its scale. Tiles are laid out row-major in the order
// given (tile i at row i / columns, column i % columns), each in a cell the
// size of the largest tile, enlarged `scale` times (nearest neighbour), with
// `pad` pixels of background (255) between and around cells.
#ifndef STRATA_VIZ_GRID_H_
#define STRATA_VIZ_GRID_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/tensor.h"
#include "viz/png.h"

namespace strata::viz {

// One picture: channels 1 (grey) or 3 (RGB), values [channels][height][width].
struct Tile {
  int channels = 1;
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> values;
};

struct GridOptions {
  int64_t columns = 0;  // 0: ceil(sqrt(number of tiles))
  int64_t scale = 1;    // each value becomes scale x scale pixels
  int64_t pad = 1;      // background pixels between and around cells
};

// Where tile i's top-left pixel lands, and the image size, for `tiles` laid
// out with `options`.
struct GridLayout {
  int64_t columns = 0, rows = 0;
  int64_t cell_width = 0, cell_height = 0;  // in pixels, scale applied
  int64_t width = 0, height = 0;
  int64_t pad = 1;
  int64_t TileX(int64_t i) const;
  int64_t TileY(int64_t i) const;
};
GridLayout LayoutGrid(const std::vector<Tile>& tiles, const GridOptions& options);

// The grid: RGB when any tile is RGB (grey tiles are then drawn in all three
// channels), grey otherwise. InvalidArgument for no tiles or a malformed one.
absl::StatusOr<Image> RenderGrid(const std::vector<Tile>& tiles, const GridOptions& options);

// The 8-bit value a tile's `v` is drawn with, given the tile's min and max.
uint8_t NormalizedPixel(float v, float min, float max);

// Filters of a convolution, float32 OIHW weights [O, I, kh, kw]: with I == 3
// one RGB tile per filter (channel 0 red); otherwise one grey tile per
// (filter, input channel), filter-major (tile o * I + i). FilterGridOptions
// gives I columns then (one row per filter) unless I == 3 or I == 1.
absl::StatusOr<std::vector<Tile>> FilterTiles(const Tensor& weights);
GridOptions FilterGridOptions(const Tensor& weights, int64_t scale);

// The maps of example `n` of a float32 [N, C, H, W] tensor: C grey tiles,
// channel order.
absl::StatusOr<std::vector<Tile>> ChannelTiles(const Tensor& activations, int64_t n);

// Example `n` of a float32 [N, C, H, W] tensor as one tile: RGB when C == 3,
// else grey from channel 0.
absl::StatusOr<Tile> ImageTile(const Tensor& images, int64_t n);

}  // namespace strata::viz

#endif  // STRATA_VIZ_GRID_H_
