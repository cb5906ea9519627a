// The `strata` command line as a user runs it: --config files (and flags
// overriding them) and ensembles, through the real binary.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "data/mnist.h"
#include "serialization/checkpoint.h"
#include "tests/command_util.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

CommandResult Strata(const std::string& args) { return test::RunStrata(args); }
std::string Dir(const std::string& name) { return test::FreshDir("cli_test", name); }

std::string Write(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

TEST(Cli, ConfigFileSetsTheFlagsAndTheCommandLineWins) {
  const std::string dir = Dir("config");
  const std::string config = Write(dir + "/train.pbtxt", absl::StrCat(R"(
    # LeNet-5, briefly.
    model: "lenet5"
    data: ")", data::DefaultMnistDir(), R"("
    epochs: 1
    batch: 32
    max_examples: 256
    seed: 3
    optimizer: "adam"
    lr: 0.001
    lr_decay_epochs: []
    checkpoint: ")", dir, R"(/model.ckpt"
  )"));
  const CommandResult run = Strata(absl::StrCat("train --config=", config, " --seed=7"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto ckpt = serialization::LoadCheckpoint(dir + "/model.ckpt");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status() << "\n" << run.output;
  EXPECT_EQ(ckpt->metadata.at("batch_size"), "32");
  EXPECT_EQ(ckpt->metadata.at("train_examples"), "256");
  EXPECT_EQ(ckpt->metadata.at("optimizer"), "adam");
  EXPECT_EQ(ckpt->metadata.at("seed"), "7");  // the command line's, not the file's 3
}

TEST(Cli, BadConfigFilesAreClearErrors) {
  const std::string dir = Dir("bad_config");
  const std::string syntax = Write(dir + "/syntax.pbtxt", "model: \"lenet5\"\nepochs: one\n");
  CommandResult run = Strata(absl::StrCat("train --config=", syntax));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find(syntax), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("line 2 column 9"), std::string::npos) << run.output;

  const std::string unknown = Write(dir + "/unknown.pbtxt", "epochz: 3\n");
  run = Strata(absl::StrCat("train --config=", unknown));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("epochz"), std::string::npos) << run.output;

  run = Strata(absl::StrCat("train --config=", dir, "/missing.pbtxt"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find(dir + "/missing.pbtxt"), std::string::npos) << run.output;

  // A value the flag itself rejects names the field.
  const std::string bad_list = Write(dir + "/bad_value.pbtxt", "model: \"lenet5\"\nlr_decay_epochs: [0]\nepochs: 1\n");
  run = Strata(absl::StrCat("train --config=", bad_list, " --max_examples=64 --checkpoint=", dir, "/x.ckpt"));
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("lr_decay_epochs"), std::string::npos) << run.output;
}

TEST(Cli, EvalOfSeveralCheckpointsIsAnEnsemble) {
  const std::string dir = Dir("ensemble");
  for (int seed : {1, 2}) {
    const CommandResult train = Strata(absl::StrCat("train --epochs=1 --max_examples=256 --batch=32 --lr_decay_epochs= --seed=",
                                          seed, " --data=", data::DefaultMnistDir(), " --checkpoint=", dir, "/s",
                                          seed, ".ckpt"));
    ASSERT_EQ(train.exit_code, 0) << train.output;
  }
  const CommandResult eval = Strata(absl::StrCat("eval --checkpoint=", dir, "/s1.ckpt,", dir, "/s2.ckpt --data=",
                                       data::DefaultMnistDir()));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NE(eval.output.find("member " + dir + "/s1.ckpt test accuracy "), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("member " + dir + "/s2.ckpt test accuracy "), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("ensemble of 2 test accuracy "), std::string::npos) << eval.output;
  EXPECT_NE(eval.output.find("/2000)"), std::string::npos) << eval.output;

  const CommandResult missing = Strata(absl::StrCat("eval --checkpoint=", dir, "/s1.ckpt,", dir, "/nope.ckpt"));
  EXPECT_EQ(missing.exit_code, 1) << missing.output;
  EXPECT_NE(missing.output.find(dir + "/nope.ckpt"), std::string::npos) << missing.output;
}

TEST(Cli, BenchTimesAStepAndWritesAProfile) {
  const std::string dir = Dir("bench");
  const CommandResult run =
      Strata(absl::StrCat("bench --model=lenet5 --batch=16 --iters=3 --warmup=1 --profile=", dir, "/trace.json"));
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("lenet5 train, batch 16, 10 classes: "), std::string::npos) << run.output;
  EXPECT_NE(run.output.find(" ms/step (median of 3"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("peak resident memory"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("Conv2DBackpropFilter"), std::string::npos) << run.output;
  std::ifstream trace(dir + "/trace.json");
  std::string first_line;
  std::getline(trace, first_line);
  EXPECT_EQ(first_line, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [");

  const CommandResult infer = Strata("bench --model=lenet5 --mode=infer --batch=4 --iters=2 --warmup=0");
  ASSERT_EQ(infer.exit_code, 0) << infer.output;
  EXPECT_NE(infer.output.find("lenet5 infer, batch 4"), std::string::npos) << infer.output;
  const CommandResult bad = Strata("bench --model=lenet5 --mode=fly");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("--mode='fly'"), std::string::npos) << bad.output;
}

TEST(Cli, SummaryPlansAStepWithoutRunningIt) {
  const CommandResult plan = Strata("summary --model=lenet5 --plan --batch=16");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("parameters: 61,706"), std::string::npos) << plan.output;
  EXPECT_NE(plan.output.find("memory plan of a training step (SGD with momentum) at batch 16 (made, not run): "
                             "intermediate values "),
            std::string::npos)
      << plan.output;
  EXPECT_NE(plan.output.find("predicted peak"), std::string::npos) << plan.output;
  const CommandResult infer = Strata("summary --model=lenet5 --plan --batch=4 --mode=infer");
  ASSERT_EQ(infer.exit_code, 0) << infer.output;
  EXPECT_NE(infer.output.find("memory plan of an inference at batch 4"), std::string::npos) << infer.output;
  const CommandResult bad = Strata("summary --model=lenet5 --plan --mode=fly");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("--mode='fly'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace strata
