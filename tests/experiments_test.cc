// experiments/: the universal approximation fit (the error falls with the
// hidden width) and the tables the experiment programs write.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "experiments/table.h"
#include "experiments/universal_approximation.h"
#include "gtest/gtest.h"

namespace strata::experiments {
namespace {

TEST(UniversalApproximationTest, WidestNetIsTenTimesBetterThanWidthTwo) {
  FitOptions options;  // the experiment's own settings
  auto narrow = FitMlp({{2}, "tanh"}, options);
  auto wide = FitMlp({{256}, "tanh"}, options);
  ASSERT_TRUE(narrow.ok()) << narrow.status();
  ASSERT_TRUE(wide.ok()) << wide.status();
  EXPECT_EQ(narrow->parameters, 7);    // 1*2 + 2 + 2*1 + 1
  EXPECT_EQ(wide->parameters, 769);    // 1*256 + 256 + 256*1 + 1
  EXPECT_LE(wide->test_mse * 10, narrow->test_mse) << wide->test_mse << " vs " << narrow->test_mse;
  EXPECT_LE(wide->train_mse * 10, narrow->train_mse);
  // The fit is a fit: the wide net follows the curve everywhere.
  EXPECT_LT(wide->test_max_error, 0.1);
  ASSERT_EQ(wide->test_x.size(), 127u);
  ASSERT_EQ(wide->test_prediction.size(), 127u);
  // Test points are the midpoints of the 128 training points on [-2, 2].
  EXPECT_NEAR(wide->test_x.front(), -2 + 2.0 / 127, 1e-12);
  EXPECT_NEAR(wide->test_x.back(), 2 - 2.0 / 127, 1e-12);
  for (size_t i = 0; i < wide->test_x.size(); i += 16) {
    EXPECT_NEAR(wide->test_prediction[i], Target(wide->test_x[i]), 0.1) << "x = " << wide->test_x[i];
  }
}

TEST(UniversalApproximationTest, ParametersAndBadNets) {
  EXPECT_EQ(MlpParameters({{16, 16}, "tanh"}), 2 * 16 + 17 * 16 + 17);
  EXPECT_EQ(Describe({{16, 16}, "relu"}), "1-16-16-1 relu");
  EXPECT_FALSE(FitMlp({{}, "tanh"}, {}).ok());
  EXPECT_FALSE(FitMlp({{0}, "tanh"}, {}).ok());
  auto bad = FitMlp({{4}, "softplus"}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(absl::StrContains(bad.status().message(), "softplus"));
}

TEST(TableTest, MarkdownCsvAndOutDir) {
  Table t;
  t.header = {"model", "ms"};
  t.rows = {{"vgg16", "1.5"}, {"a,b", "say \"hi\""}};
  EXPECT_EQ(Markdown(t), "| model | ms |\n|---|---|\n| vgg16 | 1.5 |\n| a,b | say \"hi\" |\n");
  EXPECT_EQ(Csv(t), "model,ms\nvgg16,1.5\n\"a,b\",\"say \"\"hi\"\"\"\n");
  const char* tmp = std::getenv("TEST_TMPDIR");
  ASSERT_NE(tmp, nullptr);
  std::string dir;
  ASSERT_TRUE(PrepareOutDir(std::string(tmp) + "/a/b/c", &dir).ok());
  ASSERT_TRUE(WriteTable(dir, "t", t).ok());
  std::ifstream f(dir + "/t.csv");
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(text.str(), Csv(t));
  EXPECT_FALSE(PrepareOutDir(dir + "/t.csv", &dir).ok());  // a file, not a folder
  EXPECT_FALSE(PrepareOutDir("", &dir).ok());
}

}  // namespace
}  // namespace strata::experiments
