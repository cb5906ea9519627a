// runtime::Profile: every step of a run is timed once, with its node, op and
// the layout reorders its kernel executed; the per-op totals and the Chrome
// trace describe exactly those events.
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ops/conv.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "runtime/profile.h"
#include "runtime/session.h"

namespace strata {
namespace {

TEST(Profile, RecordsEveryStepOfEveryRun) {
  Graph g;
  // 32 filters: oneDNN's convolution picks a blocked layout for them, so
  // the plain graph tensors are reordered around it.
  Output x = ops::Placeholder(g, "x", Shape({8, 16, 14, 14}));
  Output w = ops::Const(g, Tensor(DType::kFloat32, Shape({32, 16, 3, 3})), "w");
  Output y = ops::Conv2D(g, x, w, Output{}, {1, 1}, "conv");
  Output z = ops::Relu(g, y, "relu");
  ASSERT_TRUE(g.status().ok()) << g.status();
  runtime::SessionOptions unfused;
  unfused.passes.fuse_conv_relu = false;  // two steps: the convolution, then the ReLU
  unfused.passes.keep_layouts = false;     // and every value plain between them
  auto session = runtime::Session::Create(g, unfused);
  ASSERT_TRUE(session.ok()) << session.status();
  runtime::Profile profile;
  Tensor input(DType::kFloat32, Shape({8, 16, 14, 14}));
  for (int run = 0; run < 3; ++run) {
    auto out = (*session)->Run({{x, input}}, {z}, {}, {}, &profile);
    ASSERT_TRUE(out.ok()) << out.status();
  }
  auto unprofiled = (*session)->Run({{x, input}}, {z});
  ASSERT_TRUE(unprofiled.ok());

  EXPECT_EQ(profile.runs(), 3);
  ASSERT_EQ(profile.events().size(), 6u);  // conv and relu, 3 times; sources are not steps
  double last_start = -1;
  for (size_t i = 0; i < profile.events().size(); ++i) {
    const runtime::OpEvent& e = profile.events()[i];
    EXPECT_EQ(e.node, i % 2 == 0 ? "conv" : "relu");
    EXPECT_EQ(e.op, i % 2 == 0 ? "Conv2D" : "Relu");
    EXPECT_EQ(e.run, static_cast<int64_t>(i / 2));
    EXPECT_GE(e.duration_us, 0);
    EXPECT_GE(e.start_us, last_start);
    last_start = e.start_us + e.duration_us;
    if (e.op == "Relu") {
      EXPECT_EQ(e.reorders, 0);  // plain in, plain out
    }
  }
  const auto totals = profile.TotalsByOp();
  ASSERT_EQ(totals.size(), 2u);
  EXPECT_EQ(totals[0].calls + totals[1].calls, 6);
  const std::string table = profile.FormatTotals();
  EXPECT_NE(table.find("Conv2D"), std::string::npos) << table;
  EXPECT_NE(table.find("all ops"), std::string::npos) << table;

  const std::string path = testing::TempDir() + "/profile_test.json";
  ASSERT_TRUE(profile.WriteChromeTrace(path).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string json = text.str();
  EXPECT_EQ(json.rfind("{\"displayTimeUnit\": \"ms\", \"traceEvents\": [", 0), 0u) << json;
  int complete_events = 0;
  for (size_t at = json.find("\"ph\": \"X\""); at != std::string::npos; at = json.find("\"ph\": \"X\"", at + 1)) {
    ++complete_events;
  }
  EXPECT_EQ(complete_events, 6);
  EXPECT_NE(json.find("\"name\": \"conv\", \"cat\": \"Conv2D\""), std::string::npos) << json;
  EXPECT_FALSE(profile.WriteChromeTrace("/nonexistent-dir/trace.json").ok());

  // Fused (the default), the ReLU runs inside the convolution: one step.
  auto fused = runtime::Session::Create(g);
  ASSERT_TRUE(fused.ok()) << fused.status();
  runtime::Profile fused_profile;
  auto out = (*fused)->Run({{x, input}}, {z}, {}, {}, &fused_profile);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(fused_profile.events().size(), 1u);
  EXPECT_EQ(fused_profile.events()[0].op, "Conv2D");
}

}  // namespace
}  // namespace strata
