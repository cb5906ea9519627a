// The universal approximation experiment's core: a multilayer perceptron of
// given hidden widths fitted, full batch, to f(x) = sin(3x) + 0.3 x^2 on
// [-2, 2], and its error on points between the training points.
#ifndef STRATA_EXPERIMENTS_UNIVERSAL_APPROXIMATION_H_
#define STRATA_EXPERIMENTS_UNIVERSAL_APPROXIMATION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace strata::experiments {

// The function fitted: continuous on the compact interval [-2, 2].
double Target(double x);
inline constexpr double kIntervalLow = -2.0;
inline constexpr double kIntervalHigh = 2.0;

struct MlpSpec {
  std::vector<int64_t> hidden;       // widths of the hidden layers: {64} is one layer of 64
  std::string activation = "tanh";   // "tanh" or "relu"
};
// "1-64-1 tanh".
std::string Describe(const MlpSpec& spec);
// Weights and biases of the net: (1 + 1) * h1 + (h1 + 1) * h2 + ... + (hk + 1).
int64_t MlpParameters(const MlpSpec& spec);

struct FitOptions {
  int64_t train_points = 128;  // evenly spaced on the interval, ends included
  int64_t test_points = 127;   // the midpoints between training points
  int steps = 3000;            // full-batch Adam steps
  double learning_rate = 0.01; // Adam's; divided by 10 for the last quarter of the steps
  uint64_t seed = 1;           // initial weights
};

struct FitResult {
  MlpSpec spec;
  int64_t parameters = 0;
  double train_mse = 0;  // after the last step
  double test_mse = 0;   // on the midpoints
  double test_max_error = 0;
  std::vector<double> test_x, test_prediction;  // for plotting the fit
  double seconds = 0;
};

// Builds the net (hidden layers "hidden<i>", output "output", PyTorch's
// default initialisation), trains it with full-batch Adam on the mean squared
// error and evaluates it. InvalidArgument for an empty or non-positive width,
// an unknown activation or fewer than 2 points.
absl::StatusOr<FitResult> FitMlp(const MlpSpec& spec, const FitOptions& options);

}  // namespace strata::experiments

#endif  // STRATA_EXPERIMENTS_UNIVERSAL_APPROXIMATION_H_
