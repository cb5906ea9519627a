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
#include "absl/strings/match.h"
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
#include "zoo/summary.h"

// Defined by tools/strata.cc and tools/visualize.cc, shared with their commands.
ABSL_DECLARE_FLAG(std::string, model);
ABSL_DECLARE_FLAG(std::string, checkpoint);
ABSL_DECLARE_FLAG(std::string, out);

ABSL_FLAG(std::string, input, "",
          "run: the input tensor as raw little-endian float32 values (N whole examples of the model's input "
          "shape; N becomes the batch size).");

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

// strata run: imports the model with the batch the input file holds, runs
// it once, prints each row's largest output and writes the output to --out.
absl::Status Run(const std::string& path) {
  const std::string input = UserPath(absl::GetFlag(FLAGS_input));
  if (input.empty()) return absl::InvalidArgumentError("run: --input=FILE (raw float32) is required");
  std::ifstream in(input, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open input file ", input));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The example shape first (batch 1), then the batch the file holds.
  STRATA_ASSIGN_OR_RETURN(onnx_io::ImportedModel probe, onnx_io::ImportOnnxFile(path));
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
