#include "viz/png.h"

#include <png.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace strata::viz {

absl::Status WritePng(const std::string& path, const Image& image) {
  if (image.channels != 1 && image.channels != 3) {
    return absl::InvalidArgumentError(absl::StrCat("PNG ", path, ": ", image.channels, " channels (1 or 3 expected)"));
  }
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() != static_cast<size_t>(image.width * image.height * image.channels)) {
    return absl::InvalidArgumentError(
        absl::StrCat("PNG ", path, ": bad image ", image.width, "x", image.height, "x", image.channels));
  }
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = static_cast<png_uint_32>(image.width);
  png.height = static_cast<png_uint_32>(image.height);
  png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&png, path.c_str(), /*convert_to_8bit=*/0, image.pixels.data(),
                               /*row_stride=*/0, /*colormap=*/nullptr)) {
    absl::Status s = absl::InternalError(absl::StrCat("cannot write PNG ", path, ": ", png.message));
    png_image_free(&png);
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<Image> ReadPng(const std::string& path) {
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    return absl::DataLossError(absl::StrCat("cannot read PNG ", path, ": ", png.message));
  }
  const bool grey = (png.format & PNG_FORMAT_FLAG_COLOR) == 0;
  png.format = grey ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image image(png.width, png.height, grey ? 1 : 3);
  if (!png_image_finish_read(&png, /*background=*/nullptr, image.pixels.data(), /*row_stride=*/0,
                             /*colormap=*/nullptr)) {
    absl::Status s = absl::DataLossError(absl::StrCat("cannot decode PNG ", path, ": ", png.message));
    png_image_free(&png);
    return s;
  }
  return image;
}

}  // namespace strata::viz
