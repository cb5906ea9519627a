// ONNX export: zoo models with their variables become ONNX models that
// onnx::checker accepts and that ImportOnnx reads back to the same outputs.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

using ::testing::HasSubstr;

Tensor RandomImages(const Shape& shape, uint32_t seed) {
  Tensor t(DType::kFloat32, shape);
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& v : t.flat<float>()) v = n(rng);
  return t;
}

// Exports `name` (initialised with seed 7), checks it, round-trips it through
// bytes, re-imports it and compares the logits on one batch.
void ExpectRoundTrip(const std::string& name, zoo::ModelConfig config) {
  SCOPED_TRACE(name);
  Graph g;
  auto model = zoo::BuildModel(name, g, config);
  ASSERT_TRUE(model.ok()) << model.status();
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->InitializeVariables(7).ok());
  auto exported = onnx_io::ExportOnnx(g, {model->logits}, (*session)->variables().values());
  ASSERT_TRUE(exported.ok()) << exported.status();
  ASSERT_TRUE(onnx_io::CheckOnnxModel(*exported).ok()) << onnx_io::CheckOnnxModel(*exported);
  std::string bytes;
  ASSERT_TRUE(exported->SerializeToString(&bytes));
  onnx::ModelProto parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));

  auto imported = onnx_io::ImportOnnx(parsed);
  ASSERT_TRUE(imported.ok()) << imported.status();
  ASSERT_EQ(imported->inputs.size(), 1u);
  EXPECT_EQ(imported->inputs[0].spec(), model->images.spec());
  EXPECT_EQ(imported->outputs[0].spec(), model->logits.spec());
  // Every variable keeps its name, so a Strata checkpoint of the model
  // restores into the imported graph.
  for (const auto& [var, value] : imported->initial_values) {
    EXPECT_TRUE((*session)->variables().Has(var)) << var;
  }
  auto reimported = runtime::Session::Create(*imported->graph);
  ASSERT_TRUE(reimported.ok()) << reimported.status();
  ASSERT_TRUE(onnx_io::LoadInitialValues(*imported, &(*reimported)->variables()).ok());

  const Tensor x = RandomImages(model->images.shape(), 3);
  auto want = (*session)->Run({{model->images, x}}, {model->logits});
  auto got = (*reimported)->Run({{imported->inputs[0], x}}, {imported->outputs[0]});
  ASSERT_TRUE(want.ok()) << want.status();
  ASSERT_TRUE(got.ok()) << got.status();
  const auto w = (*want)[0].flat<float>(), r = (*got)[0].flat<float>();
  ASSERT_EQ(w.size(), r.size());
  for (size_t i = 0; i < w.size(); ++i) ASSERT_EQ(w[i], r[i]) << "logit " << i;
}

TEST(OnnxExportTest, LeNet5RoundTripsToIdenticalOutputs) { ExpectRoundTrip("lenet5", {.batch_size = 4}); }

// Batch norm, residual additions, global average pooling.
TEST(OnnxExportTest, CifarResNetRoundTripsToIdenticalOutputs) {
  ExpectRoundTrip("cifar_resnet20", {.batch_size = 2});
}

// Grouped convolutions, LRN, dropout, large fully connected layers.
TEST(OnnxExportTest, AlexNetTwoTowersRoundTripsToIdenticalOutputs) {
  ExpectRoundTrip("alexnet", {.batch_size = 1, .groups = 2});
}

// Inception concatenations, ceil-mode pooling, floor-mode convolutions.
TEST(OnnxExportTest, GoogLeNetRoundTripsToIdenticalOutputs) { ExpectRoundTrip("googlenet", {.batch_size = 1}); }

// Every zoo model exports and passes the checker, and its export imports
// back to a graph with the same input and output shapes (zero weights: the
// values do not matter here). Models that take 64x64 images are built at
// that size, which keeps the VGGs' first fully connected layer small; the
// others at their own. //onnx:export_zoo runs every model at full size with
// random weights and compares the logits.
TEST(OnnxExportTest, EveryZooModelExportsPassesTheCheckerAndReimports) {
  for (const std::string& name : zoo::ModelNames()) {
    SCOPED_TRACE(name);
    auto g = std::make_unique<Graph>();
    auto model = zoo::BuildModel(name, *g, {.batch_size = 1, .image_size = 64});
    if (!model.ok()) {
      g = std::make_unique<Graph>();
      model = zoo::BuildModel(name, *g, {.batch_size = 1});
    }
    ASSERT_TRUE(model.ok()) << model.status();
    std::map<std::string, Tensor> values;
    for (const auto& node : g->nodes()) {
      if (node->op() == "Variable") values[node->name()] = Tensor(node->output_spec(0));
    }
    auto exported = onnx_io::ExportOnnx(*g, {model->logits}, values);
    ASSERT_TRUE(exported.ok()) << exported.status();
    ASSERT_TRUE(onnx_io::CheckOnnxModel(*exported).ok()) << onnx_io::CheckOnnxModel(*exported);
    values.clear();
    auto imported = onnx_io::ImportOnnx(*exported);
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_EQ(imported->inputs[0].spec(), model->images.spec());
    EXPECT_EQ(imported->outputs[0].spec(), model->logits.spec());
    EXPECT_EQ(zoo::CountTrainableParameters(*imported->graph), zoo::CountTrainableParameters(*g));
  }
}

TEST(OnnxExportTest, TrainingOpsAreUnimplementedNamingTheNode) {
  Graph g;
  auto model = zoo::BuildModel("lenet5", g, {.batch_size = 2});
  ASSERT_TRUE(model.ok());
  std::map<std::string, Tensor> values;
  for (const auto& node : g.nodes()) {
    if (node->op() == "Variable") values[node->name()] = Tensor(node->output_spec(0));
  }
  auto exported = onnx_io::ExportOnnx(g, {model->predictions}, values);
  EXPECT_EQ(exported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(exported.status().message(), HasSubstr("ArgMax node 'predictions': cannot be exported to ONNX"));
  // The loss needs the int32 labels, which are not an image input.
  exported = onnx_io::ExportOnnx(g, {model->loss}, values);
  EXPECT_EQ(exported.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(exported.status().message(), HasSubstr("Placeholder node 'labels'"));
  // A variable without a value.
  values.erase("c1/weights");
  exported = onnx_io::ExportOnnx(g, {model->logits}, values);
  EXPECT_EQ(exported.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(exported.status().message(), HasSubstr("Variable node 'c1/weights'"));
}

}  // namespace
}  // namespace strata
