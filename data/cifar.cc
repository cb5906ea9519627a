#include "data/cifar.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"

namespace strata::data {
namespace {

constexpr int kNumClasses = 10;
constexpr int64_t kPixels = kCifarRecordBytes - 1;
// The real files are 30,730,000 bytes; the cap keeps a wrong path (a disk
// image) from being read whole.
constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

absl::Status ErrnoStatus(const std::string& path, int err) {
  if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  return absl::Status(absl::ErrnoToStatusCode(err), absl::StrCat(path, ": ", std::strerror(err)));
}

// Validates and reads a whole file of records.
absl::StatusOr<std::vector<unsigned char>> ReadRecords(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(path, errno);
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  const int64_t size = st.st_size;
  if (size > kMaxFileBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", size, " bytes, more than any CIFAR-10 batch file (limit ", kMaxFileBytes, ")"));
  }
  if (size == 0 || size % kCifarRecordBytes != 0) {
    return absl::DataLossError(absl::StrCat(path, ": ", size, " bytes is not a whole number of ", kCifarRecordBytes,
                                            "-byte CIFAR-10 records (", size / kCifarRecordBytes,
                                            " records and ", size % kCifarRecordBytes,
                                            " bytes): truncated or not CIFAR-10 binary"));
  }
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (f == nullptr) return ErrnoStatus(path, errno);
  std::vector<unsigned char> bytes(static_cast<size_t>(size));
  const size_t got = std::fread(bytes.data(), 1, bytes.size(), f.get());
  if (got != bytes.size()) {
    if (std::ferror(f.get())) return ErrnoStatus(path, errno != 0 ? errno : EIO);
    return absl::DataLossError(absl::StrCat(path, ": read ", got, " of ", size, " bytes (file shrank while read)"));
  }
  for (int64_t r = 0; r < size / kCifarRecordBytes; ++r) {
    const int label = bytes[r * kCifarRecordBytes];
    if (label >= kNumClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": record ", r, " has label ", label, ", not below ", kNumClasses));
    }
  }
  return bytes;
}

// Appends the records to images/labels at example offset `first`.
void Decode(const std::vector<unsigned char>& bytes, int64_t first, Tensor* images, Tensor* labels) {
  const int64_t n = static_cast<int64_t>(bytes.size()) / kCifarRecordBytes;
  float* dst = images->data<float>() + first * kPixels;
  int32_t* lab = labels->data<int32_t>() + first;
  for (int64_t r = 0; r < n; ++r) {
    const unsigned char* rec = bytes.data() + r * kCifarRecordBytes;
    lab[r] = rec[0];
    for (int64_t p = 0; p < kPixels; ++p) dst[r * kPixels + p] = static_cast<float>(rec[1 + p]) * (1.0f / 255.0f);
  }
}

absl::StatusOr<Dataset> ReadFiles(const std::vector<std::string>& paths) {
  std::vector<std::vector<unsigned char>> files;
  int64_t total = 0;
  for (const std::string& path : paths) {
    STRATA_ASSIGN_OR_RETURN(std::vector<unsigned char> bytes, ReadRecords(path));
    total += static_cast<int64_t>(bytes.size()) / kCifarRecordBytes;
    files.push_back(std::move(bytes));
  }
  Dataset d;
  d.images = Tensor(DType::kFloat32, Shape{total, kCifarChannels, kCifarSide, kCifarSide});
  d.labels = Tensor(DType::kInt32, Shape{total});
  int64_t first = 0;
  for (auto& bytes : files) {
    Decode(bytes, first, &d.images, &d.labels);
    first += static_cast<int64_t>(bytes.size()) / kCifarRecordBytes;
    std::vector<unsigned char>().swap(bytes);
  }
  return d;
}

Tensor CopyRows(const Tensor& t, int64_t begin, int64_t end) {
  std::vector<int64_t> dims = t.shape().dims();
  const int64_t per_row = dims[0] > 0 ? t.num_elements() / dims[0] : 0;
  dims[0] = end - begin;
  Tensor out(t.dtype(), Shape(std::move(dims)));
  const size_t row_bytes = static_cast<size_t>(per_row) * SizeOf(t.dtype());
  if (end > begin) {
    std::memcpy(out.raw_data(), static_cast<const uint8_t*>(t.raw_data()) + begin * row_bytes,
                static_cast<size_t>(end - begin) * row_bytes);
  }
  return out;
}

}  // namespace

absl::StatusOr<Dataset> ReadCifar10File(const std::string& path) { return ReadFiles({path}); }

absl::StatusOr<Dataset> LoadCifar10(const std::string& dir, absl::string_view split) {
  std::vector<std::string> names;
  if (split == "train") {
    for (int i = 1; i <= 5; ++i) names.push_back(absl::StrCat("data_batch_", i, ".bin"));
  } else if (split == "test") {
    names.push_back("test_batch.bin");
  } else {
    return absl::InvalidArgumentError(absl::StrCat("CIFAR-10 split must be \"train\" or \"test\", not \"", split, "\""));
  }
  std::string base = dir;
  if (!IsFile(JoinPath(dir, names[0]))) {
    const std::string nested = JoinPath(dir, "cifar-10-batches-bin");
    if (IsFile(JoinPath(nested, names[0]))) base = nested;
  }
  std::vector<std::string> paths;
  for (const std::string& name : names) paths.push_back(JoinPath(base, name));
  return ReadFiles(paths);
}

std::string DefaultCifar10Dir() {
  const char* env = std::getenv("STRATA_CIFAR10_DIR");
  if (env != nullptr && env[0] != '\0') return env;
  return "data/cifar10";
}

absl::Status SplitValidation(const Dataset& dataset, int64_t n, Dataset* train, Dataset* validation) {
  const int64_t size = dataset.size();
  if (n < 0 || n > size) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot hold out ", n, " validation examples from a dataset of ", size));
  }
  if (train == validation) return absl::InvalidArgumentError("train and validation must be different datasets");
  if (!dataset.images.valid() || dataset.images.shape().rank() < 1 || dataset.images.shape()[0] != size) {
    return absl::InvalidArgumentError("dataset images and labels disagree on the number of examples");
  }
  // Build both before assigning, in case either output aliases `dataset`.
  Dataset t{CopyRows(dataset.images, 0, size - n), CopyRows(dataset.labels, 0, size - n)};
  Dataset v{CopyRows(dataset.images, size - n, size), CopyRows(dataset.labels, size - n, size)};
  *train = std::move(t);
  *validation = std::move(v);
  return absl::OkStatus();
}

}  // namespace strata::data
