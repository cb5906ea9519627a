// The experiment programs end to end, shrunk to seconds by their flags: each
// exits 0 and writes its table (a row per model or member) and PNG plots.
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "viz/png.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

// Runs experiments/<name> with `args`; returns its exit code, stdout and
// stderr in *output.
int RunProgram(const std::string& name, const std::string& args, std::string* output) {
  const std::string binary = absl::StrCat(std::getenv("TEST_SRCDIR"), "/strata/experiments/", name);
  FILE* pipe = popen(absl::StrCat(binary, " ", args, " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string OutDir(const std::string& name) {
  const std::string dir = testing::TempDir() + "/experiments/" + name;
  fs::remove_all(dir);
  return dir;  // the program creates it
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Lines of a CSV file without its header.
int CsvRows(const std::string& path) {
  int lines = 0;
  for (absl::string_view line : absl::StrSplit(Read(path), '\n', absl::SkipEmpty())) lines += !line.empty();
  return lines - 1;
}

void ExpectPng(const std::string& path) {
  auto image = viz::ReadPng(path);
  ASSERT_TRUE(image.ok()) << path << ": " << image.status();
  EXPECT_EQ(image->width, 720);
  EXPECT_EQ(image->height, 480);
}

TEST(ExperimentProgramsTest, UniversalApproximation) {
  const std::string dir = OutDir("ua");
  std::string out;
  ASSERT_EQ(RunProgram("universal_approximation", "--steps=20 --out=" + dir, &out), 0) << out;
  // 8 tanh widths, 8 ReLU widths, 3 deeper nets.
  EXPECT_EQ(CsvRows(dir + "/universal_approximation.csv"), 19);
  EXPECT_TRUE(absl::StrContains(Read(dir + "/universal_approximation.md"), "| 1-256-1 tanh | 1 | 769 |"));
  ExpectPng(dir + "/universal_approximation_fits.png");
  ExpectPng(dir + "/universal_approximation_error.png");
}

TEST(ExperimentProgramsTest, Depth) {
  const std::string dir = OutDir("depth");
  std::string out;
  ASSERT_EQ(RunProgram("depth",
                       "--steps=3 --batch=4 --smooth=2 --test_examples=8 --models=cifar_plain20,cifar_resnet20 --out=" +
                           dir,
                       &out),
            0)
      << out;
  EXPECT_EQ(CsvRows(dir + "/depth.csv"), 2);
  EXPECT_EQ(CsvRows(dir + "/depth_steps.csv"), 2 * 3);
  const std::string md = Read(dir + "/depth.md");
  EXPECT_TRUE(absl::StrContains(md, "| cifar_plain20 | 269722 | 3 x 4 |")) << md;
  EXPECT_TRUE(absl::StrContains(md, "test error (8 digits)")) << md;
  ExpectPng(dir + "/depth.png");
  // An unknown model is an error naming it.
  out.clear();
  EXPECT_NE(RunProgram("depth", "--steps=1 --models=cifar_plain21 --out=" + dir, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "cifar_plain21")) << out;
}

TEST(ExperimentProgramsTest, Speed) {
  const std::string dir = OutDir("speed");
  std::string out;
  ASSERT_EQ(RunProgram("speed", "--models=lenet5 --runs=1 --warmup=0 --max_wait_s=0 --out=" + dir, &out), 0) << out;
  const std::string md = Read(dir + "/speed.md");
  // LeNet-5 with 1,000 classes: 5 weight layers, C5's 48,000 + F6's 10,080 +
  // C1's 117,600 + C3's 240,000 + the output's 84,000 multiply-adds.
  EXPECT_TRUE(absl::StrContains(md, "| lenet5 | 5 |")) << md;
  EXPECT_TRUE(absl::StrContains(md, "| 499,680 |")) << md;
  ExpectPng(dir + "/speed.png");
}

TEST(ExperimentProgramsTest, Ensemble) {
  const std::string dir = OutDir("ensemble");
  std::string out;
  ASSERT_EQ(RunProgram("ensemble", "--members=2 --epochs=1 --max_examples=256 --out=" + dir, &out), 0) << out;
  // Two members and the ensemble of both.
  EXPECT_EQ(CsvRows(dir + "/ensemble.csv"), 3);
  EXPECT_TRUE(absl::StrContains(Read(dir + "/ensemble.md"), "| ensemble of seeds 1-2 (softmax averaged) |"));
  EXPECT_TRUE(fs::exists(dir + "/ensemble_seed2.ckpt"));
  ExpectPng(dir + "/ensemble.png");
  out.clear();
  EXPECT_NE(RunProgram("ensemble", "--members=1 --out=" + dir, &out), 0);
  EXPECT_TRUE(absl::StrContains(out, "--members must be at least 2")) << out;
}

}  // namespace
}  // namespace strata
