#include "data/mnist.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "graph/status_macros.h"

namespace strata::data {
namespace {

// The full MNIST training images decompress to 47 MB; the cap only exists so
// that a gzip bomb or a wrong path (a disk image, /dev/zero) cannot exhaust
// memory before the header is checked against the length.
constexpr uint64_t kMaxDecompressedBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxItems = 100'000'000;
constexpr uint64_t kMaxSide = 1 << 16;
constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr int64_t kMnistSide = 28;

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string JoinPath(absl::string_view dir, absl::string_view name) {
  if (dir.empty()) return std::string(name);
  if (dir.back() == '/') return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

uint32_t BigEndian32(const std::string& bytes, size_t offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data()) + offset;
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// How many decompressed bytes are worth reading, given those read so far:
// once the header is in, its length (anything beyond is an error to report,
// not data to decompress); before that, the cap.
using LengthFromHeader = uint64_t (*)(const std::string& bytes);

// The decompressed content, up to the length the header implies (plus one
// byte, to tell that more follows: *more is then set). zlib passes a file
// that is not gzip through unchanged, so plain IDX files work too.
absl::StatusOr<std::string> ReadDecompressed(const std::string& path, LengthFromHeader wanted, bool* more) {
  *more = false;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    return absl::Status(absl::ErrnoToStatusCode(err), absl::StrCat(path, ": ", std::strerror(err)));
  }
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  errno = 0;
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    const int err = errno;
    return absl::Status(err != 0 ? absl::ErrnoToStatusCode(err) : absl::StatusCode::kResourceExhausted,
                        absl::StrCat(path, ": cannot open: ", err != 0 ? std::strerror(err) : "out of memory"));
  }
  // zlib's buffers and the chunks read are sized for the file, so that a
  // small file costs little (the buffer is 8 KiB at least, 256 KiB at most).
  gzbuffer(f, static_cast<unsigned>(std::clamp<off_t>(st.st_size, 8 << 10, 256 << 10)));
  constexpr uint64_t kChunk = 1 << 20;
  std::string bytes;
  absl::Status status;
  while (true) {
    const uint64_t limit = wanted(bytes);
    if (bytes.size() > limit) {
      *more = true;
      break;
    }
    if (bytes.size() >= kMaxDecompressedBytes) {
      status = absl::InvalidArgumentError(absl::StrCat(path, ": decompresses to more than ",
                                                       kMaxDecompressedBytes >> 20, " MiB; not an MNIST file"));
      break;
    }
    // First just enough for any header, then up to one byte past the length
    // it implies (to tell that more follows), at most a chunk at a time.
    const uint64_t want = bytes.empty() ? 4096 : limit - bytes.size() + 1;
    const unsigned chunk = static_cast<unsigned>(std::clamp<uint64_t>(want, 4096, kChunk));
    const size_t old_size = bytes.size();
    bytes.resize(old_size + chunk);
    const int n = gzread(f, &bytes[old_size], chunk);
    bytes.resize(old_size + (n > 0 ? n : 0));
    int code = Z_OK;
    const char* message = gzerror(f, &code);
    // Z_BUF_ERROR is zlib's report of a gzip stream cut off before its end.
    if (n < 0 || (code != Z_OK && code != Z_STREAM_END)) {
      status = absl::DataLossError(absl::StrCat(
          path, code == Z_BUF_ERROR ? ": truncated gzip stream" : ": corrupt gzip stream", " (zlib: ",
          message != nullptr ? message : "unknown error", ")"));
      break;
    }
    if (n == 0) break;
  }
  gzclose(f);
  if (!status.ok()) return status;
  return bytes;
}

// The file lengths the headers imply; a header that will be rejected asks
// for nothing more than itself.
uint64_t ImagesLength(const std::string& bytes) {
  if (bytes.size() < 16) return kMaxDecompressedBytes;
  const uint64_t count = BigEndian32(bytes, 4), rows = BigEndian32(bytes, 8), cols = BigEndian32(bytes, 12);
  if (BigEndian32(bytes, 0) != kImagesMagic || count == 0 || count > kMaxItems || rows == 0 || cols == 0 ||
      rows > kMaxSide || cols > kMaxSide) {
    return 16;
  }
  return 16 + count * rows * cols;  // below 2^60, as in ReadIdxImages
}

uint64_t LabelsLength(const std::string& bytes) {
  if (bytes.size() < 8) return kMaxDecompressedBytes;
  const uint64_t count = BigEndian32(bytes, 4);
  if (BigEndian32(bytes, 0) != kLabelsMagic || count == 0 || count > kMaxItems) return 8;
  return 8 + count;
}

// Checks the magic and that the file is at least its header long.
absl::Status CheckHeader(const std::string& path, const std::string& bytes, uint32_t magic,
                         size_t header_bytes, absl::string_view what) {
  if (bytes.size() < header_bytes) {
    return absl::DataLossError(absl::StrCat(path, ": ", bytes.size(), " bytes, shorter than the ", header_bytes,
                                            "-byte header of an IDX ", what, " file (truncated?)"));
  }
  const uint32_t found = BigEndian32(bytes, 0);
  if (found != magic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: bad magic number 0x%08x, expected 0x%08x for IDX %s (not an IDX file, or the wrong one?)", path,
        found, magic, std::string(what)));
  }
  return absl::OkStatus();
}

absl::Status CheckCount(const std::string& path, uint64_t count, absl::string_view what) {
  if (count == 0 || count > kMaxItems) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header claims ", count, " ", what, "; expected 1 to ", kMaxItems));
  }
  return absl::OkStatus();
}

// `more`: reading stopped after `actual` bytes with more to come.
absl::Status CheckLength(const std::string& path, uint64_t actual, bool more, uint64_t expected,
                         absl::string_view header) {
  if (actual == expected && !more) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat(path, ": ", more ? "at least " : "", actual,
                                          " bytes, but its header (", header, ") implies ", expected,
                                          actual < expected ? " (truncated)" : " (trailing bytes)"));
}

// Prefers the compressed name, as distributed; falls back to a decompressed copy.
absl::StatusOr<std::string> FindIdxFile(const std::string& dir, const std::string& base) {
  const std::string gz = JoinPath(dir, base + ".gz");
  if (FileExists(gz)) return gz;
  const std::string plain = JoinPath(dir, base);
  if (FileExists(plain)) return plain;
  return absl::NotFoundError(absl::StrCat("MNIST file not found: neither ", gz, " nor ", plain, " exists"));
}

bool HasTrainImages(const std::string& dir) {
  return FileExists(JoinPath(dir, "train-images-idx3-ubyte.gz")) ||
         FileExists(JoinPath(dir, "train-images-idx3-ubyte"));
}

std::string EnvOrEmpty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string ExecutablePath() {
  std::vector<char> buf(4096);
  const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  if (n <= 0) return "";
  return std::string(buf.data(), static_cast<size_t>(n));
}

}  // namespace

absl::StatusOr<Tensor> ReadIdxImages(const std::string& path) {
  bool more = false;
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadDecompressed(path, ImagesLength, &more));
  STRATA_RETURN_IF_ERROR(CheckHeader(path, bytes, kImagesMagic, 16, "images"));
  const uint64_t count = BigEndian32(bytes, 4), rows = BigEndian32(bytes, 8), cols = BigEndian32(bytes, 12);
  STRATA_RETURN_IF_ERROR(CheckCount(path, count, "images"));
  if (rows == 0 || cols == 0 || rows > kMaxSide || cols > kMaxSide) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": header claims images of ", rows, "x", cols, "; each side must be 1 to ", kMaxSide));
  }
  // No overflow: count <= 1e8 and rows * cols <= 2^32 keep this below 2^59.
  const uint64_t pixels = count * rows * cols;
  STRATA_RETURN_IF_ERROR(
      CheckLength(path, bytes.size(), more, 16 + pixels, absl::StrCat(count, " images of ", rows, "x", cols)));

  float scale[256];
  for (int v = 0; v < 256; ++v) scale[v] = static_cast<float>(v) / 255.0f;
  Tensor images(DType::kFloat32, Shape{static_cast<int64_t>(count), 1, static_cast<int64_t>(rows),
                                       static_cast<int64_t>(cols)});
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data()) + 16;
  float* dst = images.data<float>();
  for (uint64_t i = 0; i < pixels; ++i) dst[i] = scale[src[i]];
  return images;
}

absl::StatusOr<Tensor> ReadIdxLabels(const std::string& path, int num_classes) {
  bool more = false;
  STRATA_ASSIGN_OR_RETURN(std::string bytes, ReadDecompressed(path, LabelsLength, &more));
  STRATA_RETURN_IF_ERROR(CheckHeader(path, bytes, kLabelsMagic, 8, "labels"));
  const uint64_t count = BigEndian32(bytes, 4);
  STRATA_RETURN_IF_ERROR(CheckCount(path, count, "labels"));
  STRATA_RETURN_IF_ERROR(CheckLength(path, bytes.size(), more, 8 + count, absl::StrCat(count, " labels")));

  Tensor labels(DType::kInt32, Shape{static_cast<int64_t>(count)});
  const auto* src = reinterpret_cast<const unsigned char*>(bytes.data()) + 8;
  int32_t* dst = labels.data<int32_t>();
  for (uint64_t i = 0; i < count; ++i) {
    if (src[i] >= num_classes) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": label ", static_cast<int>(src[i]), " at index ", i,
                                                     " is not below ", num_classes));
    }
    dst[i] = src[i];
  }
  return labels;
}

absl::StatusOr<Dataset> LoadMnist(const std::string& dir, absl::string_view split) {
  if (split != "train" && split != "test") {
    return absl::InvalidArgumentError(absl::StrCat("MNIST split must be \"train\" or \"test\", not \"", split, "\""));
  }
  STRATA_ASSIGN_OR_RETURN(std::string images_path, FindIdxFile(dir, absl::StrCat(split, "-images-idx3-ubyte")));
  STRATA_ASSIGN_OR_RETURN(std::string labels_path, FindIdxFile(dir, absl::StrCat(split, "-labels-idx1-ubyte")));
  Dataset ds;
  STRATA_ASSIGN_OR_RETURN(ds.images, ReadIdxImages(images_path));
  STRATA_ASSIGN_OR_RETURN(ds.labels, ReadIdxLabels(labels_path, 10));
  const Shape& s = ds.images.shape();
  if (s[2] != kMnistSide || s[3] != kMnistSide) {
    return absl::InvalidArgumentError(absl::StrCat(images_path, ": images are ", s[2], "x", s[3],
                                                   ", but MNIST's are ", kMnistSide, "x", kMnistSide));
  }
  if (s[0] != ds.labels.shape()[0]) {
    return absl::InvalidArgumentError(absl::StrCat(images_path, " holds ", s[0], " images but ", labels_path,
                                                   " holds ", ds.labels.shape()[0], " labels"));
  }
  return ds;
}

void Normalize(Dataset& dataset, float mean, float std) {
  if (!dataset.images.valid()) return;
  const float inv = 1.0f / std;
  for (float& x : dataset.images.flat<float>()) x = (x - mean) * inv;
}

std::string DefaultMnistDir() {
  if (std::string dir = EnvOrEmpty("STRATA_MNIST_DIR"); !dir.empty()) return dir;
  const std::string suffix = "strata/data/mnist";
  std::vector<std::string> candidates;
  for (const char* var : {"RUNFILES_DIR", "TEST_SRCDIR"}) {
    if (std::string root = EnvOrEmpty(var); !root.empty()) candidates.push_back(JoinPath(root, suffix));
  }
  if (std::string exe = ExecutablePath(); !exe.empty()) {
    candidates.push_back(JoinPath(exe + ".runfiles", suffix));
  }
  if (std::string ws = EnvOrEmpty("BUILD_WORKSPACE_DIRECTORY"); !ws.empty()) {
    candidates.push_back(JoinPath(ws, "data/mnist"));
  }
  candidates.push_back("data/mnist");
  for (const std::string& dir : candidates) {
    if (HasTrainImages(dir)) return dir;
  }
  return "data/mnist";
}

}  // namespace strata::data
