// One JSON line per run for bench/compare.sh, which alternates it with
// ../shared/bench/torch_peer.py: a zoo model's training step or inference,
// median of --iters timed steps after --warmup untimed ones.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "bench/model_bench.h"

ABSL_FLAG(std::string, model, "lenet5", "zoo model");
ABSL_FLAG(int64_t, batch, 64, "batch size");
ABSL_FLAG(int32_t, iters, 200, "timed steps");
ABSL_FLAG(int32_t, warmup, 10, "untimed steps first");
ABSL_FLAG(std::string, mode, "train", "train or infer");
ABSL_FLAG(bool, resnet_v1_5, false, "ResNet-50/101/152: stride on the 3x3 (torchvision's layout)");
ABSL_FLAG(int64_t, classes, 1000, "classes of the model (10 for lenet5 and the CIFAR nets)");
ABSL_FLAG(int32_t, threads, 0, "OpenMP threads (0: all cores)");
ABSL_FLAG(bool, fuse, true, "fuse each convolution's ReLU into its primitive");
ABSL_FLAG(bool, winograd, true, "3x3 stride-1 convolutions with enough output tiles by Winograd");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  using namespace strata;
  bench::BenchOptions o;
  o.model = absl::GetFlag(FLAGS_model);
  o.config.batch_size = absl::GetFlag(FLAGS_batch);
  const bool ten_classes = o.model == "lenet5" || o.model.rfind("cifar_", 0) == 0;
  o.config.num_classes = ten_classes ? 10 : absl::GetFlag(FLAGS_classes);
  o.config.resnet_v1_5 = absl::GetFlag(FLAGS_resnet_v1_5);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode != "train" && mode != "infer") return std::cerr << "--mode is train or infer\n", 1;
  o.train = mode == "train";
  o.iters = absl::GetFlag(FLAGS_iters);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.passes.fuse_conv_relu = absl::GetFlag(FLAGS_fuse);
  o.passes.winograd = absl::GetFlag(FLAGS_winograd);
  auto r = bench::BenchModel(o);
  if (!r.ok()) return std::cerr << r.status() << "\n", 1;
  std::cout << absl::StrFormat(
      "{\"system\": \"strata\", \"model\": \"%s\", \"mode\": \"%s\", \"batch\": %d, \"ms_per_step_median\": "
      "%.3f, \"ms_min\": %.3f, \"ms_max\": %.3f, \"images_per_s\": %.2f, \"peak_rss_mb\": %.1f}\n",
      o.model, mode, o.config.batch_size, r->ms_median, r->ms_min, r->ms_max, r->images_per_second,
      r->peak_rss_bytes / 1048576.0);
  return 0;
}
