// The training loop as people run it: optimizers, schedules, a validation
// split, metric logs, checkpoints during training, exact resume and the NaN
// guard, on short LeNet-5 runs over the bundled MNIST.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "data/mnist.h"
#include "metrics/event_writer.h"
#include "serialization/checkpoint.h"
#include "training/ensemble.h"
#include "training/trainer.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

training::TrainConfig Small(const std::string& name) {
  training::TrainConfig c;
  c.data_dir = data::DefaultMnistDir();
  c.max_train_examples = 1024;  // 16 steps of 64 per epoch
  c.epochs = 2;
  c.lr_decay_epochs = {};
  const std::string dir = testing::TempDir() + "/training_test/" + name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  c.checkpoint = dir + "/model.ckpt";
  return c;
}

training::TrainResult MustTrain(const training::TrainConfig& c, std::string* log_text = nullptr) {
  std::ostringstream log;
  auto result = training::Train(c, log);
  EXPECT_TRUE(result.ok()) << result.status() << "\n" << log.str();
  if (log_text != nullptr) *log_text = log.str();
  return result.ok() ? *result : training::TrainResult{};
}

// Every tensor of two checkpoints (weights, optimizer slots, learning rate,
// step) is bit-identical.
void ExpectIdentical(const std::string& a, const std::string& b) {
  auto x = serialization::LoadCheckpoint(a);
  auto y = serialization::LoadCheckpoint(b);
  ASSERT_TRUE(x.ok()) << x.status();
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(x->tensors.size(), y->tensors.size());
  for (const auto& [name, t] : x->tensors) {
    auto it = y->tensors.find(name);
    ASSERT_NE(it, y->tensors.end()) << name;
    ASSERT_EQ(t.num_bytes(), it->second.num_bytes()) << name;
    EXPECT_EQ(std::memcmp(t.raw_data(), it->second.raw_data(), t.num_bytes()), 0) << name << " differs";
  }
  EXPECT_EQ(x->metadata.at("step"), y->metadata.at("step"));
  EXPECT_EQ(x->metadata.at("schedule_state"), y->metadata.at("schedule_state"));
}

// Straight `c` against c stopped after `stop_epochs` epochs and resumed.
void ExpectResumeIsExact(training::TrainConfig c) {
  training::TrainConfig straight = c;
  straight.checkpoint = c.checkpoint + ".straight";
  if (!c.log_dir.empty()) straight.log_dir = c.log_dir + ".straight";
  const training::TrainResult whole = MustTrain(straight);

  training::TrainConfig first = c;
  first.epochs = 1;
  MustTrain(first);
  training::TrainConfig rest = c;
  rest.resume = true;
  std::string log;
  const training::TrainResult resumed = MustTrain(rest, &log);
  EXPECT_NE(log.find("resuming from"), std::string::npos) << log;
  ASSERT_EQ(resumed.epochs.size(), static_cast<size_t>(c.epochs - 1));
  EXPECT_EQ(resumed.steps, whole.steps);
  EXPECT_EQ(resumed.epochs.back().mean_loss, whole.epochs.back().mean_loss);
  EXPECT_EQ(resumed.epochs.back().test.correct, whole.epochs.back().test.correct);
  ExpectIdentical(straight.checkpoint, c.checkpoint);
}

TEST(Training, ResumeIsExactWithSGD) { ExpectResumeIsExact(Small("sgd")); }

TEST(Training, ResumeIsExactWithAdam) {
  training::TrainConfig c = Small("adam");
  c.optimizer = "adam";
  c.learning_rate = 0.001;
  c.weight_decay = 0;
  c.schedule = "cosine:t_max=4";
  ExpectResumeIsExact(c);
}

TEST(Training, ResumeIsExactWithPlateauAndLogsTheCut) {
  training::TrainConfig c = Small("plateau");
  c.epochs = 3;
  c.validation = 500;
  // Nothing counts as better after the first epoch: the rate is cut after
  // the second and the third trains at 0.005.
  c.schedule = "plateau:patience=0,threshold=1,threshold_mode=abs";
  c.log_dir = fs::path(c.checkpoint).parent_path().string() + "/logs";
  ExpectResumeIsExact(c);

  // The resumed run appended to the first one's CSV.
  std::ifstream csv(c.log_dir + "/metrics.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_EQ(header, "step,epoch,kind,loss,learning_rate,images_per_second,test_accuracy,validation_accuracy");
  std::vector<double> epoch_rates;
  int step_rows = 0;
  for (std::string line; std::getline(csv, line);) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    ASSERT_EQ(f.size(), 8u) << line;
    if (f[2] == "step") {
      ++step_rows;
      EXPECT_TRUE(f[6].empty()) << line;
    } else {
      ASSERT_EQ(f[2], "epoch") << line;
      epoch_rates.push_back(std::stod(f[4]));
      EXPECT_FALSE(f[6].empty()) << line;
      EXPECT_FALSE(f[7].empty()) << line;
    }
  }
  EXPECT_EQ(step_rows, 4);  // steps 10, 20, 30, 40 of 48
  ASSERT_EQ(epoch_rates.size(), 3u);
  EXPECT_FLOAT_EQ(epoch_rates[0], 0.05);
  EXPECT_FLOAT_EQ(epoch_rates[1], 0.05);
  EXPECT_FLOAT_EQ(epoch_rates[2], 0.005);

  // One event file per run (the first and the resumed one), with the tags.
  std::set<std::string> tags;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(c.log_dir)) {
    if (entry.path().filename().string().rfind(metrics::kEventFilePrefix, 0) != 0) continue;
    ++files;
    auto scalars = metrics::ReadScalars(entry.path().string());
    ASSERT_TRUE(scalars.ok()) << scalars.status();
    for (const auto& p : *scalars) tags.insert(p.tag);
  }
  EXPECT_EQ(files, 2);
  for (const char* tag : {"train/loss", "train/learning_rate", "train/images_per_second", "epoch/loss",
                          "epoch/learning_rate", "epoch/test_accuracy", "epoch/validation_accuracy"}) {
    EXPECT_TRUE(tags.count(tag)) << tag;
  }
}

TEST(Training, PlateauNeedsAValidationSplit) {
  training::TrainConfig c = Small("plateau_no_validation");
  c.schedule = "plateau";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("--validation"), std::string::npos) << result.status();
}

TEST(Training, MidEpochCheckpointsKeepKAndResumeExactly) {
  training::TrainConfig c = Small("mid_epoch");
  c.optimizer = "adam";
  c.learning_rate = 0.001;
  c.checkpoint_every = 5;
  c.keep = 3;
  const training::TrainResult whole = MustTrain(c);
  // Checkpoints at steps 5, 10, 15, 16 (epoch end), 20, 25, 30 and 32: the
  // newest three remain.
  std::set<std::string> numbered;
  for (const auto& entry : fs::directory_iterator(fs::path(c.checkpoint).parent_path())) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("model.ckpt-", 0) == 0) numbered.insert(name);
  }
  EXPECT_EQ(numbered, (std::set<std::string>{"model.ckpt-25", "model.ckpt-30", "model.ckpt-32"}));
  ExpectIdentical(c.checkpoint, c.checkpoint + "-32");

  // Step 25 is batch 9 of epoch 2: resume from a copy of it.
  training::TrainConfig rest = c;
  rest.checkpoint = fs::path(c.checkpoint).parent_path().string() + "/resumed/model.ckpt";
  rest.resume = true;
  rest.keep = 0;
  fs::create_directories(fs::path(rest.checkpoint).parent_path());
  fs::copy_file(c.checkpoint + "-25", rest.checkpoint);
  std::string log;
  const training::TrainResult resumed = MustTrain(rest, &log);
  EXPECT_NE(log.find("step 25, epoch 2, batch 9 of 16"), std::string::npos) << log;
  ASSERT_EQ(resumed.epochs.size(), 1u);
  EXPECT_EQ(resumed.epochs.back().mean_loss, whole.epochs.back().mean_loss);
  ExpectIdentical(c.checkpoint, rest.checkpoint);
}

TEST(Training, ResumeRefusesAnotherOptimizer) {
  training::TrainConfig c = Small("mismatch");
  c.epochs = 1;
  MustTrain(c);
  c.optimizer = "adam";
  c.resume = true;
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("optimizer 'sgd'"), std::string::npos)
      << result.status();
}

TEST(Training, NanGuardNamesTheStepAndTheNode) {
  training::TrainConfig c = Small("nan");
  c.epochs = 1;
  c.learning_rate = 1e6;
  c.nan_guard = true;
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok()) << log.str();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAborted);
  const std::string message(result.status().message());
  EXPECT_NE(message.find("at step "), std::string::npos) << message;
  EXPECT_NE(message.find("of its forward pass is in "), std::string::npos) << message;
}

// Fake CIFAR-10 binary files (1 label byte + 3072 pixel bytes a record):
// data_batch_1..5 with `per_file` records each and test_batch with `test`.
void WriteFakeCifar(const std::string& dir, int per_file, int test) {
  fs::create_directories(dir);
  auto records = [](int first, int count) {
    std::string s;
    for (int id = first; id < first + count; ++id) {
      std::string r(3073, '\0');
      r[0] = static_cast<char>(id % 10);
      for (int p = 0; p < 3072; ++p) r[1 + p] = static_cast<char>((id * 37 + p * (id % 10 + 1)) % 256);
      s += r;
    }
    return s;
  };
  for (int b = 0; b < 5; ++b) {
    std::ofstream(absl::StrCat(dir, "/data_batch_", b + 1, ".bin"), std::ios::binary)
        << records(b * per_file, per_file);
  }
  std::ofstream(dir + "/test_batch.bin", std::ios::binary) << records(1000, test);
}

training::TrainConfig SmallCifar(const std::string& name) {
  training::TrainConfig c = Small(name);
  c.model = "cifar_resnet20";
  c.data_dir.clear();
  c.cifar10_dir = fs::path(c.checkpoint).parent_path().string() + "/cifar";
  WriteFakeCifar(c.cifar10_dir, 4, 8);
  c.augment = "cifar";
  c.batch_size = 8;
  c.max_train_examples = 16;  // 2 steps of 8 per epoch
  c.learning_rate = 0.01;
  return c;
}

TEST(Training, CifarWithAugmentationResumesExactlyAndEvaluates) {
  training::TrainConfig c = SmallCifar("cifar_augment");
  ExpectResumeIsExact(c);
  auto ckpt = serialization::LoadCheckpoint(c.checkpoint);
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ckpt->metadata.at("data"), "cifar10");
  EXPECT_EQ(ckpt->metadata.at("augment"), "cifar");
  // The data choice comes back from the checkpoint (the MNIST folder passed
  // here holds no CIFAR files: the recorded folder is read).
  auto eval = training::EvaluateCheckpoint(c.checkpoint, "", data::DefaultMnistDir(), 4);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_EQ(eval->total, 8);
  auto again = training::EvaluateCheckpoint(c.checkpoint, "", c.cifar10_dir, 8);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->correct, eval->correct);
}

TEST(Training, AugmentationChangesTrainingAndResumeRefusesAnotherValue) {
  training::TrainConfig c = SmallCifar("cifar_mismatch");
  c.epochs = 1;
  training::TrainConfig plain = c;
  plain.augment = "none";
  plain.checkpoint = c.checkpoint + ".plain";
  const training::TrainResult without = MustTrain(plain);
  const training::TrainResult with = MustTrain(c);
  ASSERT_EQ(with.epochs.size(), 1u);
  ASSERT_EQ(without.epochs.size(), 1u);
  EXPECT_NE(with.epochs[0].mean_loss, without.epochs[0].mean_loss);
  c.epochs = 2;
  c.augment = "none";
  c.resume = true;
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("augment 'cifar'"), std::string::npos)
      << result.status();
}

TEST(Training, CifarNeedsA3x32x32Model) {
  training::TrainConfig c = SmallCifar("cifar_lenet");
  c.model = "lenet5";
  c.augment = "none";
  std::ostringstream log;
  auto result = training::Train(c, log);
  ASSERT_FALSE(result.ok());
  const std::string message(result.status().message());
  EXPECT_NE(message.find("1x28x28"), std::string::npos) << message;
  EXPECT_NE(message.find("3x32x32"), std::string::npos) << message;
}

TEST(Training, AlexNetCropsResumeExactlyAndEvaluateOnTheCentreCrop) {
  // LeNet-5's 28x28 input cut at random out of 32x32 synthetic images, as
  // AlexNet's 227 out of 256.
  training::TrainConfig c = Small("alexnet_crops");
  c.data_dir.clear();
  c.synthetic_data = true;
  c.synthetic_train = 96;
  c.synthetic_test = 40;
  c.batch_size = 16;
  c.augment = "alexnet";
  ExpectResumeIsExact(c);
  training::TrainConfig straight = c;
  straight.checkpoint = c.checkpoint + ".straight";
  const training::TrainResult whole = MustTrain(straight);
  auto eval = training::EvaluateCheckpoint(c.checkpoint, "", "", 7);
  ASSERT_TRUE(eval.ok()) << eval.status();
  EXPECT_EQ(eval->total, 40);
  EXPECT_EQ(eval->correct, whole.epochs.back().test.correct);
  // Cropping changes what is learnt.
  training::TrainConfig plain = straight;
  plain.augment = "none";
  plain.checkpoint = c.checkpoint + ".plain";
  EXPECT_NE(MustTrain(plain).epochs.back().mean_loss, whole.epochs.back().mean_loss);
  // Only synthetic data has images larger than the model's input.
  training::TrainConfig mnist = Small("alexnet_mnist");
  mnist.augment = "alexnet";
  std::ostringstream log;
  auto result = training::Train(mnist, log);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(std::string(result.status().message()).find("--data=synthetic"), std::string::npos) << result.status();
}

TEST(Training, PrefetchingChangesNothingButSpeed) {
  // Augmented CIFAR batches (copy + crop + flip on the prefetch thread) and
  // plain MNIST batches: the weights are bit-identical with and without it.
  for (training::TrainConfig c : {SmallCifar("prefetch_cifar"), Small("prefetch_mnist")}) {
    c.epochs = 1;
    c.prefetch = 0;
    training::TrainConfig ahead = c;
    ahead.prefetch = 3;
    ahead.checkpoint = c.checkpoint + ".prefetched";
    const training::TrainResult sync = MustTrain(c);
    const training::TrainResult async = MustTrain(ahead);
    ASSERT_EQ(sync.epochs.size(), 1u);
    ASSERT_EQ(async.epochs.size(), 1u);
    EXPECT_EQ(sync.epochs[0].mean_loss, async.epochs[0].mean_loss);
    ExpectIdentical(c.checkpoint, ahead.checkpoint);
  }
}

TEST(Training, EnsembleAveragesTheMembersProbabilities) {
  std::vector<std::string> members;
  std::vector<training::EvalResult> alone;
  for (uint64_t seed : {1, 2, 3}) {
    training::TrainConfig c = Small(absl::StrCat("ensemble_", seed));
    c.epochs = 1;
    c.max_train_examples = 512;
    c.seed = seed;
    MustTrain(c);
    members.push_back(c.checkpoint);
    auto eval = training::EvaluateCheckpoint(c.checkpoint, "", c.data_dir, 500);
    ASSERT_TRUE(eval.ok()) << eval.status();
    alone.push_back(*eval);
  }
  auto result = training::EvaluateEnsemble(members, data::DefaultMnistDir(), 300);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->members.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    // The softmax's arg-max is the logits' arg-max: each member alone agrees
    // with its own evaluation.
    EXPECT_EQ(result->members[i].correct, alone[i].correct) << members[i];
    EXPECT_EQ(result->members[i].total, alone[i].total);
  }
  EXPECT_EQ(result->ensemble.total, 2000);
  // Members that differ (seeds 1-3 disagree on some digits) make an
  // ensemble that is not simply one of them...
  EXPECT_NE(result->members[0].correct, result->members[1].correct);
  // ...and an ensemble of one model is that model.
  auto single = training::EvaluateEnsemble({members[0], members[0]}, data::DefaultMnistDir(), 500);
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(single->ensemble.correct, alone[0].correct);

  // A model tested on other data cannot join.
  training::TrainConfig cifar = SmallCifar("ensemble_cifar");
  cifar.epochs = 1;
  MustTrain(cifar);
  auto mixed = training::EvaluateEnsemble({members[0], cifar.checkpoint}, data::DefaultMnistDir(), 500);
  ASSERT_FALSE(mixed.ok());
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(mixed.status().message()).find(cifar.checkpoint), std::string::npos) << mixed.status();
  EXPECT_FALSE(training::EvaluateEnsemble({}, "", 500).ok());
}

}  // namespace
}  // namespace strata
