// An imported ONNX model is an ordinary graph: it differentiates, trains
// with optim/ (batch norm in training mode updating its running statistics),
// and its fine-tuned variables save as a Strata checkpoint that restores
// into a fresh import.
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"
#include "onnx/fine_tune.h"

namespace strata {
namespace {

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
}

void ExpectFineTunes(const std::string& model, onnx_io::FineTuneOptions o) {
  SCOPED_TRACE(model);
  o.checkpoint = TempPath(model + ".ckpt");
  auto r = onnx_io::FineTuneOnnx("onnx/testdata/" + model + ".onnx", o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(static_cast<int64_t>(r->losses.size()), o.steps);
  // One fixed batch: the loss must fall well below where it started.
  EXPECT_LT(r->losses.back(), 0.5 * r->losses.front()) << "first " << r->losses.front() << " last "
                                                       << r->losses.back();
  ASSERT_FALSE(r->logits.empty());
  EXPECT_EQ(r->restored_logits, r->logits);
}

// LeNet-5 (PyTorch export) with Adam.
TEST(OnnxFineTuneTest, ImportedLeNet5TrainsWithAdamAndRestoresFromItsCheckpoint) {
  onnx_io::FineTuneOptions o;
  o.batch_size = 16;
  o.steps = 30;
  o.optimizer = optim::OptimizerConfig::Adam(1e-3);
  ExpectFineTunes("lenet5", o);
}

// The small CNN with batch norm: its logits are the Gemm before the Softmax.
TEST(OnnxFineTuneTest, ImportedCnnWithBatchNormTrainsWithSgdAndRestoresFromItsCheckpoint) {
  onnx_io::FineTuneOptions o;
  o.batch_size = 8;
  o.steps = 40;
  o.logits = "fc/Gemm:0";
  o.optimizer = optim::OptimizerConfig::SGD(0.1, 0.9);
  ExpectFineTunes("small_cnn", o);
}

}  // namespace
}  // namespace strata
