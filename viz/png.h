// 8-bit PNG files through libpng (Debian's libpng16): writing the pictures of
// viz/ and reading them back (tests, tools).
#ifndef STRATA_VIZ_PNG_H_
#define STRATA_VIZ_PNG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace strata::viz {

// Row-major, interleaved 8-bit pixels: channels is 1 (grey) or 3 (RGB).
struct Image {
  int64_t width = 0;
  int64_t height = 0;
  int channels = 1;
  std::vector<uint8_t> pixels;  // height * width * channels

  Image() = default;
  Image(int64_t w, int64_t h, int c, uint8_t fill = 0)
      : width(w), height(h), channels(c), pixels(static_cast<size_t>(w * h * c), fill) {}
  uint8_t& at(int64_t x, int64_t y, int c = 0) { return pixels[static_cast<size_t>((y * width + x) * channels + c)]; }
  uint8_t at(int64_t x, int64_t y, int c = 0) const {
    return pixels[static_cast<size_t>((y * width + x) * channels + c)];
  }
};

// Writes `image` as a PNG (grey or RGB). Errors name the file.
absl::Status WritePng(const std::string& path, const Image& image);

// Decodes a PNG into 8-bit grey (when the file is grey) or RGB pixels.
absl::StatusOr<Image> ReadPng(const std::string& path);

}  // namespace strata::viz

#endif  // STRATA_VIZ_PNG_H_
