// libFuzzer harness for FromGraphDef, the reader behind LoadGraph: any bytes
// that parse as a GraphDef must give a graph or a Status, never a crash, a
// sanitizer report or a huge allocation. A graph that loads must have no
// recorded error and must survive ToGraphDef and a second load unchanged.
//
// With STRATA_FUZZ_DEEP=1 in the environment, a graph that loads is also
// used the way a loaded model is: gradients of its first scalar float32
// output with respect to its variables, then a Session that initialises the
// variables, feeds zeros to every placeholder and fetches every output (when
// they total at most 64 MiB). Much slower; it fuzzes the ops' shape
// functions, gradient rules and kernels through the reader. See
// fuzz/README.md.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "autodiff/gradients.h"
#include "ops/state.h"
#include "runtime/session.h"
#include "serialization/graph_def.h"

namespace {

using strata::Graph;
namespace ser = strata::serialization;

// Small enough that a fuzzer never spends its memory on one input; the
// checks are the same at any limit.
ser::GraphLimits FuzzLimits() {
  ser::GraphLimits limits;
  limits.max_nodes = 20'000;
  limits.max_tensor_bytes = int64_t{1} << 24;
  limits.max_total_const_bytes = int64_t{1} << 25;
  return limits;
}

bool DeepMode() {
  static const bool deep = std::getenv("STRATA_FUZZ_DEEP") != nullptr;
  return deep;
}

// Errors are fine (an op without a gradient rule, a kernel refusing its
// attributes); crashes and sanitizer reports are what this looks for.
void UseTheGraph(Graph& g) {
  std::vector<strata::Output> variables;
  for (strata::Node* v : strata::ops::Variables(g, /*trainable_only=*/true)) variables.push_back(v->output(0));
  strata::Output loss;
  for (const auto& n : g.nodes()) {
    for (int i = 0; i < n->num_outputs() && !loss.valid(); ++i) {
      const strata::TensorSpec& spec = n->output_spec(i);
      if (spec.dtype == strata::DType::kFloat32 && spec.shape.num_elements() == 1) loss = n->output(i);
    }
  }
  if (loss.valid() && !variables.empty()) {
    auto grads = strata::autodiff::Gradients(g, loss, variables);
    (void)grads;
  }
  if (!g.status().ok()) return;

  int64_t total = 0;
  strata::runtime::Feeds feeds;
  std::vector<strata::Output> fetches;
  std::vector<strata::Node*> targets;
  for (const auto& n : g.nodes()) {
    if (n->num_outputs() == 0) targets.push_back(n.get());
    for (int i = 0; i < n->num_outputs(); ++i) {
      total += n->output_spec(i).shape.num_elements() * strata::SizeOf(n->output_spec(i).dtype);
      fetches.push_back(n->output(i));
    }
  }
  if (total > (int64_t{64} << 20)) return;
  for (const auto& n : g.nodes()) {
    if (n->op() == "Placeholder") feeds.emplace_back(n->output(0), strata::Tensor(n->output_spec(0)));
  }
  auto session = strata::runtime::Session::Create(g);
  if (!session.ok() || !(*session)->InitializeVariables(1).ok()) return;
  auto out = (*session)->Run(feeds, fetches, targets);
  (void)out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  strata::proto::GraphDef def;
  if (!def.ParseFromArray(data, static_cast<int>(size))) return 0;
  Graph g;
  absl::Status s = ser::FromGraphDef(def, &g, FuzzLimits());
  if (!s.ok()) {
    if (s.message().empty()) __builtin_trap();
    return 0;
  }
  if (!g.status().ok()) __builtin_trap();

  std::string first, second;
  if (!ser::SerializeDeterministic(ser::ToGraphDef(g), &first)) __builtin_trap();
  strata::proto::GraphDef written;
  if (!written.ParseFromString(first)) __builtin_trap();
  Graph g2;
  if (!ser::FromGraphDef(written, &g2, FuzzLimits()).ok()) __builtin_trap();
  if (!ser::SerializeDeterministic(ser::ToGraphDef(g2), &second) || first != second) __builtin_trap();
  if (DeepMode()) UseTheGraph(g);
  return 0;
}
