// CRC-32C (Castagnoli), the checksum of checkpoints and TFRecord framing.
// A stored CRC is masked so that data embedding its own CRC (a checkpoint
// inside a checkpoint) does not check trivially.
#ifndef STRATA_SERIALIZATION_CRC32C_H_
#define STRATA_SERIALIZATION_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace strata::serialization {

// The CRC-32C of n bytes: Crc32c("123456789", 9) == 0xE3069283.
uint32_t Crc32c(const void* data, size_t n);

namespace crc32c {

// The CRC of a + b given crc = CRC of a: Extend(Crc32c(a), b) == Crc32c(ab).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// The portable table-driven Extend; Extend uses the SSE4.2 instruction when
// the build targets it. Exposed so tests can check one against the other.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

constexpr uint32_t kMaskDelta = 0xa282ead8u;

inline uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

inline uint32_t Unmask(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace crc32c
}  // namespace strata::serialization

#endif  // STRATA_SERIALIZATION_CRC32C_H_
