#include "onnx/fine_tune.h"

#include <chrono>
#include <random>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/nn.h"
#include "ops/state.h"
#include "runtime/session.h"
#include "serialization/checkpoint.h"

namespace strata::onnx_io {
namespace {

absl::StatusOr<Output> Logits(const ImportedModel& m, const std::string& name) {
  if (name.empty()) return m.outputs[0];
  return m.graph->FindOutput(name);
}

std::vector<float> Values(const Tensor& t) { return std::vector<float>(t.flat<float>().begin(), t.flat<float>().end()); }

}  // namespace

absl::StatusOr<FineTuneResult> FineTuneOnnx(const std::string& onnx_path, const FineTuneOptions& options) {
  ImportOptions import_options;
  import_options.batch_size = options.batch_size;
  STRATA_ASSIGN_OR_RETURN(ImportedModel m, ImportOnnxFile(onnx_path, import_options));
  Graph& g = *m.graph;
  STRATA_ASSIGN_OR_RETURN(Output logits, Logits(m, options.logits));
  if (logits.shape().rank() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("logits ", logits.name(), " are ", logits.spec().ToString(),
                                                   ", not [batch, classes]"));
  }
  const int64_t n = logits.shape()[0];
  const int64_t classes = options.num_classes > 0 ? options.num_classes : logits.shape()[1];
  Output labels = ops::Placeholder(g, "labels", {n}, DType::kInt32);
  Output loss = ops::SoftmaxCrossEntropyWithLogits(g, logits, labels, "loss");
  STRATA_ASSIGN_OR_RETURN(Node * step, optim::Minimize(g, loss, options.optimizer));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Session> session, runtime::Session::Create(g));
  STRATA_RETURN_IF_ERROR(LoadInitialValues(m, &session->variables()));
  STRATA_RETURN_IF_ERROR(session->InitializeVariables(options.seed));  // the optimizer's slots

  std::mt19937 rng(options.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int32_t> label(0, static_cast<int32_t>(classes - 1));
  Tensor x(m.inputs[0].spec()), y(DType::kInt32, Shape{n});
  for (float& v : x.flat<float>()) v = normal(rng);
  for (int32_t& v : y.flat<int32_t>()) v = label(rng);
  const runtime::Feeds feeds = {{m.inputs[0], x}, {labels, y}};

  FineTuneResult result;
  const auto start = std::chrono::steady_clock::now();
  for (int64_t s = 0; s < options.steps; ++s) {
    RunOptions run{.training = true, .seed = options.seed, .step = s};
    STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> out, session->Run(feeds, {loss}, {step}, run));
    result.losses.push_back(out[0].data<float>()[0]);
  }
  result.seconds_per_step =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / std::max<int64_t>(options.steps, 1);
  STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> tuned, session->Run({{m.inputs[0], x}}, {logits}));
  result.logits = Values(tuned[0]);
  if (options.checkpoint.empty()) return result;

  STRATA_RETURN_IF_ERROR(serialization::SaveCheckpoint(options.checkpoint,
                                                       serialization::SnapshotVariables(session->variables()),
                                                       {{"onnx_model", onnx_path}}));
  STRATA_ASSIGN_OR_RETURN(serialization::Checkpoint ckpt, serialization::LoadCheckpoint(options.checkpoint));
  STRATA_ASSIGN_OR_RETURN(ImportedModel fresh, ImportOnnxFile(onnx_path, import_options));
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<runtime::Session> restored, runtime::Session::Create(*fresh.graph));
  STRATA_RETURN_IF_ERROR(serialization::RestoreVariables(ckpt, *fresh.graph, &restored->variables()));
  STRATA_ASSIGN_OR_RETURN(Output fresh_logits, Logits(fresh, options.logits));
  STRATA_ASSIGN_OR_RETURN(std::vector<Tensor> again, restored->Run({{fresh.inputs[0], x}}, {fresh_logits}));
  result.restored_logits = Values(again[0]);
  return result;
}

}  // namespace strata::onnx_io
