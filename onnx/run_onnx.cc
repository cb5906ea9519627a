// run_onnx MODEL.onnx INPUT.f32 OUTPUT.f32 [BATCH]: imports an ONNX model,
// feeds its first input from raw little-endian float32 values and writes its
// first output the same way. For onnx/compare_torchvision.py, which compares
// the output with PyTorch's.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "onnx/import.h"
#include "runtime/session.h"

namespace {

int Fail(const absl::Status& s) {
  std::cerr << "run_onnx: " << s << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: run_onnx MODEL.onnx INPUT.f32 OUTPUT.f32 [BATCH]\n";
    return 2;
  }
  strata::onnx_io::ImportOptions options;
  if (argc > 4) options.batch_size = std::stoll(argv[4]);
  auto model = strata::onnx_io::ImportOnnxFile(argv[1], options);
  if (!model.ok()) return Fail(model.status());
  std::ifstream in(argv[2], std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  strata::Tensor x(model->inputs[0].spec());
  if (static_cast<int64_t>(bytes.size()) != x.num_bytes()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(argv[2], " has ", bytes.size(), " bytes; the input ",
                                                        x.spec().ToString(), " needs ", x.num_bytes())));
  }
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(x.raw_data()));
  auto session = strata::runtime::Session::Create(*model->graph);
  if (!session.ok()) return Fail(session.status());
  if (auto s = strata::onnx_io::LoadInitialValues(*model, &(*session)->variables()); !s.ok()) return Fail(s);
  auto y = (*session)->Run({{model->inputs[0], x}}, {model->outputs[0]});
  if (!y.ok()) return Fail(y.status());
  std::ofstream out(argv[3], std::ios::binary);
  out.write(static_cast<const char*>((*y)[0].raw_data()), (*y)[0].num_bytes());
  std::cout << "output " << (*y)[0].spec().ToString() << "\n";
  return out ? 0 : 1;
}
