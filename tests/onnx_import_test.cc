// ONNX import: models built here with the ONNX protobuf API, run in Strata and
// compared with float64 references computed here from ONNX's definitions;
// PyTorch exports (onnx/testdata, made by make_exports.py) compared with
// PyTorch's own outputs; and the errors for what Strata cannot express.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "onnx/import.h"
#include "runtime/session.h"
#include "tests/onnx_test_util.h"

namespace strata {
namespace {

using ::testing::HasSubstr;

// An NCHW (or any rank) float64 array: the reference side.
struct Nd {
  std::vector<int64_t> dims;
  std::vector<double> v;
  double& at(int64_t n, int64_t c, int64_t h, int64_t w) {
    return v[((n * dims[1] + c) * dims[2] + h) * dims[3] + w];
  }
  double get(int64_t n, int64_t c, int64_t h, int64_t w) const {
    return v[((n * dims[1] + c) * dims[2] + h) * dims[3] + w];
  }
};

Nd Random(std::vector<int64_t> dims, uint32_t seed, double lo = -1, double hi = 1) {
  Nd a{dims, {}};
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < n; ++i) a.v.push_back(u(rng));  // float32-representable values
  return a;
}

std::vector<float> F(const Nd& a) { return std::vector<float>(a.v.begin(), a.v.end()); }

struct Pads {
  int64_t t = 0, l = 0, b = 0, r = 0;
};

// ONNX Conv: output floor((H + t + b - F) / S) + 1; zero padding.
Nd RefConv(const Nd& x, const Nd& w, const std::vector<double>& bias, int64_t s, Pads p, int64_t groups) {
  const int64_t n = x.dims[0], c = x.dims[1], h = x.dims[2], wd = x.dims[3];
  const int64_t k = w.dims[0], cg = w.dims[1], fh = w.dims[2], fw = w.dims[3];
  const int64_t oh = (h + p.t + p.b - fh) / s + 1, ow = (wd + p.l + p.r - fw) / s + 1;
  Nd y{{n, k, oh, ow}, std::vector<double>(n * k * oh * ow)};
  for (int64_t b = 0; b < n; ++b)
    for (int64_t o = 0; o < k; ++o) {
      const int64_t g = o / (k / groups);
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          double acc = bias.empty() ? 0 : bias[o];
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t u = 0; u < fh; ++u)
              for (int64_t v = 0; v < fw; ++v) {
                const int64_t hh = i * s - p.t + u, ww = j * s - p.l + v;
                if (hh < 0 || hh >= h || ww < 0 || ww >= wd) continue;
                acc += x.get(b, g * cg + ci, hh, ww) * w.get(o, ci, u, v);
              }
          y.at(b, o, i, j) = acc;
        }
    }
  (void)c;
  return y;
}

// ONNX pools (PyTorch's ceil rule). Max ignores padding; average divides by
// the window clipped to the padded input (count_include_pad) or to the input.
Nd RefPool(const Nd& x, int64_t k, int64_t s, Pads p, bool ceil_mode, bool max, bool count_pad) {
  const int64_t h = x.dims[2], wd = x.dims[3];
  auto out = [&](int64_t in, int64_t pb, int64_t pe) {
    const int64_t span = in + pb + pe - k;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + pb) --o;
    return o;
  };
  const int64_t oh = out(h, p.t, p.b), ow = out(wd, p.l, p.r);
  Nd y{{x.dims[0], x.dims[1], oh, ow}, std::vector<double>(x.dims[0] * x.dims[1] * oh * ow)};
  for (int64_t b = 0; b < x.dims[0]; ++b)
    for (int64_t c = 0; c < x.dims[1]; ++c)
      for (int64_t i = 0; i < oh; ++i)
        for (int64_t j = 0; j < ow; ++j) {
          const int64_t h0 = i * s - p.t, w0 = j * s - p.l;
          const int64_t h1 = std::min(h0 + k, h + p.b), w1 = std::min(w0 + k, wd + p.r);
          double best = -INFINITY, sum = 0;
          int64_t count = 0;
          for (int64_t hh = std::max<int64_t>(h0, 0); hh < std::min(h1, h); ++hh)
            for (int64_t ww = std::max<int64_t>(w0, 0); ww < std::min(w1, wd); ++ww) {
              best = std::max(best, x.get(b, c, hh, ww));
              sum += x.get(b, c, hh, ww);
              ++count;
            }
          if (count_pad) count = (h1 - h0) * (w1 - w0);
          y.at(b, c, i, j) = max ? best : sum / count;
        }
  return y;
}

// Imports `model`, feeds `x` to its first input and returns its first output.
absl::StatusOr<Tensor> RunImported(const onnx::ModelProto& model, const Nd& x) {
  auto imported = onnx_io::ImportOnnx(model);
  if (!imported.ok()) return imported.status();
  auto session = runtime::Session::Create(*imported->graph);
  if (!session.ok()) return session.status();
  auto s = onnx_io::LoadInitialValues(*imported, &(*session)->variables());
  if (!s.ok()) return s;
  std::vector<float> xs = F(x);
  auto y = (*session)->Run({{imported->inputs[0], Tensor::FromVector<float>(Shape(x.dims), xs)}},
                           {imported->outputs[0]});
  if (!y.ok()) return y.status();
  return (*y)[0];
}

// Max |a - b| / max |b|.
double RelativeError(const Tensor& got, const Nd& want) {
  double diff = 0, scale = 1e-30;
  for (size_t i = 0; i < want.v.size(); ++i) {
    diff = std::max(diff, std::abs(got.data<float>()[i] - want.v[i]));
    scale = std::max(scale, std::abs(want.v[i]));
  }
  return diff / scale;
}

void ExpectClose(const absl::StatusOr<Tensor>& got, const Nd& want, double tolerance = 1e-5) {
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->shape().dims(), want.dims);
  EXPECT_LT(RelativeError(*got, want), tolerance);
}

TEST(OnnxImportTest, ConvReluMaxPoolGemmMatchesReference) {
  const Nd x = Random({2, 3, 9, 9}, 1), w = Random({4, 3, 3, 3}, 2), b = Random({4}, 3);
  const Nd fc = Random({5, 4 * 2 * 2}, 4), fcb = Random({5}, 5);
  test::OnnxBuilder m;
  m.Input("x", {2, 3, 9, 9}).Initializer("w", w.dims, F(w)).Initializer("b", {4}, F(b));
  m.Initializer("fc.weight", fc.dims, F(fc)).Initializer("fc.bias", {5}, F(fcb));
  auto* conv = m.Node("Conv", "conv", {"x", "w", "b"}, {"c"});
  test::IntsAttr(conv, "pads", {1, 1, 1, 1});
  test::IntsAttr(conv, "strides", {2, 2});
  m.Node("Relu", "relu", {"c"}, {"r"});
  auto* pool = m.Node("MaxPool", "pool", {"r"}, {"p"});
  test::IntsAttr(pool, "kernel_shape", {2, 2});
  test::IntsAttr(pool, "strides", {2, 2});
  m.Node("Flatten", "flatten", {"p"}, {"f"});
  auto* gemm = m.Node("Gemm", "gemm", {"f", "fc.weight", "fc.bias"}, {"y"});
  test::IntAttr(gemm, "transB", 1);
  test::FloatAttr(gemm, "alpha", 0.5f);
  test::FloatAttr(gemm, "beta", 2.0f);
  m.Output("y");

  Nd ref = RefConv(x, w, b.v, 2, {1, 1, 1, 1}, 1);  // [2,4,5,5]
  for (double& v : ref.v) v = std::max(v, 0.0);
  ref = RefPool(ref, 2, 2, {}, false, true, false);  // [2,4,2,2]
  Nd y{{2, 5}, std::vector<double>(10)};
  for (int n = 0; n < 2; ++n)
    for (int o = 0; o < 5; ++o) {
      double acc = 0;
      for (int i = 0; i < 16; ++i) acc += ref.v[n * 16 + i] * fc.v[o * 16 + i];
      y.v[n * 5 + o] = 0.5 * acc + 2.0 * fcb.v[o];
    }
  ExpectClose(RunImported(m.model(), x), y);
}

struct ConvCase {
  std::string name;
  std::vector<int64_t> x, w;
  int64_t stride;
  Pads pads;
  int64_t groups;
  std::string auto_pad;  // empty: explicit pads
};

class OnnxConvTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(OnnxConvTest, MatchesReference) {
  const ConvCase& cc = GetParam();
  const Nd x = Random(cc.x, 11), w = Random(cc.w, 12), b = Random({cc.w[0]}, 13);
  test::OnnxBuilder m;
  m.Input("x", cc.x).Initializer("w", cc.w, F(w)).Initializer("b", {cc.w[0]}, F(b));
  auto* conv = m.Node("Conv", "conv", {"x", "w", "b"}, {"y"});
  test::IntsAttr(conv, "strides", {cc.stride, cc.stride});
  test::IntAttr(conv, "group", cc.groups);
  Pads p = cc.pads;
  if (cc.auto_pad.empty()) {
    test::IntsAttr(conv, "pads", {p.t, p.l, p.b, p.r});
  } else {
    test::StringAttr(conv, "auto_pad", cc.auto_pad);
    auto same = [&](int64_t n, int64_t f, int64_t& begin, int64_t& end) {
      const int64_t out = (n + cc.stride - 1) / cc.stride;
      const int64_t total = std::max<int64_t>((out - 1) * cc.stride + f - n, 0);
      begin = cc.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      end = total - begin;
    };
    same(cc.x[2], cc.w[2], p.t, p.b);
    same(cc.x[3], cc.w[3], p.l, p.r);
  }
  m.Output("y");
  ExpectClose(RunImported(m.model(), x), RefConv(x, w, b.v, cc.stride, p, cc.groups));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OnnxConvTest,
    ::testing::Values(ConvCase{"symmetric", {1, 2, 7, 7}, {3, 2, 3, 3}, 1, {1, 1, 1, 1}, 1, ""},
                      ConvCase{"floor", {1, 2, 8, 8}, {3, 2, 3, 3}, 2, {1, 1, 1, 1}, 1, ""},
                      ConvCase{"asymmetric", {2, 2, 7, 6}, {4, 2, 3, 3}, 1, {0, 1, 2, 1}, 1, ""},
                      ConvCase{"asymmetric_strided", {1, 4, 9, 9}, {4, 2, 3, 3}, 2, {2, 0, 1, 3}, 2, ""},
                      ConvCase{"groups", {1, 4, 6, 6}, {6, 2, 3, 3}, 1, {1, 1, 1, 1}, 2, ""},
                      ConvCase{"non_square_kernel", {1, 2, 7, 7}, {3, 2, 3, 1}, 1, {1, 0, 1, 0}, 1, ""},
                      ConvCase{"same_upper", {1, 2, 8, 8}, {3, 2, 4, 4}, 2, {}, 1, "SAME_UPPER"},
                      ConvCase{"same_lower", {1, 2, 7, 7}, {3, 2, 2, 2}, 1, {}, 1, "SAME_LOWER"}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return info.param.name; });

struct PoolCase {
  std::string name;
  std::string op;
  int64_t k, s;
  Pads pads;
  bool ceil_mode, count_include_pad;
};

class OnnxPoolTest : public ::testing::TestWithParam<PoolCase> {};

TEST_P(OnnxPoolTest, MatchesReference) {
  const PoolCase& pc = GetParam();
  const Nd x = Random({2, 3, 9, 9}, 21);
  test::OnnxBuilder m;
  m.Input("x", x.dims);
  auto* pool = m.Node(pc.op, "pool", {"x"}, {"y"});
  test::IntsAttr(pool, "kernel_shape", {pc.k, pc.k});
  test::IntsAttr(pool, "strides", {pc.s, pc.s});
  test::IntsAttr(pool, "pads", {pc.pads.t, pc.pads.l, pc.pads.b, pc.pads.r});
  test::IntAttr(pool, "ceil_mode", pc.ceil_mode);
  if (pc.op == "AveragePool") test::IntAttr(pool, "count_include_pad", pc.count_include_pad);
  m.Output("y");
  ExpectClose(RunImported(m.model(), x),
              RefPool(x, pc.k, pc.s, pc.pads, pc.ceil_mode, pc.op == "MaxPool", pc.count_include_pad));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OnnxPoolTest,
    ::testing::Values(PoolCase{"max", "MaxPool", 3, 2, {}, false, false},
                      PoolCase{"max_ceil", "MaxPool", 3, 2, {}, true, false},
                      PoolCase{"max_padded_ceil", "MaxPool", 3, 2, {1, 1, 1, 1}, true, false},
                      PoolCase{"avg_padded", "AveragePool", 3, 2, {1, 1, 1, 1}, false, false},
                      PoolCase{"avg_ceil", "AveragePool", 2, 2, {}, true, false},
                      PoolCase{"avg_count_include_pad", "AveragePool", 3, 1, {1, 1, 1, 1}, false, true},
                      PoolCase{"avg_count_include_asymmetric", "AveragePool", 3, 2, {0, 1, 2, 1}, false, true}),
    [](const ::testing::TestParamInfo<PoolCase>& info) { return info.param.name; });

// Batch norm, LRN, Concat, per-channel Add, scalar Mul, activations and
// Softmax in one model, against the formulas of the ONNX operator docs.
TEST(OnnxImportTest, NormalisationAndElementwiseOpsMatchReference) {
  const int64_t N = 2, C = 4, H = 3, W = 3;
  const Nd x = Random({N, C, H, W}, 31), scale = Random({C}, 32, 0.5, 1.5), bias = Random({C}, 33);
  const Nd mean = Random({C}, 34), var = Random({C}, 35, 0.5, 2.0), add = Random({C, 1, 1}, 36);
  test::OnnxBuilder m;
  m.Input("x", x.dims).Initializer("scale", {C}, F(scale)).Initializer("bias", {C}, F(bias));
  m.Initializer("mean", {C}, F(mean)).Initializer("var", {C}, F(var)).Initializer("add", {C, 1, 1}, F(add));
  m.Initializer("two", {}, {2.0f});
  auto* bn = m.Node("BatchNormalization", "bn", {"x", "scale", "bias", "mean", "var"}, {"bn"});
  test::FloatAttr(bn, "epsilon", 1e-3f);
  auto* lrn = m.Node("LRN", "lrn", {"bn"}, {"lrn"});
  test::IntAttr(lrn, "size", 3);
  test::FloatAttr(lrn, "alpha", 0.1f);
  test::FloatAttr(lrn, "beta", 0.75f);
  test::FloatAttr(lrn, "bias", 2.0f);
  m.Node("Add", "add", {"lrn", "add"}, {"added"});
  m.Node("Mul", "mul", {"added", "two"}, {"mul"});
  m.Node("Sigmoid", "sigmoid", {"mul"}, {"sig"});
  m.Node("Tanh", "tanh", {"mul"}, {"tanh"});
  auto* cat = m.Node("Concat", "concat", {"sig", "tanh"}, {"cat"});
  test::IntAttr(cat, "axis", 1);
  m.Node("GlobalAveragePool", "gap", {"cat"}, {"gap"});
  m.Node("Flatten", "flatten", {"gap"}, {"flat"});
  m.Node("Softmax", "softmax", {"flat"}, {"y"});
  m.Output("y");

  Nd b{x.dims, std::vector<double>(x.v.size())};
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c)
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w)
          b.at(n, c, h, w) = scale.v[c] * (x.get(n, c, h, w) - mean.v[c]) / std::sqrt(var.v[c] + 1e-3) + bias.v[c];
  Nd cat_ref{{N, 2 * C, 1, 1}, std::vector<double>(N * 2 * C)};
  for (int n = 0; n < N; ++n)
    for (int c = 0; c < C; ++c) {
      double sig = 0, th = 0;
      for (int h = 0; h < H; ++h)
        for (int w = 0; w < W; ++w) {
          double sq = 0;
          for (int j = std::max(0, c - 1); j <= std::min<int>(C - 1, c + 1); ++j) sq += std::pow(b.get(n, j, h, w), 2);
          const double l = b.get(n, c, h, w) / std::pow(2.0 + 0.1 / 3 * sq, 0.75);
          const double v = 2.0 * (l + add.v[c]);
          sig += 1 / (1 + std::exp(-v));
          th += std::tanh(v);
        }
      cat_ref.at(n, c, 0, 0) = sig / (H * W);
      cat_ref.at(n, C + c, 0, 0) = th / (H * W);
    }
  Nd y{{N, 2 * C}, std::vector<double>(N * 2 * C)};
  for (int n = 0; n < N; ++n) {
    double total = 0;
    for (int i = 0; i < 2 * C; ++i) total += std::exp(cat_ref.v[n * 2 * C + i]);
    for (int i = 0; i < 2 * C; ++i) y.v[n * 2 * C + i] = std::exp(cat_ref.v[n * 2 * C + i]) / total;
  }
  ExpectClose(RunImported(m.model(), x), y);
}

// Attributes that became inputs across opsets: Clip's min/max (11), Pad's
// pads (11), Dropout's ratio (12); Reshape's 0 and -1; Softmax's axis
// default and coercion (13).
TEST(OnnxImportTest, OpsetVariantsGiveTheSameResult) {
  const Nd x = Random({1, 2, 3, 4}, 41);
  // Relu, one column of zeros on the left, then softmax over all 30 values.
  Nd padded{{1, 2, 3, 5}, std::vector<double>(30, 0.0)};
  for (int c = 0; c < 2; ++c)
    for (int h = 0; h < 3; ++h)
      for (int w = 0; w < 4; ++w) padded.at(0, c, h, w + 1) = std::max(0.0, x.get(0, c, h, w));
  double total = 0;
  for (double v : padded.v) total += std::exp(v);
  Nd ref{{1, 30}, {}};
  for (double v : padded.v) ref.v.push_back(std::exp(v) / total);

  for (int opset : {9, 11, 13, 17}) {
    SCOPED_TRACE(opset);
    test::OnnxBuilder m(opset);
    m.Input("x", x.dims);
    auto* clip = m.Node("Clip", "clip", {"x"}, {"c"});
    if (opset < 11) {
      test::FloatAttr(clip, "min", 0.0f);
    } else {
      m.Initializer("zero", {}, {0.0f});
      clip->add_input("zero");
    }
    auto* drop = m.Node("Dropout", "drop", {"c"}, {"d"});
    if (opset < 12) {
      test::FloatAttr(drop, "ratio", 0.3f);
    } else {
      m.Initializer("ratio", {}, {0.3f});
      drop->add_input("ratio");
    }
    auto* pad = m.Node("Pad", "pad", {"d"}, {"p"});
    if (opset < 11) {
      test::IntsAttr(pad, "pads", {0, 0, 0, 1, 0, 0, 0, 0});
    } else {
      m.Int64Initializer("pads", {0, 0, 0, 1, 0, 0, 0, 0});
      pad->add_input("pads");
    }
    m.Int64Initializer("shape", {0, -1});
    m.Node("Reshape", "reshape", {"p", "shape"}, {"r"});
    m.Node("Identity", "identity", {"r"}, {"i"});
    m.Node("Softmax", "softmax", {"i"}, {"y"});
    m.Output("y");
    ExpectClose(RunImported(m.model(), x), ref);
  }
  // Before opset 13 Softmax's axis 1 makes [1,2,3,5] one row; from 13 only
  // the last axis is supported.
  for (int opset : {11, 13}) {
    SCOPED_TRACE(opset);
    test::OnnxBuilder m(opset);
    m.Input("x", {1, 2, 3, 5});
    auto* s = m.Node("Softmax", "softmax", {"x"}, {"y"});
    test::IntAttr(s, "axis", 1);
    m.Output("y");
    Nd in{{1, 2, 3, 5}, std::vector<double>(padded.v)};
    auto got = RunImported(m.model(), in);
    if (opset == 11) {
      ExpectClose(got, Nd{{1, 2, 3, 5}, ref.v});
    } else {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kUnimplemented);
      EXPECT_THAT(got.status().message(), HasSubstr("'softmax' (Softmax): attribute 'axis' = 1"));
    }
  }
}

absl::Status ImportStatus(const onnx::ModelProto& m) { return onnx_io::ImportOnnx(m).status(); }

// MatMul, Gemm's C as [1,N], [M,N] and a single value, Sub with a scalar,
// and one initializer used twice in two shapes (the second use reshapes the
// variable the first one made).
TEST(OnnxImportTest, MatMulGemmBroadcastsAndSharedInitializersMatchReference) {
  const Nd x = Random({3, 4}, 51), w = Random({4, 5}, 52), c_row = Random({1, 5}, 53), c_full = Random({3, 5}, 54);
  const Nd bias = Random({2}, 55), img = Random({1, 2, 3, 3}, 56), k = Random({2, 2, 1, 1}, 57);
  test::OnnxBuilder m;
  m.Input("x", x.dims).Input("img", img.dims);
  m.Initializer("w", w.dims, F(w)).Initializer("c_row", c_row.dims, F(c_row));
  m.Initializer("c_full", c_full.dims, F(c_full)).Initializer("half", {1}, {0.5f});
  m.Initializer("bias", {2}, F(bias)).Initializer("k", k.dims, F(k));
  m.Node("MatMul", "matmul", {"x", "w"}, {"mm"});
  m.Node("Gemm", "gemm_row", {"x", "w", "c_row"}, {"g1"});
  auto* full = m.Node("Gemm", "gemm_full", {"x", "w", "c_full"}, {"g2"});
  test::FloatAttr(full, "beta", -1.0f);
  m.Node("Gemm", "gemm_scalar", {"x", "w", "half"}, {"g3"});
  m.Node("Add", "sum1", {"mm", "g1"}, {"s1"});
  m.Node("Add", "sum2", {"s1", "g2"}, {"s2"});
  m.Node("Add", "sum3", {"s2", "g3"}, {"s3"});
  m.Node("Sub", "sub", {"s3", "half"}, {"y"});
  m.Node("Conv", "conv", {"img", "k", "bias"}, {"conv"});
  {  // [1,2,3,3] + [2]: numpy aligns [2] with W = 3, which does not broadcast.
    test::OnnxBuilder bad = m;
    bad.Node("Add", "plus_bias", {"conv", "bias"}, {"z"});
    bad.Output("y").Output("z");
    EXPECT_THAT(ImportStatus(bad.model()).message(), HasSubstr("ONNX node 'plus_bias' (Add): broadcasting"));
  }
  m.Int64Initializer("c11", {2, 1, 1});
  m.Node("Reshape", "bias_c11", {"bias", "c11"}, {"bias3"});
  m.Node("Add", "plus_bias", {"conv", "bias3"}, {"z"});
  m.Output("y").Output("z");

  Nd y{{3, 5}, std::vector<double>(15)};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 5; ++j) {
      double p = 0;
      for (int t = 0; t < 4; ++t) p += x.v[i * 4 + t] * w.v[t * 5 + j];
      y.v[i * 5 + j] = p + (p + c_row.v[j]) + (p - c_full.v[i * 5 + j]) + (p + 0.5) - 0.5;
    }
  Nd z = RefConv(img, k, bias.v, 1, {}, 1);
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 9; ++i) z.v[c * 9 + i] += bias.v[c];

  auto imported = onnx_io::ImportOnnx(m.model());
  ASSERT_TRUE(imported.ok()) << imported.status();
  auto session = runtime::Session::Create(*imported->graph);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(onnx_io::LoadInitialValues(*imported, &(*session)->variables()).ok());
  auto out = (*session)->Run({{imported->inputs[0], Tensor::FromVector<float>(Shape(x.dims), F(x))},
                              {imported->inputs[1], Tensor::FromVector<float>(Shape(img.dims), F(img))}},
                             imported->outputs);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_LT(RelativeError((*out)[0], y), 1e-5);
  EXPECT_LT(RelativeError((*out)[1], z), 1e-5);
}


// A PyTorch export with a symbolic batch computes Reshape's target from the
// input's shape (x.view(x.size(0), -1)); with the batch fixed at import it
// folds to constants. Squeeze/Unsqueeze of values are views.
TEST(OnnxImportTest, ShapeArithmeticOfASymbolicBatchFolds) {
  const Nd x = Random({3, 2, 2, 2}, 61);
  test::OnnxBuilder m;
  m.Input("x", {0, 2, 2, 2});
  m.mutable_model().mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()
      ->mutable_dim(0)->set_dim_param("batch");
  m.Int64Initializer("zero", {0}).Int64Initializer("minus_one", {-1});
  m.mutable_model().mutable_graph()->mutable_initializer(0)->clear_dims();  // a scalar index
  m.Node("Shape", "shape", {"x"}, {"s"});
  m.Node("Gather", "gather", {"s", "zero"}, {"n"});
  m.Node("Unsqueeze", "unsqueeze", {"n", "zero_axis"}, {"n1"});
  m.Int64Initializer("zero_axis", {0});
  m.Node("Concat", "target", {"n1", "minus_one"}, {"t"})->add_attribute()->CopyFrom([] {
    onnx::AttributeProto a;
    a.set_name("axis");
    a.set_type(onnx::AttributeProto::INT);
    a.set_i(0);
    return a;
  }());
  m.Node("Reshape", "view", {"x", "t"}, {"flat"});                  // [3,8]
  m.Node("Unsqueeze", "unsqueeze_value", {"flat", "zero_axis"}, {"u"});  // [1,3,8]
  m.Node("Squeeze", "squeeze_value", {"u"}, {"y"});                 // [3,8]
  m.Output("y");
  onnx_io::ImportOptions options;
  options.batch_size = 3;
  auto imported = onnx_io::ImportOnnx(m.model(), options);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->outputs[0].shape(), Shape({3, 8}));
  auto session = runtime::Session::Create(*imported->graph);
  ASSERT_TRUE(session.ok());
  auto y = (*session)->Run({{imported->inputs[0], Tensor::FromVector<float>(Shape(x.dims), F(x))}},
                           {imported->outputs[0]});
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_LT(RelativeError((*y)[0], Nd{{3, 8}, x.v}), 1e-7);
  // Gather of a graph value is not shape arithmetic.
  test::OnnxBuilder g;
  g.Input("x", {2, 3}).Int64Initializer("i", {1});
  g.Node("Gather", "pick", {"x", "i"}, {"y"});
  g.Output("y");
  EXPECT_THAT(onnx_io::ImportOnnx(g.model()).status().message(),
              HasSubstr("ONNX node 'pick' (Gather): only Gather of constants"));
}

TEST(OnnxImportTest, UnsupportedOpNamesNodeAndOp) {
  test::OnnxBuilder m;
  m.Input("x", {1, 4, 8});
  m.Node("Relu", "relu", {"x"}, {"r"});
  m.Node("LSTM", "encoder/lstm", {"r"}, {"y"});
  m.Output("y");
  const absl::Status s = ImportStatus(m.model());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("ONNX node 'encoder/lstm' (LSTM): op 'LSTM' is not supported"));
}

TEST(OnnxImportTest, InexpressibleAttributesAreUnimplementedNamingThem) {
  struct Case {
    std::string op, attr;
    std::vector<int64_t> ints;
    std::string expect;
  };
  for (const Case& c : std::vector<Case>{
           {"Conv", "dilations", {2, 2}, "(Conv): attribute 'dilations' = [2,2]: Strata's convolution and pooling "
                                         "have no dilation"},
           {"Conv", "strides", {1, 2}, "(Conv): attribute 'strides' = [1,2]: Strata's convolution and pooling "
                                       "have one stride"},
           {"Conv", "kernel_size", {3, 3}, "(Conv): attribute 'kernel_size' = [3,3]: this attribute is not "
                                           "supported"},
       }) {
    test::OnnxBuilder m;
    m.Input("x", {1, 1, 8, 8}).Initializer("w", {1, 1, 3, 3}, std::vector<float>(9, 1.0f));
    test::IntsAttr(m.Node(c.op, "layer1/conv", {"x", "w"}, {"y"}), c.attr, c.ints);
    m.Output("y");
    const absl::Status s = ImportStatus(m.model());
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented) << s;
    EXPECT_THAT(s.message(), HasSubstr("ONNX node 'layer1/conv' " + c.expect));
  }
  {  // Clip other than Relu has no exact Strata op.
    test::OnnxBuilder m(9);
    m.Input("x", {1, 4});
    auto* clip = m.Node("Clip", "relu6", {"x"}, {"y"});
    test::FloatAttr(clip, "min", 0.0f);
    test::FloatAttr(clip, "max", 6.0f);
    m.Output("y");
    const absl::Status s = ImportStatus(m.model());
    EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(s.message(), HasSubstr("ONNX node 'relu6' (Clip): attribute 'max' = 6"));
  }
  {  // A non-square pool window.
    test::OnnxBuilder m;
    m.Input("x", {1, 1, 8, 8});
    test::IntsAttr(m.Node("MaxPool", "pool", {"x"}, {"y"}), "kernel_shape", {2, 3});
    m.Output("y");
    EXPECT_THAT(ImportStatus(m.model()).message(),
                HasSubstr("ONNX node 'pool' (MaxPool): attribute 'kernel_shape' = [2,3]: Strata's pools have square"));
  }
  {  // Opsets outside 9..17.
    test::OnnxBuilder m(18);
    m.Input("x", {1, 4});
    m.Node("Relu", "relu", {"x"}, {"y"});
    m.Output("y");
    EXPECT_EQ(ImportStatus(m.model()).code(), absl::StatusCode::kUnimplemented);
    EXPECT_THAT(ImportStatus(m.model()).message(), HasSubstr("opset 18 is not supported"));
  }
}

TEST(OnnxImportTest, MalformedModelsGiveClearErrors) {
  {  // The weights are neither an initializer nor any node's output.
    test::OnnxBuilder m;
    m.Input("x", {1, 1, 8, 8});
    m.Node("Conv", "conv1", {"x", "conv1.weight"}, {"y"});
    m.Output("y");
    const absl::Status s = ImportStatus(m.model());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("ONNX node 'conv1' (Conv): input 1 'conv1.weight' is not a graph input, an "
                                       "initializer or an earlier node's output"));
  }
  {  // Weights of the wrong rank.
    test::OnnxBuilder m;
    m.Input("x", {1, 1, 8, 8}).Initializer("w", {9}, std::vector<float>(9, 1.0f));
    m.Node("Conv", "conv1", {"x", "w"}, {"y"});
    m.Output("y");
    EXPECT_THAT(ImportStatus(m.model()).message(), HasSubstr("ONNX node 'conv1' (Conv): only 2-D convolutions"));
  }
  {  // Weights whose channels do not match the input's: Strata's shape check, named.
    test::OnnxBuilder m;
    m.Input("x", {1, 2, 8, 8}).Initializer("w", {1, 3, 3, 3}, std::vector<float>(27, 1.0f));
    m.Node("Conv", "conv1", {"x", "w"}, {"y"});
    m.Output("y");
    const absl::Status s = ImportStatus(m.model());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("ONNX node 'conv1' (Conv): Conv2D node 'conv1'"));
  }
  {  // An initializer whose data does not fill its dims.
    test::OnnxBuilder m;
    m.Input("x", {1, 4}).Initializer("b", {4}, {1.0f, 2.0f});
    m.Node("Add", "add", {"x", "b"}, {"y"});
    m.Output("y");
    EXPECT_THAT(ImportStatus(m.model()).message(),
                HasSubstr("initializer 'b': dims hold 4 elements but the data has 2"));
  }
  {  // A graph output nothing produces.
    test::OnnxBuilder m;
    m.Input("x", {1, 4});
    m.Node("Relu", "relu", {"x"}, {"r"});
    m.Output("logits");
    EXPECT_THAT(ImportStatus(m.model()).message(), HasSubstr("graph output 'logits' is not produced by any node"));
  }
  {  // A file that is not ONNX.
    const char* tmp = std::getenv("TEST_TMPDIR");
    const std::string path = std::string(tmp != nullptr ? tmp : "/tmp") + "/not.onnx";
    std::ofstream(path) << "this is not ONNX";
    auto s = onnx_io::ImportOnnxFile(path);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(s.status().message(), HasSubstr(path));
    EXPECT_EQ(onnx_io::ImportOnnxFile("no/such.onnx").status().code(), absl::StatusCode::kNotFound);
  }
}

// The committed PyTorch 1.13 exports against PyTorch's outputs.
void ExpectMatchesPyTorch(const std::string& name, int64_t batch) {
  SCOPED_TRACE(name);
  onnx_io::ImportOptions options;
  options.batch_size = batch;
  auto model = onnx_io::ImportOnnxFile("onnx/testdata/" + name + ".onnx", options);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<float> x = test::ReadFloats("onnx/testdata/" + name + "_input.f32");
  const std::vector<float> want = test::ReadFloats("onnx/testdata/" + name + "_output.f32");
  ASSERT_EQ(static_cast<int64_t>(x.size()), model->inputs[0].shape().num_elements());
  auto session = runtime::Session::Create(*model->graph);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE(onnx_io::LoadInitialValues(*model, &(*session)->variables()).ok());
  auto y = (*session)->Run({{model->inputs[0], Tensor::FromVector<float>(model->inputs[0].shape(), x)}},
                           {model->outputs[0]});
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(static_cast<size_t>((*y)[0].num_elements()), want.size());
  Nd ref{(*y)[0].shape().dims(), std::vector<double>(want.begin(), want.end())};
  EXPECT_LT(RelativeError((*y)[0], ref), 1e-4);
}

TEST(OnnxImportTest, PyTorchLeNet5MatchesPyTorch) { ExpectMatchesPyTorch("lenet5", 2); }

TEST(OnnxImportTest, PyTorchSmallCnnMatchesPyTorch) { ExpectMatchesPyTorch("small_cnn", 2); }

TEST(OnnxImportTest, InitializersAreVariablesAndBatchNormStatisticsAreNotTrainable) {
  auto model = onnx_io::ImportOnnxFile("onnx/testdata/small_cnn.onnx", {2});
  ASSERT_TRUE(model.ok()) << model.status();
  int trainable = 0, frozen = 0;
  for (const auto& node : model->graph->nodes()) {
    if (node->op() != "Variable") continue;
    ASSERT_TRUE(model->initial_values.count(node->name())) << node->name();
    auto t = node->Attr<bool>("trainable");
    ASSERT_TRUE(t.ok());
    const bool statistic = node->name().find("running_") != std::string::npos;
    EXPECT_EQ(*t, !statistic) << node->name();
    (*t ? trainable : frozen)++;
  }
  EXPECT_EQ(frozen, 4);  // two batch norms' running mean and variance
  EXPECT_GT(trainable, 10);
}

}  // namespace
}  // namespace strata
