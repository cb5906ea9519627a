// data/augment (crop, flip, normalise, their determinism and the eval path)
// and data/prefetch (bit-identical to synchronous batching, restarts,
// shutdown at any point).
#include <cmath>
#include <cstring>
#include <set>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "data/augment.h"
#include "data/batcher.h"
#include "data/prefetch.h"
#include "data/synthetic.h"

namespace strata::data {
namespace {

// [n,c,h,w] with value 1000*example + 100*channel + 10*row + col... encoded
// so that every pixel is distinct and its origin readable.
Tensor Indexed(int64_t n, int64_t c, int64_t h, int64_t w) {
  Tensor t(DType::kFloat32, Shape{n, c, h, w});
  float* d = t.data<float>();
  for (int64_t k = 0; k < n; ++k)
    for (int64_t ch = 0; ch < c; ++ch)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) d[((k * c + ch) * h + y) * w + x] = 1 + k * 100000 + ch * 10000 + y * 100 + x;
  return t;
}

float At(const Tensor& t, int64_t k, int64_t ch, int64_t y, int64_t x) {
  const Shape& s = t.shape();
  return t.data<float>()[((k * s[1] + ch) * s[2] + y) * s[3] + x];
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.spec() == b.spec() && std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0;
}

TEST(Augment, IdentityByDefault) {
  const Tensor x = Indexed(2, 3, 5, 4);
  Augmenter aug(3);
  EXPECT_TRUE(aug.is_identity());
  EXPECT_TRUE(SameBytes(aug.Apply(x, 0, 0), x));
  EXPECT_TRUE(SameBytes(aug.Eval(x), x));
}

TEST(Augment, DeterministicInSeedEpochAndBatch) {
  const Tensor x = Indexed(8, 3, 8, 8);
  const Augmenter aug = Augmenter(7).RandomCrop(6, 2).HorizontalFlip();
  const Tensor a = aug.Apply(x, 1, 3);
  EXPECT_TRUE(SameBytes(a, aug.Apply(x, 1, 3)));
  EXPECT_TRUE(SameBytes(a, Augmenter(7).RandomCrop(6, 2).HorizontalFlip().Apply(x, 1, 3)));
  EXPECT_FALSE(SameBytes(a, aug.Apply(x, 2, 3)));  // another epoch
  EXPECT_FALSE(SameBytes(a, aug.Apply(x, 1, 4)));  // another batch
  EXPECT_FALSE(SameBytes(a, Augmenter(8).RandomCrop(6, 2).HorizontalFlip().Apply(x, 1, 3)));  // another seed
  // Examples of one batch get different draws.
  std::set<std::pair<int64_t, int64_t>> corners;
  for (int k = 0; k < 8; ++k) {
    const auto c = aug.ChoiceFor(1, 3, k, 8, 8);
    corners.insert({c.top, c.left});
  }
  EXPECT_GT(corners.size(), 2u);
}

TEST(Augment, RandomCropWithoutPaddingTakesAWindow) {
  const Tensor x = Indexed(4, 2, 5, 6);
  const Augmenter aug = Augmenter(1).RandomCrop(3);
  ASSERT_EQ(*aug.OutputShape(x.shape()), (Shape{4, 2, 3, 3}));
  std::set<std::pair<int64_t, int64_t>> corners;
  for (int64_t epoch = 0; epoch < 50; ++epoch) {
    const Tensor out = aug.Apply(x, epoch, 0);
    for (int64_t k = 0; k < 4; ++k) {
      const auto c = aug.ChoiceFor(epoch, 0, k, 5, 6);
      ASSERT_FALSE(c.flip);
      ASSERT_GE(c.top, 0);
      ASSERT_LE(c.top, 2);
      ASSERT_GE(c.left, 0);
      ASSERT_LE(c.left, 3);
      corners.insert({c.top, c.left});
      for (int64_t ch = 0; ch < 2; ++ch)
        for (int64_t y = 0; y < 3; ++y)
          for (int64_t xx = 0; xx < 3; ++xx) ASSERT_EQ(At(out, k, ch, y, xx), At(x, k, ch, c.top + y, c.left + xx));
    }
  }
  EXPECT_EQ(corners.size(), 12u);  // every one of the 3x4 positions occurs
}

TEST(Augment, PaddedCropFillsZeros) {
  // CIFAR-style: pad 2 around a 4x4 image, crop 4x4.
  const Tensor x = Indexed(1, 1, 4, 4);
  const Augmenter aug = Augmenter(5).RandomCrop(4, 2);
  std::set<std::pair<int64_t, int64_t>> corners;
  for (int64_t batch = 0; batch < 200; ++batch) {
    const Tensor out = aug.Apply(x, 0, batch);
    const auto c = aug.ChoiceFor(0, batch, 0, 4, 4);
    corners.insert({c.top, c.left});
    for (int64_t y = 0; y < 4; ++y) {
      for (int64_t xx = 0; xx < 4; ++xx) {
        const int64_t sy = c.top + y - 2, sx = c.left + xx - 2;
        const float want = (sy < 0 || sy >= 4 || sx < 0 || sx >= 4) ? 0.0f : At(x, 0, 0, sy, sx);
        ASSERT_EQ(At(out, 0, 0, y, xx), want) << "batch " << batch << " y " << y << " x " << xx;
      }
    }
  }
  EXPECT_EQ(corners.size(), 25u);  // offsets 0..4 in both directions
  // The centre of the padded image is the image itself.
  EXPECT_TRUE(SameBytes(aug.Eval(x), x));
}

TEST(Augment, PaddedCropByHand) {
  // [[1,2],[3,4]] padded by 1 to 4x4; the 2x2 windows at the corners.
  Tensor x(DType::kFloat32, Shape{1, 1, 2, 2});
  const float v[] = {1, 2, 3, 4};
  std::memcpy(x.data<float>(), v, sizeof(v));
  const Augmenter aug = Augmenter(0).RandomCrop(2, 1);
  const std::vector<std::pair<std::pair<int64_t, int64_t>, std::vector<float>>> want = {
      {{0, 0}, {0, 0, 0, 1}}, {{0, 2}, {0, 0, 2, 0}}, {{2, 0}, {0, 3, 0, 0}},
      {{2, 2}, {4, 0, 0, 0}}, {{1, 1}, {1, 2, 3, 4}}, {{1, 0}, {0, 1, 0, 3}}};
  std::set<std::pair<int64_t, int64_t>> seen;
  for (int64_t batch = 0; batch < 300; ++batch) {
    const auto c = aug.ChoiceFor(0, batch, 0, 2, 2);
    for (const auto& [corner, values] : want) {
      if (corner != std::make_pair(c.top, c.left)) continue;
      seen.insert(corner);
      const Tensor out = aug.Apply(x, 0, batch);
      EXPECT_EQ(std::vector<float>(out.data<float>(), out.data<float>() + 4), values);
    }
  }
  EXPECT_EQ(seen.size(), want.size());
}

TEST(Augment, HorizontalFlip) {
  const Tensor x = Indexed(3, 2, 3, 5);
  const Tensor always = Augmenter(1).HorizontalFlip(1.0).Apply(x, 0, 0);
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t ch = 0; ch < 2; ++ch)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t xx = 0; xx < 5; ++xx) ASSERT_EQ(At(always, k, ch, y, xx), At(x, k, ch, y, 4 - xx));
  EXPECT_TRUE(SameBytes(Augmenter(1).HorizontalFlip(0.0).Apply(x, 0, 0), x));

  // p = 0.5: about half of many examples are flipped, each exactly.
  const Tensor many = Indexed(400, 1, 2, 3);
  const Augmenter half = Augmenter(9).HorizontalFlip(0.5);
  const Tensor out = half.Apply(many, 4, 2);
  int flipped = 0;
  for (int64_t k = 0; k < 400; ++k) {
    const bool f = half.ChoiceFor(4, 2, k, 2, 3).flip;
    flipped += f;
    for (int64_t y = 0; y < 2; ++y)
      for (int64_t xx = 0; xx < 3; ++xx) ASSERT_EQ(At(out, k, 0, y, xx), At(many, k, 0, y, f ? 2 - xx : xx));
  }
  EXPECT_GT(flipped, 150);
  EXPECT_LT(flipped, 250);
}

TEST(Augment, CropThenFlipMirrorsTheWindow) {
  const Tensor x = Indexed(6, 1, 6, 6);
  const Augmenter aug = Augmenter(2).RandomCrop(4, 1).HorizontalFlip(1.0);
  const Tensor out = aug.Apply(x, 0, 0);
  for (int64_t k = 0; k < 6; ++k) {
    const auto c = aug.ChoiceFor(0, 0, k, 6, 6);
    ASSERT_TRUE(c.flip);
    for (int64_t y = 0; y < 4; ++y) {
      for (int64_t xx = 0; xx < 4; ++xx) {
        const int64_t sy = c.top + y - 1, sx = c.left + (3 - xx) - 1;
        const float want = (sy < 0 || sy >= 6 || sx < 0 || sx >= 6) ? 0.0f : At(x, k, 0, sy, sx);
        ASSERT_EQ(At(out, k, 0, y, xx), want);
      }
    }
  }
}

TEST(Augment, EvalIsCentreCropWithoutFlip) {
  const Tensor x = Indexed(2, 3, 7, 7);
  const Augmenter aug = Augmenter(4).RandomCrop(3).HorizontalFlip(1.0);
  const Tensor out = aug.Eval(x);
  ASSERT_EQ(out.shape(), (Shape{2, 3, 3, 3}));
  for (int64_t k = 0; k < 2; ++k)
    for (int64_t ch = 0; ch < 3; ++ch)
      for (int64_t y = 0; y < 3; ++y)
        for (int64_t xx = 0; xx < 3; ++xx) ASSERT_EQ(At(out, k, ch, y, xx), At(x, k, ch, 2 + y, 2 + xx));
  // CIFAR's pad-4 crop-32 is the identity at evaluation.
  const Tensor cifar = Indexed(2, 3, 32, 32);
  EXPECT_TRUE(SameBytes(Augmenter::Cifar(1).Eval(cifar), cifar));
}

TEST(Augment, AlexNetCrop) {
  const Tensor x = Indexed(2, 3, 256, 256);
  const Augmenter aug = Augmenter::AlexNet(11);
  ASSERT_EQ(*aug.OutputShape(x.shape()), (Shape{2, 3, 227, 227}));
  const Tensor out = aug.Apply(x, 0, 0);
  for (int64_t k = 0; k < 2; ++k) {
    const auto c = aug.ChoiceFor(0, 0, k, 256, 256);
    ASSERT_LE(c.top, 29);
    ASSERT_LE(c.left, 29);
    for (int64_t y : {0, 100, 226})
      for (int64_t xx : {0, 57, 226}) {
        const int64_t sx = c.left + (c.flip ? 226 - xx : xx);
        ASSERT_EQ(At(out, k, 2, y, xx), At(x, k, 2, c.top + y, sx));
      }
  }
  const Tensor centre = aug.Eval(x);
  EXPECT_EQ(At(centre, 1, 1, 0, 0), At(x, 1, 1, 14, 14));  // (256 - 227) / 2
  EXPECT_EQ(At(centre, 1, 1, 226, 226), At(x, 1, 1, 240, 240));
}

TEST(Augment, NormalizePerChannel) {
  Tensor x(DType::kFloat32, Shape{1, 2, 2, 2});
  const float v[] = {0.0f, 0.5f, 1.0f, 0.25f, 0.2f, 0.4f, 0.6f, 0.8f};
  std::memcpy(x.data<float>(), v, sizeof(v));
  const Augmenter aug = Augmenter(0).Normalize({0.5f, 0.2f}, {0.25f, 0.5f});
  for (const Tensor& out : {aug.Apply(x, 3, 1), aug.Eval(x)}) {
    for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out.data<float>()[i], (v[i] - 0.5f) / 0.25f);
    for (int i = 4; i < 8; ++i) EXPECT_FLOAT_EQ(out.data<float>()[i], (v[i] - 0.2f) / 0.5f);
  }
  // One value for every channel; padding is normalised like a zero pixel.
  const Tensor padded = Augmenter(0).RandomCrop(4, 1).Normalize({0.5f}, {2.0f}).Eval(x);
  EXPECT_FLOAT_EQ(At(padded, 0, 1, 0, 0), -0.25f);
  EXPECT_FLOAT_EQ(At(padded, 0, 1, 1, 1), (0.2f - 0.5f) / 2.0f);
}

TEST(Augment, OutputShapeRejectsBadConfigurations) {
  const Shape s{2, 3, 8, 8};
  EXPECT_FALSE(Augmenter(0).OutputShape(Shape{3, 8, 8}).ok());
  EXPECT_FALSE(Augmenter(0).RandomCrop(9).OutputShape(s).ok());
  EXPECT_TRUE(Augmenter(0).RandomCrop(9, 1).OutputShape(s).ok());
  EXPECT_FALSE(Augmenter(0).RandomCrop(4, -1).OutputShape(s).ok());
  EXPECT_FALSE(Augmenter(0).Normalize({0.1f, 0.2f}, {1, 1}).OutputShape(s).ok());
  EXPECT_FALSE(Augmenter(0).Normalize({0.1f}, {1, 1}).OutputShape(s).ok());
  EXPECT_FALSE(Augmenter(0).Normalize({0.1f}, {0.0f}).OutputShape(s).ok());
  EXPECT_TRUE(Augmenter(0).Normalize({0.1f, 0.2f, 0.3f}, {1, 2, 3}).OutputShape(s).ok());
}

// ---- Prefetcher ----

PrefetchOptions Options(int depth, bool train) {
  PrefetchOptions o;
  o.batch_size = 5;
  o.shuffle = true;
  o.seed = 11;
  o.drop_remainder = false;
  o.augmenter = Augmenter(23).RandomCrop(6, 1).HorizontalFlip().Normalize({0.1f, -0.2f, 0.3f}, {1.5f, 0.5f, 2.0f});
  o.train = train;
  o.depth = depth;
  return o;
}

// The batches of `epoch` produced synchronously: Batcher then Augmenter.
void ExpectMatchesSynchronous(const Dataset& d, const PrefetchOptions& o, int64_t epoch, Prefetcher& p) {
  Batcher batcher(d, o.batch_size, o.shuffle, o.seed, o.drop_remainder);
  batcher.StartEpoch(epoch);
  ASSERT_EQ(p.num_batches(), batcher.num_batches());
  for (int64_t i = 0; i < batcher.num_batches(); ++i) {
    const int64_t b = batcher.BatchSize(i);
    Tensor raw(DType::kFloat32, Shape{b, 3, 8, 8});
    Tensor labels(DType::kInt32, Shape{b});
    batcher.Batch(i, &raw, &labels);
    Tensor images(DType::kFloat32, *o.augmenter.OutputShape(raw.shape()));
    if (o.train) {
      o.augmenter.Apply(raw, epoch, i, &images);
    } else {
      o.augmenter.Eval(raw, &images);
    }
    PrefetchedBatch got;
    ASSERT_TRUE(p.Next(&got)) << "epoch " << epoch << " batch " << i;
    EXPECT_EQ(got.index, i);
    EXPECT_TRUE(SameBytes(got.images, images)) << "epoch " << epoch << " batch " << i;
    EXPECT_TRUE(SameBytes(got.labels, labels)) << "epoch " << epoch << " batch " << i;
  }
  PrefetchedBatch none;
  EXPECT_FALSE(p.Next(&none));
  EXPECT_FALSE(p.Next(&none));
}

TEST(Prefetch, BitIdenticalToSynchronousOverEpochs) {
  const Dataset d = Synthetic(37, 3, 8, 4, 5);  // 8 batches, the last of 2
  for (int depth : {1, 2, 4}) {
    for (bool train : {true, false}) {
      SCOPED_TRACE(testing::Message() << "depth " << depth << " train " << train);
      const PrefetchOptions o = Options(depth, train);
      Prefetcher p(d, o);
      EXPECT_EQ(p.output_example_shape(), (Shape{3, 6, 6}));
      PrefetchedBatch none;
      EXPECT_FALSE(p.Next(&none));  // nothing before StartEpoch
      for (int64_t epoch = 0; epoch < 4; ++epoch) {
        p.StartEpoch(epoch);
        ExpectMatchesSynchronous(d, o, epoch, p);
      }
    }
  }
}

TEST(Prefetch, IdentityAugmenterAndDropRemainder) {
  const Dataset d = Synthetic(23, 3, 8, 3, 2);
  PrefetchOptions o;
  o.batch_size = 4;
  o.seed = 3;
  o.drop_remainder = true;
  Prefetcher p(d, o);
  ASSERT_EQ(p.num_batches(), 5);
  for (int64_t epoch : {2, 0, 7}) {
    p.StartEpoch(epoch);
    ExpectMatchesSynchronous(d, o, epoch, p);
  }
}

TEST(Prefetch, RestartMidEpoch) {
  const Dataset d = Synthetic(37, 3, 8, 4, 5);
  const PrefetchOptions o = Options(2, true);
  Prefetcher p(d, o);
  p.StartEpoch(0);
  PrefetchedBatch b;
  ASSERT_TRUE(p.Next(&b));
  ASSERT_TRUE(p.Next(&b));
  p.StartEpoch(1);  // abandons epoch 0 with batches queued and in flight
  ExpectMatchesSynchronous(d, o, 1, p);
  p.StartEpoch(1);  // the same epoch again replays it
  ExpectMatchesSynchronous(d, o, 1, p);
}

TEST(Prefetch, ShutdownAtAnyPoint) {
  const Dataset d = Synthetic(200, 3, 8, 4, 5);
  const PrefetchOptions o = Options(2, true);
  { Prefetcher never_started(d, o); }
  { Prefetcher p(d, o); p.StartEpoch(0); }  // queue filling, nothing consumed
  for (int taken : {1, 3, 17}) {
    Prefetcher p(d, o);
    p.StartEpoch(3);
    PrefetchedBatch b;
    for (int i = 0; i < taken; ++i) ASSERT_TRUE(p.Next(&b));
    EXPECT_EQ(b.index, taken - 1);
  }  // destroyed mid-epoch, holding a batch
  {
    Prefetcher p(d, o);
    p.StartEpoch(0);
    PrefetchedBatch b;
    while (p.Next(&b)) {
    }
  }  // destroyed at the end of an epoch
  Dataset empty;
  Prefetcher p(empty, o);
  p.StartEpoch(0);
  PrefetchedBatch b;
  EXPECT_EQ(p.num_batches(), 0);
  EXPECT_FALSE(p.Next(&b));
}

}  // namespace
}  // namespace strata::data
