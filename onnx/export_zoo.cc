// export_zoo [NAME...]: every zoo model (or those named) with random weights
// (seed 7) exported to ONNX, checked with onnx::checker, serialised, parsed,
// re-imported and run on one random image; prints whether the re-imported
// logits equal the original ones bit for bit. Too slow for a unit test with
// the VGGs and the deep ResNets on 2 cores; tests/onnx_export_test.cc runs
// the same round trip on five of them.
#include <chrono>
#include <iostream>
#include <random>

#include "absl/strings/str_format.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "runtime/session.h"
#include "zoo/model.h"

namespace strata {
namespace {

absl::Status RoundTrip(const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  Graph g;
  auto model = zoo::BuildModel(name, g, {.batch_size = 1});
  if (!model.ok()) return model.status();
  auto session = runtime::Session::Create(g);
  if (!session.ok()) return session.status();
  if (auto s = (*session)->InitializeVariables(7); !s.ok()) return s;
  auto exported = onnx_io::ExportOnnx(g, {model->logits}, (*session)->variables().values());
  if (!exported.ok()) return exported.status();
  if (auto s = onnx_io::CheckOnnxModel(*exported); !s.ok()) return s;
  std::string bytes;
  if (!exported->SerializeToString(&bytes)) return absl::InternalError("cannot serialise");
  exported->Clear();
  onnx::ModelProto parsed;
  if (!parsed.ParseFromString(bytes)) return absl::InternalError("cannot parse");
  auto imported = onnx_io::ImportOnnx(parsed);
  if (!imported.ok()) return imported.status();
  auto reimported = runtime::Session::Create(*imported->graph);
  if (!reimported.ok()) return reimported.status();
  if (auto s = onnx_io::LoadInitialValues(*imported, &(*reimported)->variables()); !s.ok()) return s;
  Tensor x(model->images.spec());
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  for (float& v : x.flat<float>()) v = n(rng);
  auto want = (*session)->Run({{model->images, x}}, {model->logits});
  auto got = (*reimported)->Run({{imported->inputs[0], x}}, {imported->outputs[0]});
  if (!want.ok()) return want.status();
  if (!got.ok()) return got.status();
  const auto w = (*want)[0].flat<float>(), r = (*got)[0].flat<float>();
  int differ = 0;
  for (size_t i = 0; i < w.size(); ++i) differ += w[i] != r[i];
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << absl::StrFormat("%-16s %7.1f MB ONNX, checker ok, logits %s (%d of %d differ), %.1f s\n", name,
                               bytes.size() / 1e6, differ == 0 ? "identical" : "DIFFER", differ, w.size(),
                               seconds)
            << std::flush;
  return differ == 0 ? absl::OkStatus() : absl::InternalError("logits differ");
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  std::vector<std::string> names(argv + 1, argv + argc);
  if (names.empty()) names = strata::zoo::ModelNames();
  int failures = 0;
  for (const std::string& name : names) {
    if (absl::Status s = strata::RoundTrip(name); !s.ok()) {
      std::cout << name << ": " << s << "\n";
      ++failures;
    }
  }
  std::cout << names.size() - failures << " of " << names.size() << " models round-trip exactly\n";
  return failures == 0 ? 0 : 1;
}
