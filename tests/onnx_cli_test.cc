// `strata import`, `export`, `run` and `summary` of ONNX files, through the
// real binary, on the committed PyTorch LeNet-5 export.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "onnx/import.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "serialization/graph_def.h"
#include "tests/command_util.h"
#include "tests/onnx_test_util.h"
#include "viz/png.h"
#include "zoo/model.h"

namespace strata {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

using test::CommandResult;

CommandResult Strata(const std::string& args) { return test::RunStrata(args); }

std::string Dir(const std::string& name) { return test::FreshDir("onnx_cli_test", name); }

constexpr char kLeNet[] = "onnx/testdata/lenet5.onnx";

TEST(OnnxCli, ImportWritesAGraphFileAndCheckpointThatRunLikeTheOnnxModel) {
  const std::string dir = Dir("import");
  CommandResult r = Strata(absl::StrCat("import ", kLeNet, " --out=", dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("61,706 parameters"));
  auto graph = serialization::LoadGraph(dir + "/graph.pb");
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto ckpt = serialization::LoadCheckpoint(dir + "/variables.ckpt");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  auto session = runtime::Session::Create(**graph);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE(serialization::RestoreVariables(*ckpt, **graph, &(*session)->variables()).ok());
  auto input = (*graph)->FindOutput(ckpt->metadata.at("inputs"));
  auto output = (*graph)->FindOutput(ckpt->metadata.at("outputs"));
  ASSERT_TRUE(input.ok() && output.ok()) << input.status() << output.status();
  const std::vector<float> x = test::ReadFloats("onnx/testdata/lenet5_input.f32");
  const std::vector<float> want = test::ReadFloats("onnx/testdata/lenet5_output.f32");
  auto y = (*session)->Run({{*input, Tensor::FromVector<float>(input->shape(), x)}}, {*output});
  ASSERT_TRUE(y.ok()) << y.status();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR((*y)[0].data<float>()[i], want[i], 1e-4);
}

TEST(OnnxCli, RunPrintsAndWritesTheOutput) {
  const std::string out = Dir("run") + "/y.f32";
  CommandResult r = Strata(absl::StrCat("run --model=", kLeNet, " --input=onnx/testdata/lenet5_input.f32 --out=", out));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("output float32[2,10]"));
  EXPECT_THAT(r.output, HasSubstr("example 1: largest output"));
  const std::vector<float> got = test::ReadFloats(out), want = test::ReadFloats("onnx/testdata/lenet5_output.f32");
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4);
  // Not a whole number of examples.
  r = Strata(absl::StrCat("run --model=", kLeNet, " --input=onnx/testdata/lenet5_output.f32"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("not a whole number of 3136-byte float32 examples of shape [1,28,28]"));
}

TEST(OnnxCli, SummaryOfAnOnnxFileCountsItsLayers) {
  CommandResult r = Strata(absl::StrCat("summary --model=", kLeNet));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("61,706"));  // the zoo's LeNet-5 has the same parameters
  EXPECT_THAT(r.output, HasSubstr("c1"));
  CommandResult plan = Strata(absl::StrCat("summary --model=", kLeNet, " --plan"));
  EXPECT_EQ(plan.exit_code, 1) << plan.output;
  EXPECT_THAT(plan.output, HasSubstr("is an ONNX model"));
}

TEST(OnnxCli, ExportWritesACheckedModelThatImportsToTheCheckpointsOutputs) {
  const std::string dir = Dir("export");
  // A LeNet-5 checkpoint as `strata train` writes one (the model named in it).
  Graph g;
  auto m = zoo::BuildModel("lenet5", g, {.batch_size = 1});
  ASSERT_TRUE(m.ok());
  auto session = runtime::Session::Create(g);
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->InitializeVariables(5).ok());
  ASSERT_TRUE(serialization::SaveCheckpoint(dir + "/lenet5.ckpt",
                                            serialization::SnapshotVariables((*session)->variables()),
                                            {{"model", "lenet5"}})
                  .ok());
  CommandResult r = Strata(absl::StrCat("export --checkpoint=", dir, "/lenet5.ckpt --out=", dir, "/lenet5.onnx"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("checked"));

  auto imported = onnx_io::ImportOnnxFile(dir + "/lenet5.onnx");
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->output_names[0], "logits");
  auto reimported = runtime::Session::Create(*imported->graph);
  ASSERT_TRUE(reimported.ok());
  ASSERT_TRUE(onnx_io::LoadInitialValues(*imported, &(*reimported)->variables()).ok());
  const std::vector<float> x = test::ReadFloats("onnx/testdata/lenet5_input.f32");
  const Tensor one = Tensor::FromVector<float>(m->images.shape(), x);  // the first example
  absl::StatusOr<std::vector<Tensor>> want = (*session)->Run({{m->images, one}}, {m->logits});
  auto got = (*reimported)->Run({{imported->inputs[0], one}}, {imported->outputs[0]});
  ASSERT_TRUE(want.ok() && got.ok());
  for (int i = 0; i < 10; ++i) EXPECT_EQ((*got)[0].data<float>()[i], (*want)[0].data<float>()[i]);

  // `run` on a PNG of the input size: pixels / 255, normalised by the flags.
  viz::Image digit(28, 28, 1);
  std::vector<float> pixels(28 * 28);
  for (int i = 0; i < 28 * 28; ++i) {
    digit.pixels[i] = static_cast<uint8_t>((i * 37) % 256);
    pixels[i] = (digit.pixels[i] / 255.0f - 0.5f) / 0.25f;
  }
  ASSERT_TRUE(viz::WritePng(dir + "/digit.png", digit).ok());
  r = Strata(absl::StrCat("run --model=", dir, "/lenet5.onnx --input=", dir, "/digit.png --input_mean=0.5 "
                          "--input_std=0.25 --out=", dir, "/digit.f32"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  want = (*session)->Run({{m->images, Tensor::FromVector<float>(m->images.shape(), pixels)}}, {m->logits});
  ASSERT_TRUE(want.ok());
  const std::vector<float> from_png = test::ReadFloats(dir + "/digit.f32");
  ASSERT_EQ(from_png.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(from_png[i], (*want)[0].data<float>()[i], 1e-5);
  r = Strata(absl::StrCat("run --model=", kLeNet, " --input=", dir, "/digit.png"));
  EXPECT_EQ(r.exit_code, 1);  // the committed export has a fixed batch of 2
  EXPECT_THAT(r.output, HasSubstr("has a fixed batch"));

  r = Strata(absl::StrCat("export --checkpoint=", dir, "/missing.ckpt --out=", dir, "/x.onnx"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("missing.ckpt"));
}

}  // namespace
}  // namespace strata
