// Graph inputs and state: placeholders (fed per run), constants, variables
// (owned by the Session's VariableStore, with their initializers) and Group,
// a node that only orders other nodes (a training step's target).
#ifndef STRATA_OPS_STATE_H_
#define STRATA_OPS_STATE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"

namespace strata::ops {

Output Placeholder(Graph& g, absl::string_view name, Shape shape, DType dtype = DType::kFloat32);
Output Const(Graph& g, Tensor value, absl::string_view name = "");
Output ScalarConst(Graph& g, float value, absl::string_view name = "");

// How a variable gets its first value. Fans follow the layout conventions:
// OIHW convolution weights have fan_in = I*H*W, fan_out = O*H*W; [in,out]
// matrices fan_in = in, fan_out = out.
struct Initializer {
  std::string kind = "zeros";  // zeros, constant, uniform, normal, glorot_uniform, he_normal
  double a = 0;                // constant: value; uniform: low; normal: mean
  double b = 0;                // uniform: high; normal: stddev

  static Initializer Zeros() { return {"zeros", 0, 0}; }
  static Initializer Constant(double v) { return {"constant", v, 0}; }
  static Initializer Uniform(double low, double high) { return {"uniform", low, high}; }
  static Initializer Normal(double mean, double stddev) { return {"normal", mean, stddev}; }
  // Xavier/Glorot: U(-l, l), l = sqrt(6 / (fan_in + fan_out)).
  static Initializer GlorotUniform() { return {"glorot_uniform", 0, 0}; }
  // He ("Xavier/2"): N(0, sqrt(2 / fan_in)).
  static Initializer HeNormal() { return {"he_normal", 0, 0}; }
};

// A named, trainable (by default) float32 variable. Its name is the key of
// its value in the VariableStore and in checkpoints.
Output Variable(Graph& g, absl::string_view name, Shape shape, Initializer init = Initializer::Zeros(),
                bool trainable = true);

// A node with no outputs that runs after all of `deps`.
Node* Group(Graph& g, std::vector<Node*> deps, absl::string_view name = "group");

// Variable nodes of the graph in the order they were added.
std::vector<Node*> Variables(const Graph& g, bool trainable_only = false);

// The initial value of a Variable node: deterministic in (seed, name), so it
// does not depend on the order in which variables are initialised.
absl::StatusOr<Tensor> InitialValue(const Node& variable, uint64_t seed);

}  // namespace strata::ops

#endif  // STRATA_OPS_STATE_H_
