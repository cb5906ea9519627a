#include "tools/onnx_commands.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/flags/marshalling.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"
#include "serialization/graph_def.h"
#include "zoo/model.h"
#include "viz/png.h"
#include "zoo/summary.h"

// Defined by tools/strata.cc and tools/visualize.cc, shared with their commands.
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, checkpoint);
ABSL_DECLARE_FLAG(std::string, out);
ABSL_DECLARE_FLAG(bool, plan);

ABSL_FLAG(std::string, input, "",
          "run: the input: raw little-endian float32 values (N whole examples of the model's input shape; N "
          "becomes the batch size), or a .png image of the model's input size (grey for 1 channel, RGB for "
          "3), pixels scaled to [0, 1] then normalised by --input_mean and --input_std.");
ABSL_FLAG(std::vector<std::string>, input_mean, {},
          "run: per-channel means subtracted from a .png input (e.g. 0.485,0.456,0.406 for torchvision).");
ABSL_FLAG(std::vector<std::string>, input_std, {},
          "run: per-channel standard deviations a .png input is divided by (e.g. 0.229,0.224,0.225).");

namespace strata::tools {
namespace {

// `bazel run` starts the tool inside its runfiles; relative paths are the
// user's (as in tools/strata.cc).
std::string UserPath(const std::string& path) {
  const char* cwd = std::getenv("BUILD_WORKING_DIRECTORY");
  if (path.empty() || path[0] == '/' || cwd == nullptr) return path;
  return absl::StrCat(cwd, "/", path);
}

int Fail(const absl::Status& s) {
  std::cerr << "strata: " << s << "\n";
  return 1;
}

int64_t ParameterCount(const Graph& g) {
  int64_t n = 0;
  for (const auto& node : g.nodes()) {
    if (node->op() == "Variable") n += node->output_spec(0).shape.num_elements();
  }
  return n;
}

// strata import MODEL.onnx --out=DIR: DIR/graph.pb (GraphDef) and
// DIR/variables.ckpt (the initializers), loadable with no ONNX at all.
absl::Status Import(const std::string& path) {
  const std::string dir = UserPath(absl::GetFlag(FLAGS_out));
  if (dir.empty()) return absl::InvalidArgumentError("import: --out=DIR is required");
  STRATA_ASSIGN_OR_RETURN(onnx_io::ImportedModel m, onnx_io::ImportOnnxFile(path));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  std::vector<std::string> inputs, outputs;
  for (const Output& o : m.inputs) inputs.push_back(o.node->name());
  for (const Output& o : m.outputs) outputs.push_back(o.name());
  STRATA_RETURN_IF_ERROR(serialization::SaveGraph(*m.graph, dir + "/graph.pb"));
  STRATA_RETURN_IF_ERROR(serialization::SaveCheckpoint(
      dir + "/variables.ckpt", m.initial_values,
      {{"onnx_model", path}, {"opset", absl::StrCat(m.opset)}, {"inputs", absl::StrJoin(inputs, ",")},
       {"outputs", absl::StrJoin(outputs, ",")}}));
  std::cout << "imported " << path << " (opset " << m.opset << "): " << m.graph->num_nodes() << " nodes, "
            << m.initial_values.size() << " variables, " << zoo::WithThousands(ParameterCount(*m.graph))
            << " parameters\n";
  for (size_t i = 0; i < m.inputs.size(); ++i) {
    std::cout << "  input  " << m.input_names[i] << " -> " << m.inputs[i].node->name() << " "
              << m.inputs[i].spec().ToString() << "\n";
  }
  for (size_t i = 0; i < m.outputs.size(); ++i) {
    std::cout << "  output " << m.output_names[i] << " <- " << m.outputs[i].name() << " "
              << m.outputs[i].spec().ToString() << "\n";
  }
  std::cout << "wrote " << dir << "/graph.pb and " << dir << "/variables.ckpt\n";
  return absl::OkStatus();
}

int64_t MetaInt(const std::map<std::string, std::string>& meta, const std::string& key, int64_t fallback) {
  auto it = meta.find(key);
  return it == meta.end() ? fallback : std::strtoll(it->second.c_str(), nullptr, 10);
}

// strata export: the checkpoint's model (its metadata names it and its
// options, as `strata eval` reads them), batch 1, logits as the output.
absl::Status Export() {
  const std::string out = UserPath(absl::GetFlag(FLAGS_out));
  if (out.empty()) return absl::InvalidArgumentError("export: --out=MODEL.onnx is required");
  std::string model = absl::GetFlag(FLAGS_model);
  std::string checkpoint = absl::GetFlag(FLAGS_checkpoint);
  if (checkpoint.empty()) checkpoint = absl::StrCat("checkpoints/", model, ".ckpt");
  STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(UserPath(checkpoint)));
  const auto& meta = ckpt.metadata;
  if (auto it = meta.find("model"); it != meta.end()) model = it->second;
  zoo::ModelConfig config;
  config.batch_size = 1;
  config.num_classes = MetaInt(meta, "classes", 10);
  config.image_size = MetaInt(meta, "image_size", 0);
  config.groups = MetaInt(meta, "groups", 1);
  config.aux_classifiers = MetaInt(meta, "aux_classifiers", 0) != 0;
  config.resnet_v1_5 = MetaInt(meta, "resnet_v1_5", 0) != 0;
  Graph g;
  STRATA_ASSIGN_OR_RETURN(zoo::Model m, zoo::BuildModel(model, g, config));
  onnx_io::ExportOptions options;
  options.output_names = {"logits"};
  STRATA_ASSIGN_OR_RETURN(onnx::ModelProto proto, onnx_io::ExportOnnx(g, {m.logits}, ckpt.tensors, options));
  STRATA_RETURN_IF_ERROR(onnx_io::CheckOnnxModel(proto));
  STRATA_RETURN_IF_ERROR(onnx_io::SaveOnnxFile(proto, out));
  std::cout << "exported " << model << " from " << ckpt.path << " to " << out << " (ONNX opset "
            << onnx_io::kExportOpset << ", checked): input images " << m.images.spec().ToString()
            << ", output logits " << m.logits.spec().ToString() << "\n";
  return absl::OkStatus();
}

// One value per channel from a flag (empty: `fallback` for every channel).
absl::StatusOr<std::vector<float>> PerChannel(const std::vector<std::string>& values, int64_t channels,
                                              float fallback, absl::string_view flag) {
  if (values.empty()) return std::vector<float>(channels, fallback);
  if (static_cast<int64_t>(values.size()) != channels) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " has ", values.size(), " values for ", channels,
                                                   " channels"));
  }
  std::vector<float> out;
  for (const std::string& v : values) {
    float f;
    if (!absl::SimpleAtof(v, &f)) return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not a number: ", v));
    out.push_back(f);
  }
  return out;
}

// A PNG as one NCHW float32 example of `shape` ([1,C,H,W]): pixels / 255,
// then (x - mean) / std per channel. No resizing: the sizes must agree.
absl::StatusOr<std::string> PngExample(const std::string& path, const Shape& shape) {
  STRATA_ASSIGN_OR_RETURN(viz::Image image, viz::ReadPng(path));
  if (shape.rank() != 4 || shape[2] != image.height || shape[3] != image.width || shape[1] != image.channels) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is ", image.width, "x", image.height, " with ",
                                                   image.channels, " channel(s); the model takes ",
                                                   shape.ToString(), " (NCHW; the image is not resized)"));
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<float> mean,
                          PerChannel(absl::GetFlag(FLAGS_input_mean), shape[1], 0.0f, "input_mean"));
  STRATA_ASSIGN_OR_RETURN(std::vector<float> stddev,
                          PerChannel(absl::GetFlag(FLAGS_input_std), shape[1], 1.0f, "input_std"));
  std::vector<float> x(shape[1] * shape[2] * shape[3]);
  for (int64_t c = 0; c < shape[1]; ++c)
    for (int64_t y = 0; y < shape[2]; ++y)
      for (int64_t w = 0; w < shape[3]; ++w) {
        x[(c * shape[2] + y) * shape[3] + w] = (image.at(w, y, c) / 255.0f - mean[c]) / stddev[c];
      }
  return std::string(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
}

// strata run: imports the model with the batch the input holds, runs it
// once, prints each row's largest output and writes the output to --out.
absl::Status Run(const std::string& path) {
  const std::string input = UserPath(absl::GetFlag(FLAGS_input));
  if (input.empty()) return absl::InvalidArgumentError("run: --input=FILE (raw float32 or .png) is required");
  // The example shape first (batch 1), then the batch the input holds.
  STRATA_ASSIGN_OR_RETURN(onnx_io::ImportedModel probe, onnx_io::ImportOnnxFile(path));
  std::string bytes;
  if (absl::EndsWith(input, ".png")) {
    const std::vector<int64_t>& d = probe.inputs[0].shape().dims();
    std::vector<int64_t> one = d;
    if (!one.empty()) one[0] = 1;
    STRATA_ASSIGN_OR_RETURN(bytes, PngExample(input, Shape(one)));
  } else {
    std::ifstream in(input, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot open input file ", input));
    bytes.assign((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  const int64_t example_bytes = probe.inputs[0].shape().num_elements() / probe.inputs[0].shape()[0] * 4;
  if (bytes.empty() || bytes.size() % example_bytes != 0) {
    const std::vector<int64_t>& dims = probe.inputs[0].shape().dims();
    return absl::InvalidArgumentError(absl::StrCat(input, " has ", bytes.size(), " bytes: not a whole number of ",
                                                   example_bytes, "-byte float32 examples of shape ",
                                                   Shape(std::vector<int64_t>(dims.begin() + 1, dims.end())).ToString()));
  }
  onnx_io::ImportOptions options;
  options.batch_size = bytes.size() / example_bytes;
  STRATA_ASSIGN_OR_RETURN(onnx_io::ImportedModel m, onnx_io::ImportOnnxFile(path, options));
  Tensor x(m.inputs[0].spec());
  if (static_cast<size_t>(x.num_bytes()) != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " has a fixed batch: its input ", x.spec().ToString(),
                                                   " needs ", x.num_bytes(), " bytes, ", input, " has ",
                                                   bytes.size()));
  }
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(x.raw_data()));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Session> session, runtime::Session::Create(*m.graph));
  STRATA_RETURN_IF_ERROR(onnx_io::LoadInitialValues(m, &session->variables()));
  STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> y, session->Run({{m.inputs[0], x}}, {m.outputs[0]}));
  const Tensor& out = y[0];
  std::cout << m.output_names[0] << " " << out.spec().ToString() << "\n";
  const int64_t rows = out.shape().rank() >= 1 ? out.shape()[0] : 1;
  const int64_t cols = out.num_elements() / rows;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = out.data<float>() + r * cols;
    const int64_t best = std::max_element(row, row + cols) - row;
    std::cout << absl::StrFormat("  example %d: largest output %d (%.6g)\n", r, best, row[best]);
  }
  if (const std::string path_out = UserPath(absl::GetFlag(FLAGS_out)); !path_out.empty()) {
    STRATA_RETURN_IF_ERROR(serialization::WriteFileAtomically(
        path_out, absl::string_view(static_cast<const char*>(out.raw_data()), out.num_bytes()), "output file"));
    std::cout << "wrote " << path_out << " (raw float32)\n";
  }
  return absl::OkStatus();
}

absl::Status Summary(const std::string& path) {
  if (absl::GetFlag(FLAGS_plan)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--plan plans the step of a zoo model (--model=NAME); ", path, " is an ONNX model"));
  }
  STRATA_ASSIGN_OR_RETURN(onnx_io::ImportedModel m, onnx_io::ImportOnnxFile(path));
  STRATA_ASSIGN_OR_RETURN(zoo::ModelSummary summary, zoo::SummarizeGraph(*m.graph));
  summary.model = path;
  std::cout << zoo::FormatSummary(summary);
  return absl::OkStatus();
}

}  // namespace

bool IsOnnxCommand(const std::vector<char*>& args) {
  if (args.size() < 2) return false;
  const std::string command = args[1];
  if (command == "import" || command == "export" || command == "run") return true;
  return command == "summary" && absl::EndsWith(absl::GetFlag(FLAGS_model), ".onnx");
}

int RunOnnxCommand(const std::vector<char*>& args) {
  const std::string command = args[1];
  absl::Status s;
  if (command == "import") {
    if (args.size() != 3) return Fail(absl::InvalidArgumentError("usage: strata import MODEL.onnx --out=DIR"));
    s = Import(UserPath(args[2]));
  } else if (args.size() != 2) {
    return Fail(absl::InvalidArgumentError(absl::StrCat("strata ", command, " takes no positional arguments")));
  } else if (command == "export") {
    s = Export();
  } else if (command == "run") {
    s = Run(UserPath(absl::GetFlag(FLAGS_model)));
  } else {
    s = Summary(UserPath(absl::GetFlag(FLAGS_model)));
  }
  return s.ok() ? 0 : Fail(s);
}

}  // namespace strata::tools
