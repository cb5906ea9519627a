// libFuzzer harness for the CIFAR-10 binary reader: any bytes must give a
// dataset or a Status naming the file; what loads has one 3x32x32 image in
// [0,1] and one label below 10 per 3,073-byte record. See fuzz/README.md.
#include <cstdint>
#include <string>

#include "data/cifar.h"
#include "fuzz/memfile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static strata::fuzz::MemFile file("cifar");
  const std::string& path = file.Set(data, size);
  auto loaded = strata::data::ReadCifar10File(path);
  if (!loaded.ok()) {
    if (std::string(loaded.status().message()).find(path) == std::string::npos) __builtin_trap();
    return 0;
  }
  const int64_t n = static_cast<int64_t>(size) / strata::data::kCifarRecordBytes;
  if (static_cast<int64_t>(size) != n * strata::data::kCifarRecordBytes) __builtin_trap();
  if (loaded->images.shape() != strata::Shape({n, 3, 32, 32}) || loaded->labels.shape() != strata::Shape({n})) {
    __builtin_trap();
  }
  for (float v : loaded->images.flat<float>()) {
    if (!(v >= 0.0f && v <= 1.0f)) __builtin_trap();
  }
  for (int32_t label : loaded->labels.flat<int32_t>()) {
    if (label < 0 || label >= 10) __builtin_trap();
  }
  return 0;
}
