// CIFAR-10 in its binary format: data_batch_1.bin .. data_batch_5.bin (the
// training split) and test_batch.bin, each a sequence of 3073-byte records:
// one label byte (0-9), then 3072 pixel bytes, the 32x32 red plane, then
// green, then blue, each row-major (which is already [3,32,32] CHW).
#ifndef STRATA_DATA_CIFAR_H_
#define STRATA_DATA_CIFAR_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "data/mnist.h"

namespace strata::data {

inline constexpr int64_t kCifarSide = 32;
inline constexpr int64_t kCifarChannels = 3;
inline constexpr int64_t kCifarRecordBytes = 1 + kCifarChannels * kCifarSide * kCifarSide;  // 3073

// The usual per-channel statistics of the CIFAR-10 training images (RGB),
// for Augmenter::Normalize.
inline constexpr float kCifar10Mean[3] = {0.4914f, 0.4822f, 0.4465f};
inline constexpr float kCifar10Std[3] = {0.2470f, 0.2435f, 0.2616f};

// One binary batch file: images float32 [N,3,32,32] scaled to [0,1], labels
// int32 [N]. A missing file is NotFound naming the path; an empty file or a
// size that is not a whole number of records is DataLoss (truncated); a
// label of 10 or more is InvalidArgument naming the record.
absl::StatusOr<Dataset> ReadCifar10File(const std::string& path);

// split "train": data_batch_1..5.bin concatenated in that order (50,000
// examples for the real data); "test": test_batch.bin. Files are looked up
// in `dir`, or in `dir`/cifar-10-batches-bin (how the archive unpacks) when
// `dir` has no data_batch_1.bin / test_batch.bin.
absl::StatusOr<Dataset> LoadCifar10(const std::string& dir, absl::string_view split);

// $STRATA_CIFAR10_DIR when set, else "data/cifar10".
std::string DefaultCifar10Dir();

// Deterministic hold-out: *validation gets the last n examples of
// `dataset`, *train the rest, both as copies with their own storage (so
// normalising one leaves the other and the source alone). InvalidArgument
// unless 0 <= n <= dataset.size(). train and validation may not alias.
absl::Status SplitValidation(const Dataset& dataset, int64_t n, Dataset* train, Dataset* validation);

}  // namespace strata::data

#endif  // STRATA_DATA_CIFAR_H_
