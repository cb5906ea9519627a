// Graph files and checkpoints: round trips, and a Status (never a crash) for
// every kind of damage: truncation, flipped bytes, crafted indexes, failed
// saves that must leave the previous checkpoint intact.
#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "ops/math.h"
#include "ops/state.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "serialization/crc32c.h"
#include "serialization/graph_def.h"

namespace strata::serialization {
namespace {

bool Contains(const absl::Status& s, const std::string& text) {
  return std::string(s.message()).find(text) != std::string::npos;
}

std::string MakeTempDir() {
  std::string tmpl = testing::TempDir() + "/serialization_XXXXXX";
  char* dir = mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), bytes.size());
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.spec() == b.spec() && std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) == 0;
}

template <typename T>
Tensor Random(Shape shape, int seed) {
  Tensor t(DTypeOf<T>(), std::move(shape));
  std::mt19937 rng(seed);
  for (T& v : t.flat<T>()) v = static_cast<T>(std::uniform_real_distribution<double>(-100, 100)(rng));
  return t;
}

// ---------------------------------------------------------------- CRC-32C

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  std::string zeros(32, '\0'), ones(32, '\xff'), up(32, 0), down(32, 0);
  for (int i = 0; i < 32; ++i) up[i] = static_cast<char>(i), down[i] = static_cast<char>(31 - i);
  EXPECT_EQ(Crc32c(zeros.data(), 32), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(ones.data(), 32), 0x62A8AB43u);
  EXPECT_EQ(Crc32c(up.data(), 32), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(down.data(), 32), 0x113FDB5Cu);
  EXPECT_EQ(Crc32c("", 0), 0u);
}

TEST(Crc32c, ExtendSplitsAndPortablePathAgree) {
  std::string data(1000, '\0');
  std::mt19937 rng(1);
  for (char& c : data) c = static_cast<char>(rng());
  const uint32_t whole = Crc32c(data.data(), data.size());
  for (size_t split = 0; split <= 40; ++split) {
    EXPECT_EQ(crc32c::Extend(Crc32c(data.data(), split), data.data() + split, data.size() - split), whole);
  }
  // Every alignment and tail length of the 8-byte loop.
  for (size_t start = 0; start < 9; ++start) {
    for (size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 900}) {
      EXPECT_EQ(crc32c::ExtendPortable(0, data.data() + start, n), crc32c::Extend(0, data.data() + start, n))
          << start << " " << n;
    }
  }
  EXPECT_EQ(crc32c::ExtendPortable(0, "123456789", 9), 0xE3069283u);
}

TEST(Crc32c, MaskRoundTrips) {
  for (uint32_t c : {0u, 1u, 0xE3069283u, 0xffffffffu}) {
    EXPECT_NE(crc32c::Mask(c), c);
    EXPECT_EQ(crc32c::Unmask(crc32c::Mask(c)), c);
  }
}

// ---------------------------------------------------------------- GraphDef

struct Model {
  Graph g;
  Output x, y, loss;
  Node* group = nullptr;
};

void BuildModel(Model& m) {
  Graph& g = m.g;
  m.x = ops::Placeholder(g, "x", {2, 3});
  Output w, b;
  {
    Graph::Scope scope(g, "layer");
    w = ops::Variable(g, "weights", {2, 3}, ops::Initializer::Uniform(-1, 1));
    b = ops::Variable(g, "bias", {2, 3}, ops::Initializer::Constant(0.5), /*trainable=*/false);
  }
  Output c = ops::Const(g, Tensor::FromVector<float>({2, 3}, {1, -2, 3, -4, 5, -6}), "c");
  m.y = ops::Add(g, ops::Add(g, ops::Mul(g, m.x, w), c), b, "y");
  m.loss = ops::Sum(g, ops::Mul(g, m.y, ops::ScalarConst(g, 0.25f)), "loss");
  m.group = ops::Group(g, {m.loss.node}, "step");
  ASSERT_TRUE(g.status().ok()) << g.status();
}

std::vector<Tensor> RunModel(const Graph& g, runtime::Session& s) {
  Tensor x = Tensor::FromVector<float>({2, 3}, {0.5f, 1, 1.5f, -2, 2.5f, 3});
  auto out = s.Run({{*g.FindOutput("x:0"), x}}, {*g.FindOutput("y:0"), *g.FindOutput("loss:0")});
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : std::vector<Tensor>{};
}

TEST(GraphDef, RoundTripThroughAFileRunsTheSame) {
  Model m;
  BuildModel(m);
  const std::string dir = MakeTempDir();
  ASSERT_TRUE(SaveGraph(m.g, dir + "/model.pb").ok());
  auto loaded = LoadGraph(dir + "/model.pb");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const Graph& g2 = **loaded;

  ASSERT_EQ(g2.num_nodes(), m.g.num_nodes());
  for (int i = 0; i < m.g.num_nodes(); ++i) {
    const Node& a = *m.g.nodes()[i];
    const Node& b = *g2.nodes()[i];
    EXPECT_EQ(a.name(), b.name());
    EXPECT_EQ(a.op(), b.op());
    EXPECT_EQ(a.output_specs(), b.output_specs()) << a.name();
    ASSERT_EQ(a.inputs().size(), b.inputs().size());
    for (size_t k = 0; k < a.inputs().size(); ++k) EXPECT_EQ(a.inputs()[k].name(), b.inputs()[k].name());
    ASSERT_EQ(a.control_inputs().size(), b.control_inputs().size());
    for (size_t k = 0; k < a.control_inputs().size(); ++k) {
      EXPECT_EQ(a.control_inputs()[k]->name(), b.control_inputs()[k]->name());
    }
    ASSERT_EQ(a.attrs().values().size(), b.attrs().values().size()) << a.name();
    for (const auto& [key, value] : a.attrs().values()) {
      const AttrValue& other = b.attrs().values().at(key);
      EXPECT_EQ(AttrValueToString(value), AttrValueToString(other)) << a.name() << "." << key;
      if (auto* t = std::get_if<Tensor>(&value)) {
        EXPECT_TRUE(SameBytes(*t, std::get<Tensor>(other)));
      }
    }
  }
  EXPECT_EQ(ToGraphDef(g2).SerializeAsString().size(), ToGraphDef(m.g).SerializeAsString().size());

  // A model is a graph file plus a checkpoint: train-side values restored into
  // the loaded graph give the same outputs.
  auto s1 = runtime::Session::Create(m.g);
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE((*s1)->InitializeVariables(42).ok());
  ASSERT_TRUE(SaveCheckpoint(dir + "/model.ckpt", SnapshotVariables((*s1)->variables())).ok());
  auto s2 = runtime::Session::Create(g2);
  ASSERT_TRUE(s2.ok()) << s2.status();
  auto ckpt = LoadCheckpoint(dir + "/model.ckpt");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  ASSERT_TRUE(RestoreVariables(*ckpt, g2, &(*s2)->variables()).ok());
  std::vector<Tensor> a = RunModel(m.g, **s1), b = RunModel(g2, **s2);
  ASSERT_EQ(a.size(), 2u);
  ASSERT_EQ(b.size(), 2u);
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(SameBytes(a[i], b[i])) << i;
}

TEST(GraphDef, SavingIsDeterministic) {
  Model m;
  BuildModel(m);
  std::string first, second;
  ASSERT_TRUE(SerializeDeterministic(ToGraphDef(m.g), &first));
  ASSERT_TRUE(SerializeDeterministic(ToGraphDef(m.g), &second));
  EXPECT_EQ(first, second);
}

proto::NodeDef* AddNodeDef(proto::GraphDef& def, const std::string& name, const std::string& op,
                           std::vector<std::string> inputs = {}) {
  proto::NodeDef* n = def.add_node();
  n->set_name(name);
  n->set_op(op);
  for (auto& in : inputs) n->add_input(in);
  return n;
}

proto::NodeDef* AddPlaceholderDef(proto::GraphDef& def, const std::string& name) {
  proto::NodeDef* n = AddNodeDef(def, name, "Placeholder");
  (*n->mutable_attr())["shape"].mutable_list()->add_i(2);
  return n;
}

TEST(GraphDef, UnknownOpIsNotFoundListingKnownOps) {
  proto::GraphDef def;
  def.set_version(kGraphDefVersion);
  AddNodeDef(def, "mystery", "NoSuchOp");
  Graph g;
  absl::Status s = FromGraphDef(def, &g);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, "'mystery'") && Contains(s, "NoSuchOp") && Contains(s, "Placeholder") &&
              Contains(s, "Add"))
      << s;
}

TEST(GraphDef, InputsMustPrecedeTheirConsumers) {
  proto::GraphDef def;
  def.set_version(kGraphDefVersion);
  AddNodeDef(def, "sum", "Add", {"a:0", "b:0"});
  AddPlaceholderDef(def, "a");
  AddPlaceholderDef(def, "b");
  Graph g;
  absl::Status s = FromGraphDef(def, &g);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "'sum'") && Contains(s, "'a:0'")) << s;

  proto::GraphDef ok;
  ok.set_version(kGraphDefVersion);
  AddPlaceholderDef(ok, "a");
  AddNodeDef(ok, "sum", "Add", {"a:0", "a"});  // a bare name means output 0
  Graph g2;
  EXPECT_TRUE(FromGraphDef(ok, &g2).ok());

  proto::GraphDef range;
  range.set_version(kGraphDefVersion);
  AddPlaceholderDef(range, "a");
  AddNodeDef(range, "sum", "Add", {"a:0", "a:3"});
  Graph g3;
  s = FromGraphDef(range, &g3);
  EXPECT_TRUE(Contains(s, "'sum'") && Contains(s, "a:3")) << s;

  proto::GraphDef control;
  control.set_version(kGraphDefVersion);
  AddNodeDef(control, "step", "Group")->add_control_input("missing");
  Graph g4;
  s = FromGraphDef(control, &g4);
  EXPECT_TRUE(Contains(s, "'step'") && Contains(s, "'missing'")) << s;
}

TEST(GraphDef, BadAttributesAndVersionsAreRejected) {
  auto const_def = [](int dtype, std::vector<int64_t> dims, size_t bytes) {
    proto::GraphDef def;
    def.set_version(kGraphDefVersion);
    proto::TensorProto* t = (*AddNodeDef(def, "k", "Const")->mutable_attr())["value"].mutable_tensor();
    t->set_dtype(static_cast<proto::DataType>(dtype));
    for (int64_t d : dims) t->add_dims(d);
    t->set_data(std::string(bytes, '\0'));
    return def;
  };
  struct Case {
    proto::GraphDef def;
    std::string text;
  };
  std::vector<Case> cases = {
      {const_def(1, {2, 3}, 24), ""},
      {const_def(9, {2}, 8), "unknown dtype 9"},
      {const_def(1, {2, 0}, 0), "dimension <= 0"},
      {const_def(1, {2, -3}, 24), "dimension <= 0"},
      {const_def(1, {1LL << 40, 1LL << 40}, 8), "too many elements"},
      {const_def(1, {2, 3}, 23), "23 bytes, expected 24"},
  };
  for (auto& c : cases) {
    Graph g;
    absl::Status s = FromGraphDef(c.def, &g);
    if (c.text.empty()) {
      EXPECT_TRUE(s.ok()) << s;
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(Contains(s, "'k'") && Contains(s, "'value'") && Contains(s, c.text)) << s;
  }
  proto::GraphDef unset;
  (*AddNodeDef(unset, "p", "Placeholder")->mutable_attr())["shape"];
  Graph g;
  EXPECT_TRUE(Contains(FromGraphDef(unset, &g), "version 0")) << FromGraphDef(unset, &g);
  unset.set_version(kGraphDefVersion);
  absl::Status s = FromGraphDef(unset, &g);
  EXPECT_TRUE(Contains(s, "'p'") && Contains(s, "no value")) << s;
}

TEST(GraphDef, FileErrorsNameTheFile) {
  const std::string dir = MakeTempDir();
  auto missing = LoadGraph(dir + "/absent.pb");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.status(), dir + "/absent.pb")) << missing.status();
  WriteAll(dir + "/junk.pb", "\xff\xff\xff\xff not a proto");
  auto junk = LoadGraph(dir + "/junk.pb");
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(junk.status(), dir + "/junk.pb")) << junk.status();
  Graph bad;
  ops::Add(bad, ops::Placeholder(bad, "a", {2}), ops::Placeholder(bad, "b", {3}));
  EXPECT_EQ(SaveGraph(bad, dir + "/bad.pb").code(), absl::StatusCode::kFailedPrecondition);
}

// ---------------------------------------------------------------- Checkpoints

std::map<std::string, Tensor> SampleTensors() {
  return {
      {"conv1/weights", Random<float>({4, 3, 3, 3}, 1)},
      {"fc/bias", Random<double>({7}, 2)},
      {"labels", Random<int32_t>({5}, 3)},
      {"odd", Random<uint8_t>({13}, 4)},  // not a multiple of anything
      {"step", Tensor::Scalar<int32_t>(1200)},
  };
}

void ExpectSameTensors(const std::map<std::string, Tensor>& a, const std::map<std::string, Tensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, t] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(SameBytes(t, b.at(name))) << name;
  }
}

TEST(Checkpoint, RoundTripIsBitExact) {
  const std::string path = MakeTempDir() + "/a.ckpt";
  auto tensors = SampleTensors();
  std::map<std::string, std::string> meta = {{"step", "1200"}, {"model", "lenet"}};
  ASSERT_TRUE(SaveCheckpoint(path, tensors, meta).ok());
  auto ckpt = LoadCheckpoint(path);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  ExpectSameTensors(tensors, ckpt->tensors);
  EXPECT_EQ(ckpt->metadata, meta);
  EXPECT_EQ(ckpt->path, path);

  const std::string bytes = ReadAll(path);
  EXPECT_EQ(bytes.substr(0, 8), "STRATACK");
  EXPECT_EQ(bytes.substr(bytes.size() - 8), "STRATACK");
  // The first tensor (in name order) starts at the first 64-byte boundary.
  EXPECT_EQ(std::memcmp(bytes.data() + 64, tensors["conv1/weights"].raw_data(), 16), 0);

  // Saving again replaces the file; an empty checkpoint is valid too.
  ASSERT_TRUE(SaveCheckpoint(path, {}).ok());
  auto empty = LoadCheckpoint(path);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->tensors.empty());
}

TEST(Checkpoint, InvalidTensorsAreRefusedBeforeWriting) {
  const std::string dir = MakeTempDir();
  absl::Status s = SaveCheckpoint(dir + "/a.ckpt", {{"w", Tensor()}});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "'w'")) << s;
  s = SaveCheckpoint(dir + "/a.ckpt", {{"z", Tensor(DType::kFloat32, {0})}});
  EXPECT_TRUE(Contains(s, "'z'")) << s;
  EXPECT_TRUE(ListDir(dir).empty());
}

class DamagedCheckpoint : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    good_ = dir_ + "/good.ckpt";
    bad_ = dir_ + "/bad.ckpt";
    tensors_ = SampleTensors();
    ASSERT_TRUE(SaveCheckpoint(good_, tensors_, {{"step", "7"}}).ok());
    bytes_ = ReadAll(good_);
  }
  absl::Status LoadWith(const std::string& bytes) {
    WriteAll(bad_, bytes);
    return LoadCheckpoint(bad_).status();
  }
  uint64_t IndexOffset() const {
    uint64_t v;
    std::memcpy(&v, bytes_.data() + bytes_.size() - 28, 8);
    return v;
  }
  std::string dir_, good_, bad_, bytes_;
  std::map<std::string, Tensor> tensors_;
};

TEST_F(DamagedCheckpoint, TruncationAtAnyPointIsDataLoss) {
  for (size_t n = 0; n < bytes_.size(); n += (n + 7 < bytes_.size() ? 7 : 1)) {
    absl::Status s = LoadWith(bytes_.substr(0, n));
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n << ": " << s;
    EXPECT_TRUE(Contains(s, bad_)) << s;
  }
  EXPECT_TRUE(LoadWith(bytes_ + "trailing").code() == absl::StatusCode::kDataLoss);
}

TEST_F(DamagedCheckpoint, FlippedDataByteNamesTheTensor) {
  std::string bytes = bytes_;
  bytes[64 + 5] ^= 0x10;  // inside conv1/weights, the first tensor
  absl::Status s = LoadWith(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, bad_) && Contains(s, "'conv1/weights'") && Contains(s, "CRC mismatch (stored 0x")) << s;
}

TEST_F(DamagedCheckpoint, FlippedIndexByteFailsTheIndexCrc) {
  std::string bytes = bytes_;
  bytes[IndexOffset() + 3] ^= 0x01;
  absl::Status s = LoadWith(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, bad_) && Contains(s, "index CRC mismatch")) << s;
}

TEST_F(DamagedCheckpoint, WrongMagicsAndVersions) {
  std::string bytes = bytes_;
  std::memcpy(bytes.data(), "NOTACKPT", 8);
  absl::Status s = LoadWith(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(Contains(s, bad_) && Contains(s, "magic")) << s;

  bytes = bytes_;
  bytes[bytes.size() - 1] = 'X';
  s = LoadWith(bytes);
  EXPECT_TRUE(Contains(s, "footer")) << s;

  bytes = bytes_;
  bytes[8] = 2;
  s = LoadWith(bytes);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "version 2")) << s;
}

TEST_F(DamagedCheckpoint, EveryFlippedByteFailsOrIsHarmlessPadding) {
  int failures = 0;
  for (size_t i = 0; i < bytes_.size(); ++i) {
    std::string bytes = bytes_;
    bytes[i] ^= 0x5a;
    WriteAll(bad_, bytes);
    auto ckpt = LoadCheckpoint(bad_);
    if (ckpt.ok()) {
      ExpectSameTensors(tensors_, ckpt->tensors);  // only alignment padding is unchecked
    } else {
      ++failures;
      EXPECT_TRUE(Contains(ckpt.status(), bad_)) << ckpt.status();
    }
  }
  EXPECT_GT(failures, static_cast<int>(bytes_.size() / 2));
}

TEST(Checkpoint, MissingFileIsNotFound) {
  const std::string path = MakeTempDir() + "/never_saved.ckpt";
  auto ckpt = LoadCheckpoint(path);
  EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(ckpt.status(), path)) << ckpt.status();
}

// A file in the checkpoint format around a hand-made index, with correct
// CRCs, so the entry checks behind them are reached.
std::string CraftFile(const std::string& data, const proto::CheckpointIndex& index) {
  auto le = [](uint64_t v, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
    return s;
  };
  std::string file = std::string("STRATACK") + le(1, 4) + data;
  std::string idx = index.SerializeAsString();
  const uint64_t offset = file.size();
  file += idx + le(offset, 8) + le(idx.size(), 8) + le(crc32c::Mask(Crc32c(idx.data(), idx.size())), 4) + "STRATACK";
  return file;
}

TEST(Checkpoint, CraftedIndexesAreRejectedWithoutHugeAllocations) {
  const std::string path = MakeTempDir() + "/crafted.ckpt";
  std::string data(64, '\0');
  for (int i = 0; i < 64; ++i) data[i] = static_cast<char>(i * 37 + 1);
  auto entry = [&](const std::string& name, int dtype, std::vector<int64_t> dims, uint64_t offset,
                   uint64_t length) {
    proto::TensorEntry e;
    e.set_name(name);
    e.set_dtype(static_cast<proto::DataType>(dtype));
    for (int64_t d : dims) e.add_dims(d);
    e.set_offset(offset);
    e.set_length(length);
    e.set_crc32c(crc32c::Mask(Crc32c(data.data(), std::min<uint64_t>(length, 16))));
    return e;
  };
  struct Case {
    std::vector<proto::TensorEntry> entries;
    std::string text;
  };
  const int64_t big = int64_t{1} << 40;
  std::vector<Case> cases = {
      {{entry("w", 1, {4}, 12, 16)}, ""},
      {{entry("w", 7, {4}, 12, 16)}, "unknown dtype 7"},
      {{entry("w", 1, {0}, 12, 0)}, "dimension <= 0"},
      {{entry("w", 1, {big, big}, 12, 16)}, "too many elements"},
      {{entry("w", 1, {big}, 12, uint64_t(big) * 4)}, "outside the data section"},
      {{entry("w", 1, {4}, 12, 15)}, "length 15 does not match float32[4] (16 bytes)"},
      {{entry("w", 1, {4}, 70, 16)}, "outside the data section"},
      {{entry("w", 1, {4}, ~uint64_t{0} - 4, 16)}, "outside the data section"},
      {{entry("w", 1, {4}, 0, 16)}, "outside the data section"},
      {{entry("w", 1, {4}, 12, 16), entry("w", 1, {4}, 12, 16)}, "more than once"},
      {{entry("", 1, {4}, 12, 16)}, "no name"},
      {{entry("w", 1, {4}, 13, 16)}, "CRC mismatch"},
  };
  for (const Case& c : cases) {
    proto::CheckpointIndex index;
    index.set_version(1);
    for (const auto& e : c.entries) *index.add_tensor() = e;
    WriteAll(path, CraftFile(data, index));
    auto ckpt = LoadCheckpoint(path);
    if (c.text.empty()) {
      ASSERT_TRUE(ckpt.ok()) << ckpt.status();
      continue;
    }
    EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kDataLoss) << c.text;
    EXPECT_TRUE(Contains(ckpt.status(), path) && Contains(ckpt.status(), c.text)) << c.text << " vs " << ckpt.status();
    if (!c.entries[0].name().empty()) {
      EXPECT_TRUE(Contains(ckpt.status(), "tensor 'w'")) << ckpt.status();
    }
  }
}

// ---------------------------------------------------------------- Restore

TEST(Checkpoint, RestoreChecksEveryVariableBeforeChangingTheStore) {
  Graph g;
  ops::Variable(g, "a", {3});
  ops::Variable(g, "w", {2, 3});
  ASSERT_TRUE(g.status().ok());
  const std::string path = MakeTempDir() + "/r.ckpt";
  ASSERT_TRUE(SaveCheckpoint(path, {{"a", Random<float>({3}, 1)}, {"w", Random<float>({3, 2}, 2)}}).ok());
  auto ckpt = LoadCheckpoint(path);
  ASSERT_TRUE(ckpt.ok());
  runtime::VariableStore store;
  absl::Status s = RestoreVariables(*ckpt, g, &store);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s, path) && Contains(s, "'w'") && Contains(s, "float32[3,2]") && Contains(s, "float32[2,3]"))
      << s;
  EXPECT_FALSE(store.Has("a"));  // nothing was set before the error

  ckpt->tensors.erase("w");
  s = RestoreVariables(*ckpt, g, &store);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, "'w'") && Contains(s, "float32[2,3]")) << s;

  ckpt->tensors["w"] = Random<float>({2, 3}, 3);
  ckpt->tensors["w/momentum"] = Random<float>({2, 3}, 4);  // another graph's slot: ignored
  ASSERT_TRUE(RestoreVariables(*ckpt, g, &store).ok());
  EXPECT_TRUE(SameBytes(*store.Get("w"), ckpt->tensors["w"]));
  EXPECT_FALSE(store.Has("w/momentum"));
  auto snapshot = SnapshotVariables(store);
  ASSERT_TRUE(store.Set("a", Random<float>({3}, 9)).ok());
  EXPECT_TRUE(SameBytes(snapshot["a"], ckpt->tensors["a"]));  // a snapshot is a copy
}

// ---------------------------------------------------------------- Crash safety

class FailedSave : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/model.ckpt";
    old_ = SampleTensors();
    ASSERT_TRUE(SaveCheckpoint(path_, old_).ok());
  }
  void ExpectOldCheckpointIntact() {
    auto ckpt = LoadCheckpoint(path_);
    ASSERT_TRUE(ckpt.ok()) << ckpt.status();
    ExpectSameTensors(old_, ckpt->tensors);
  }
  std::string TempName() const { return path_ + ".tmp." + std::to_string(getpid()); }
  std::map<std::string, Tensor> New() const { return {{"big", Random<float>({256, 256}, 5)}}; }
  std::string dir_, path_;
  std::map<std::string, Tensor> old_;
};

TEST_F(FailedSave, DirectoryDoesNotExist) {
  const std::string path = dir_ + "/missing/model.ckpt";
  absl::Status s = SaveCheckpoint(path, New());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(s, path) && Contains(s, "No such file or directory")) << s;
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"model.ckpt"});
}

TEST_F(FailedSave, TemporaryNameIsADirectory) {
  ASSERT_EQ(mkdir(TempName().c_str(), 0755), 0);
  absl::Status s = SaveCheckpoint(path_, New());
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, path_) && Contains(s, "temporary file")) << s;
  ExpectOldCheckpointIntact();
  struct stat st;
  ASSERT_EQ(stat(TempName().c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));  // someone else's directory: left alone
  rmdir(TempName().c_str());
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"model.ckpt"});
}

TEST_F(FailedSave, WriteFailsHalfWay) {
  // A file size limit makes write() fail with EFBIG part-way through the
  // data section: the temporary file exists and is partly written.
  struct sigaction ignore = {}, previous = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &previous), 0);
  struct rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  struct rlimit limited = saved;
  limited.rlim_cur = 100000;  // the new checkpoint is about 262 KB
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limited), 0);
  absl::Status s = SaveCheckpoint(path_, New());
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
  sigaction(SIGXFSZ, &previous, nullptr);

  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, path_) && Contains(s, "File too large")) << s;
  ExpectOldCheckpointIntact();
  EXPECT_EQ(ListDir(dir_), std::vector<std::string>{"model.ckpt"});  // no .tmp left
}

}  // namespace
}  // namespace strata::serialization
