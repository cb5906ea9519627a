// MNIST loading (the bundled split, plain and gzip IDX, and every way a file
// can be wrong) and the batcher's coverage, determinism and remainder.
#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "data/batcher.h"
#include "data/mnist.h"

namespace strata::data {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

// A fresh directory per call, so tests cannot see each other's files.
std::string MakeTempDir(const std::string& name) {
  static int counter = 0;
  std::string dir = absl::StrCat(testing::TempDir(), "/data_test_", name, "_", counter++);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

void WriteFile(const std::string& path, const std::string& bytes, bool gzip) {
  if (gzip) {
    gzFile f = gzopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(gzwrite(f, bytes.data(), bytes.size()), static_cast<int>(bytes.size()));
    gzclose(f);
  } else {
    FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr) << path;
    ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
    std::fclose(f);
  }
}

std::string ReadRaw(const std::string& path) {
  std::string bytes;
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return bytes;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  std::fclose(f);
  return bytes;
}

void Put32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

// Image k's pixels are all k * 10 (so each image is recognisable); label k % 10.
std::string ImagesIdx(uint32_t count, uint32_t rows = 28, uint32_t cols = 28, uint32_t magic = 0x803) {
  std::string s;
  Put32(s, magic);
  Put32(s, count);
  Put32(s, rows);
  Put32(s, cols);
  for (uint32_t k = 0; k < count; ++k) s.append(rows * cols, static_cast<char>(k * 10));
  return s;
}

std::string LabelsIdx(uint32_t count, uint32_t magic = 0x801) {
  std::string s;
  Put32(s, magic);
  Put32(s, count);
  for (uint32_t k = 0; k < count; ++k) s.push_back(static_cast<char>(k % 10));
  return s;
}

// A "test" split in dir; returns the images path.
std::string WriteSplit(const std::string& dir, const std::string& images, const std::string& labels, bool gzip) {
  const std::string ext = gzip ? ".gz" : "";
  WriteFile(dir + "/test-images-idx3-ubyte" + ext, images, gzip);
  WriteFile(dir + "/test-labels-idx1-ubyte" + ext, labels, gzip);
  return dir + "/test-images-idx3-ubyte" + ext;
}

TEST(Mnist, BundledSplitsLoadWithPlausibleContent) {
  const std::string dir = DefaultMnistDir();
  for (auto [split, expected] : {std::pair<const char*, int64_t>{"train", 8000}, {"test", 2000}}) {
    SCOPED_TRACE(split);
    auto ds = LoadMnist(dir, split);
    ASSERT_TRUE(ds.ok()) << ds.status();
    EXPECT_EQ(ds->size(), expected);
    EXPECT_EQ(ds->images.spec().ToString(), absl::StrCat("float32[", expected, ",1,28,28]"));
    EXPECT_EQ(ds->labels.spec().ToString(), absl::StrCat("int32[", expected, "]"));
    double sum = 0;
    float lo = 1, hi = 0;
    for (float x : ds->images.flat<float>()) {
      sum += x;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    EXPECT_GE(lo, 0.0f);
    EXPECT_LE(hi, 1.0f);
    EXPECT_EQ(lo, 0.0f);
    EXPECT_EQ(hi, 1.0f);
    const double mean = sum / ds->images.num_elements();
    EXPECT_NEAR(mean, 0.13, 0.02);
    std::vector<int64_t> histogram(10, 0);
    for (int32_t y : ds->labels.flat<int32_t>()) {
      ASSERT_GE(y, 0);
      ASSERT_LT(y, 10);
      ++histogram[y];
    }
    // Every digit, none absurdly rare: MNIST's classes hold 9% to 11% each.
    for (int c = 0; c < 10; ++c) EXPECT_GT(histogram[c], expected / 20) << "class " << c;
  }
}

TEST(Mnist, NormalizeMatchesThePyTorchRecipe) {
  auto ds = LoadMnist(DefaultMnistDir(), "test");
  ASSERT_TRUE(ds.ok()) << ds.status();
  Tensor before = ds->images.Clone();
  Normalize(*ds, 0.1307f, 0.3081f);
  EXPECT_NEAR(ds->images.data<float>()[0], (before.data<float>()[0] - 0.1307f) / 0.3081f, 1e-6);
  EXPECT_NEAR(ds->images.data<float>()[0], -0.4242f, 1e-3);  // a black pixel
  double sum = 0;
  for (float x : ds->images.flat<float>()) sum += x;
  EXPECT_NEAR(sum / ds->images.num_elements(), 0.0, 0.1);
}

TEST(Mnist, PlainAndGzipFilesReadTheSame) {
  for (bool gzip : {false, true}) {
    SCOPED_TRACE(gzip ? "gzip" : "plain");
    const std::string dir = MakeTempDir("roundtrip");
    WriteSplit(dir, ImagesIdx(3), LabelsIdx(3), gzip);
    auto ds = LoadMnist(dir, "test");
    ASSERT_TRUE(ds.ok()) << ds.status();
    ASSERT_EQ(ds->size(), 3);
    EXPECT_EQ(ds->images.data<float>()[2 * 784 + 5], 20.0f / 255.0f);
    EXPECT_EQ(ds->labels.data<int32_t>()[2], 2);
  }
}

TEST(Mnist, MissingDirectoryAndBadSplit) {
  auto missing = LoadMnist("/nonexistent/strata/mnist", "train");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status(), "/nonexistent/strata/mnist/train-images-idx3-ubyte.gz")) << missing.status();
  EXPECT_EQ(LoadMnist(DefaultMnistDir(), "validation").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadIdxLabels("/nonexistent/labels").status().code(), absl::StatusCode::kNotFound);
}

TEST(Mnist, CorruptFilesAreRejectedNamingTheFile) {
  struct Case {
    std::string name, images, labels;
    absl::StatusCode code;
    std::string text;
  };
  std::string truncated_images = ImagesIdx(3);
  truncated_images.resize(truncated_images.size() - 100);
  std::string trailing_images = ImagesIdx(3) + "xyz";
  std::string huge_count = ImagesIdx(1);
  huge_count[4] = huge_count[5] = huge_count[6] = huge_count[7] = '\xff';  // 4 billion images
  std::string bad_label = LabelsIdx(3);
  bad_label.back() = 10;
  const std::vector<Case> cases = {
      {"bad_magic", ImagesIdx(3, 28, 28, 0x801), LabelsIdx(3), absl::StatusCode::kInvalidArgument, "bad magic"},
      {"labels_magic", ImagesIdx(3), LabelsIdx(3, 0x803), absl::StatusCode::kInvalidArgument, "bad magic"},
      {"short_header", std::string("\0\0\x08", 3), LabelsIdx(3), absl::StatusCode::kDataLoss, "shorter than"},
      {"truncated", truncated_images, LabelsIdx(3), absl::StatusCode::kDataLoss, "truncated"},
      {"trailing", trailing_images, LabelsIdx(3), absl::StatusCode::kDataLoss, "trailing"},
      {"huge_count", huge_count, LabelsIdx(1), absl::StatusCode::kInvalidArgument, "4294967295 images"},
      {"zero_rows", ImagesIdx(3, 0, 28), LabelsIdx(3), absl::StatusCode::kInvalidArgument, "0x28"},
      {"not_28x28", ImagesIdx(3, 32, 32), LabelsIdx(3), absl::StatusCode::kInvalidArgument, "32x32"},
      {"bad_label", ImagesIdx(3), bad_label, absl::StatusCode::kInvalidArgument, "label 10 at index 2"},
      {"count_mismatch", ImagesIdx(3), LabelsIdx(4), absl::StatusCode::kInvalidArgument, "4 labels"},
  };
  for (const Case& c : cases) {
    for (bool gzip : {false, true}) {
      SCOPED_TRACE(c.name + (gzip ? " (gzip)" : " (plain)"));
      const std::string dir = MakeTempDir(c.name);
      WriteSplit(dir, c.images, c.labels, gzip);
      auto ds = LoadMnist(dir, "test");
      ASSERT_FALSE(ds.ok());
      EXPECT_EQ(ds.status().code(), c.code) << ds.status();
      EXPECT_TRUE(Contains(ds.status(), c.text)) << ds.status();
      EXPECT_TRUE(Contains(ds.status(), dir + "/test-")) << ds.status();
    }
  }
}

TEST(Mnist, DamagedGzipStreamIsDataLoss) {
  const std::string dir = MakeTempDir("gzip");
  const std::string images = WriteSplit(dir, ImagesIdx(50), LabelsIdx(50), /*gzip=*/true);
  std::string gz = ReadRaw(images);
  ASSERT_GT(gz.size(), 40u);
  WriteFile(images, gz.substr(0, gz.size() / 2), /*gzip=*/false);
  auto cut = LoadMnist(dir, "test");
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kDataLoss) << cut.status();
  EXPECT_TRUE(Contains(cut.status(), images)) << cut.status();

  gz[gz.size() - 6] ^= 0x55;  // the CRC-32 in the trailer
  WriteFile(images, gz, /*gzip=*/false);
  auto crc = LoadMnist(dir, "test");
  EXPECT_EQ(crc.status().code(), absl::StatusCode::kDataLoss) << crc.status();
  EXPECT_TRUE(Contains(crc.status(), images)) << crc.status();
}

TEST(Mnist, EnvironmentVariableChoosesTheDirectory) {
  ::setenv("STRATA_MNIST_DIR", "/some/where", 1);
  EXPECT_EQ(DefaultMnistDir(), "/some/where");
  ::unsetenv("STRATA_MNIST_DIR");
  EXPECT_NE(DefaultMnistDir(), "/some/where");
}

// n examples of shape [1,2,3] whose every element is the example's index.
Dataset Indexed(int64_t n) {
  Dataset ds;
  ds.images = Tensor(DType::kFloat32, {n, 1, 2, 3});
  ds.labels = Tensor(DType::kInt32, {n});
  for (int64_t i = 0; i < n; ++i) {
    for (int k = 0; k < 6; ++k) ds.images.data<float>()[i * 6 + k] = static_cast<float>(i);
    ds.labels.data<int32_t>()[i] = static_cast<int32_t>(i);
  }
  return ds;
}

// The examples of one epoch, in batch order, checking each image against its label.
std::vector<int64_t> Epoch(Batcher& b, int64_t epoch) {
  b.StartEpoch(epoch);
  std::vector<int64_t> seen;
  for (int64_t i = 0; i < b.num_batches(); ++i) {
    const int64_t n = b.BatchSize(i);
    Tensor images(DType::kFloat32, {n, 1, 2, 3}), labels(DType::kInt32, {n});
    b.Batch(i, &images, &labels);
    for (int64_t k = 0; k < n; ++k) {
      const int32_t y = labels.data<int32_t>()[k];
      for (int j = 0; j < 6; ++j) EXPECT_EQ(images.data<float>()[k * 6 + j], static_cast<float>(y));
      seen.push_back(y);
    }
  }
  return seen;
}

TEST(Batcher, EveryExampleOncePerEpochWithTheRemainder) {
  Batcher b(Indexed(10), 4, /*shuffle=*/true, /*seed=*/7, /*drop_remainder=*/false);
  ASSERT_EQ(b.num_batches(), 3);
  EXPECT_EQ(b.BatchSize(0), 4);
  EXPECT_EQ(b.BatchSize(2), 2);
  for (int64_t epoch = 0; epoch < 5; ++epoch) {
    std::vector<int64_t> seen = Epoch(b, epoch);
    ASSERT_EQ(seen.size(), 10u);
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 10u);
  }
}

TEST(Batcher, DropRemainderKeepsFullBatchesOnly) {
  Batcher b(Indexed(10), 4, /*shuffle=*/true, 7, /*drop_remainder=*/true);
  ASSERT_EQ(b.num_batches(), 2);
  EXPECT_EQ(b.BatchSize(1), 4);
  std::vector<int64_t> seen = Epoch(b, 3);
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), 8u);
  EXPECT_EQ(Batcher(Indexed(3), 4, true, 7, true).num_batches(), 0);
  EXPECT_EQ(Batcher(Indexed(3), 0, true, 7, false).num_batches(), 0);
}

TEST(Batcher, DeterministicPerSeedAndEpoch) {
  Batcher a(Indexed(100), 16, true, 1234, false), b(Indexed(100), 16, true, 1234, false);
  Batcher other_seed(Indexed(100), 16, true, 1235, false);
  EXPECT_EQ(Epoch(a, 1), Epoch(b, 1));
  EXPECT_NE(Epoch(a, 1), Epoch(a, 2));
  EXPECT_NE(Epoch(a, 1), Epoch(other_seed, 1));
  // Returning to an epoch replays it, whatever came in between.
  std::vector<int64_t> first = Epoch(a, 1);
  Epoch(a, 5);
  EXPECT_EQ(Epoch(a, 1), first);
  // Pinned so that a change of algorithm (or of standard library) shows; an
  // independent Python rendering of SplitMix64 + MT19937-64 + this
  // Fisher-Yates gives the same permutation.
  Batcher pinned(Indexed(10), 10, true, 42, false);
  pinned.StartEpoch(1);
  EXPECT_EQ(pinned.order(), std::vector<int64_t>({5, 4, 1, 3, 0, 2, 7, 8, 6, 9}));
}

TEST(Batcher, UnshuffledKeepsDatasetOrder) {
  Batcher b(Indexed(5), 2, /*shuffle=*/false, 99, false);
  EXPECT_EQ(Epoch(b, 3), std::vector<int64_t>({0, 1, 2, 3, 4}));
}

TEST(Batcher, CoversTheBundledTrainingSet) {
  auto ds = LoadMnist(DefaultMnistDir(), "train");
  ASSERT_TRUE(ds.ok()) << ds.status();
  Batcher b(*ds, 64, /*shuffle=*/true, 1, /*drop_remainder=*/false);
  b.StartEpoch(1);
  ASSERT_EQ(b.num_batches(), 125);
  std::vector<int64_t> histogram(10, 0), expected(10, 0);
  for (int32_t y : ds->labels.flat<int32_t>()) ++expected[y];
  Tensor images(DType::kFloat32, {64, 1, 28, 28}), labels(DType::kInt32, {64});
  for (int64_t i = 0; i < b.num_batches(); ++i) {
    b.Batch(i, &images, &labels);
    for (int32_t y : labels.flat<int32_t>()) ++histogram[y];
  }
  EXPECT_EQ(histogram, expected);
  // The first example of the first batch is the one the order names.
  const int64_t e = b.order()[0];
  b.Batch(0, &images, &labels);
  EXPECT_EQ(labels.data<int32_t>()[0], ds->labels.data<int32_t>()[e]);
  EXPECT_EQ(0, std::memcmp(images.data<float>(), ds->images.data<float>() + e * 784, 784 * sizeof(float)));
}

}  // namespace
}  // namespace strata::data
