// libFuzzer harness for the IDX readers (plain or gzip): any bytes must give
// a tensor or a Status naming the file. The same input is read as images and
// as labels; what loads must have the promised shape and range. See
// fuzz/README.md.
#include <cstdint>
#include <string>

#include "data/mnist.h"
#include "fuzz/memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static strata::fuzz::MemFile file("idx");
  const std::string& path = file.Set(data, size);
  auto names_file = [&](const absl::Status& s) { return std::string(s.message()).find(path) != std::string::npos; };

  auto images = strata::data::ReadIdxImages(path);
  if (!images.ok()) {
    if (!names_file(images.status())) __builtin_trap();
  } else {
    const strata::Tensor& t = *images;
    if (t.dtype() != strata::DType::kFloat32 || t.shape().rank() != 4 || t.shape()[1] != 1) __builtin_trap();
    for (float v : t.flat<float>()) {
      if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
    }
  }

  auto labels = strata::data::ReadIdxLabels(path, 10);
  if (!labels.ok()) {
    if (!names_file(labels.status())) __builtin_trap();
  } else {
    const strata::Tensor& t = *labels;
    if (t.dtype() != strata::DType::kInt32 || t.shape().rank() != 1) __builtin_trap();
    for (int32_t v : t.flat<int32_t>()) {
      if (v < 0 || v >= 10) __builtin_trap();
    }
  }
  return 0;
}
