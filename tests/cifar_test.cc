// data/cifar: the CIFAR-10 binary reader on small fake files (layout,
// scaling, split assembly, every way a file can be wrong) and the
// validation hold-out.
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "data/augment.h"
#include "data/cifar.h"

namespace strata::data {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

std::string MakeTempDir(const std::string& name) {
  static int counter = 0;
  std::string dir = absl::StrCat(testing::TempDir(), "/cifar_test_", name, "_", counter++);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(std::fwrite(bytes.data(), 1, bytes.size(), f), bytes.size());
  std::fclose(f);
}

// Record `id`: label id % 10, pixel p = (id * 31 + p) % 256.
std::string Record(int id) {
  std::string r(3073, '\0');
  r[0] = static_cast<char>(id % 10);
  for (int p = 0; p < 3072; ++p) r[1 + p] = static_cast<char>((id * 31 + p) % 256);
  return r;
}

std::string Records(int first, int count) {
  std::string s;
  for (int i = 0; i < count; ++i) s += Record(first + i);
  return s;
}

// data_batch_1..5 with 2, 1, 3, 1, 2 records (ids 0..8), test_batch with 4
// (ids 100..103).
void WriteFakeCifar(const std::string& dir) {
  const int counts[5] = {2, 1, 3, 1, 2};
  int id = 0;
  for (int b = 0; b < 5; ++b) {
    WriteFile(absl::StrCat(dir, "/data_batch_", b + 1, ".bin"), Records(id, counts[b]));
    id += counts[b];
  }
  WriteFile(dir + "/test_batch.bin", Records(100, 4));
}

void ExpectRecord(const Dataset& d, int64_t i, int id) {
  ASSERT_LT(i, d.size());
  EXPECT_EQ(d.labels.data<int32_t>()[i], id % 10) << "example " << i;
  const float* img = d.images.data<float>() + i * 3072;
  // Red (0,0), green (5,7), blue (31,31): plane-major, row-major.
  for (int p : {0, 1024 + 5 * 32 + 7, 2 * 1024 + 31 * 32 + 31}) {
    EXPECT_FLOAT_EQ(img[p], ((id * 31 + p) % 256) / 255.0f) << "example " << i << " pixel " << p;
  }
}

TEST(Cifar, ReadsOneFile) {
  const std::string dir = MakeTempDir("one");
  WriteFile(dir + "/b.bin", Records(7, 3));
  auto d = ReadCifar10File(dir + "/b.bin");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->images.shape(), (Shape{3, 3, 32, 32}));
  EXPECT_EQ(d->images.dtype(), DType::kFloat32);
  EXPECT_EQ(d->labels.shape(), (Shape{3}));
  EXPECT_EQ(d->labels.dtype(), DType::kInt32);
  for (int i = 0; i < 3; ++i) ExpectRecord(*d, i, 7 + i);
  float lo = 1, hi = 0;
  for (float v : d->images.flat<float>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
}

TEST(Cifar, LoadsSplitsInOrder) {
  const std::string dir = MakeTempDir("splits");
  WriteFakeCifar(dir);
  auto train = LoadCifar10(dir, "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 9);
  EXPECT_EQ(train->images.shape(), (Shape{9, 3, 32, 32}));
  for (int i = 0; i < 9; ++i) ExpectRecord(*train, i, i);
  auto test = LoadCifar10(dir + "/", "test");
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(test->size(), 4);
  for (int i = 0; i < 4; ++i) ExpectRecord(*test, i, 100 + i);

  const absl::Status bad = LoadCifar10(dir, "validation").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(bad, "validation")) << bad;
}

TEST(Cifar, FindsTheArchiveDirectory) {
  const std::string dir = MakeTempDir("nested");
  const std::string nested = dir + "/cifar-10-batches-bin";
  ::mkdir(nested.c_str(), 0755);
  WriteFakeCifar(nested);
  auto test = LoadCifar10(dir, "test");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->size(), 4);
}

TEST(Cifar, MissingFileIsNotFoundNamingIt) {
  const std::string dir = MakeTempDir("missing");
  WriteFakeCifar(dir);
  std::remove((dir + "/data_batch_3.bin").c_str());
  const absl::Status s = LoadCifar10(dir, "train").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_TRUE(Contains(s, dir + "/data_batch_3.bin")) << s;

  const absl::Status none = LoadCifar10(dir + "/nowhere", "test").status();
  EXPECT_EQ(none.code(), absl::StatusCode::kNotFound) << none;
  EXPECT_TRUE(Contains(none, "nowhere/test_batch.bin")) << none;
}

TEST(Cifar, TruncationIsDataLoss) {
  const std::string dir = MakeTempDir("truncated");
  WriteFakeCifar(dir);
  std::string cut = Records(0, 2);
  cut.resize(cut.size() - 5);
  WriteFile(dir + "/data_batch_5.bin", cut);
  const absl::Status s = LoadCifar10(dir, "train").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(Contains(s, "data_batch_5.bin")) << s;
  EXPECT_TRUE(Contains(s, "3073")) << s;

  WriteFile(dir + "/test_batch.bin", "");
  const absl::Status empty = LoadCifar10(dir, "test").status();
  EXPECT_EQ(empty.code(), absl::StatusCode::kDataLoss) << empty;

  WriteFile(dir + "/extra.bin", Records(0, 1) + "x");
  EXPECT_EQ(ReadCifar10File(dir + "/extra.bin").status().code(), absl::StatusCode::kDataLoss);
}

TEST(Cifar, BadLabelIsInvalidArgumentNamingTheRecord) {
  const std::string dir = MakeTempDir("label");
  std::string bytes = Records(0, 3);
  bytes[2 * 3073] = 10;
  WriteFile(dir + "/b.bin", bytes);
  const absl::Status s = ReadCifar10File(dir + "/b.bin").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(Contains(s, "record 2")) << s;
  EXPECT_TRUE(Contains(s, "label 10")) << s;
  bytes[2 * 3073] = static_cast<char>(255);
  WriteFile(dir + "/b.bin", bytes);
  EXPECT_EQ(ReadCifar10File(dir + "/b.bin").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Cifar, DirectoryIsNotAFile) {
  const std::string dir = MakeTempDir("dir");
  EXPECT_EQ(ReadCifar10File(dir).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Cifar, SplitValidationHoldsOutTheLastExamples) {
  const std::string dir = MakeTempDir("split");
  WriteFakeCifar(dir);
  auto all = LoadCifar10(dir, "train");
  ASSERT_TRUE(all.ok()) << all.status();
  Dataset train, validation;
  ASSERT_TRUE(SplitValidation(*all, 3, &train, &validation).ok());
  ASSERT_EQ(train.size(), 6);
  ASSERT_EQ(validation.size(), 3);
  EXPECT_EQ(validation.images.shape(), (Shape{3, 3, 32, 32}));
  for (int i = 0; i < 6; ++i) ExpectRecord(train, i, i);
  for (int i = 0; i < 3; ++i) ExpectRecord(validation, i, 6 + i);
  // Copies: writing one leaves the source alone.
  EXPECT_FALSE(train.images.SharesStorageWith(all->images));
  train.images.data<float>()[0] = 42;
  EXPECT_NE(all->images.data<float>()[0], 42);

  // Deterministic, and the edges.
  Dataset t2, v2;
  ASSERT_TRUE(SplitValidation(*all, 3, &t2, &v2).ok());
  EXPECT_EQ(std::memcmp(v2.images.raw_data(), validation.images.raw_data(), validation.images.num_bytes()), 0);
  ASSERT_TRUE(SplitValidation(*all, 0, &t2, &v2).ok());
  EXPECT_EQ(t2.size(), 9);
  EXPECT_EQ(v2.size(), 0);
  ASSERT_TRUE(SplitValidation(*all, 9, &t2, &v2).ok());
  EXPECT_EQ(t2.size(), 0);
  EXPECT_EQ(v2.size(), 9);
  EXPECT_EQ(SplitValidation(*all, 10, &t2, &v2).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SplitValidation(*all, -1, &t2, &v2).code(), absl::StatusCode::kInvalidArgument);
  // The output may be the input.
  Dataset same = *all;
  ASSERT_TRUE(SplitValidation(same, 4, &same, &v2).ok());
  EXPECT_EQ(same.size(), 5);
  ExpectRecord(v2, 0, 5);
}

TEST(Cifar, AugmentsWithTheCifarRecipe) {
  const std::string dir = MakeTempDir("augment");
  WriteFakeCifar(dir);
  auto test = LoadCifar10(dir, "test");
  ASSERT_TRUE(test.ok()) << test.status();
  const Augmenter aug = Augmenter::Cifar(1).Normalize(
      {kCifar10Mean[0], kCifar10Mean[1], kCifar10Mean[2]}, {kCifar10Std[0], kCifar10Std[1], kCifar10Std[2]});
  auto shape = aug.OutputShape(test->images.shape());
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(*shape, (Shape{4, 3, 32, 32}));
  const Tensor eval = aug.Eval(test->images);
  EXPECT_FLOAT_EQ(eval.data<float>()[0], (test->images.data<float>()[0] - kCifar10Mean[0]) / kCifar10Std[0]);
}

}  // namespace
}  // namespace strata::data
