// `strata visualize filters|activations|top-inputs` and `strata graph`: the
// pictures of viz/ made from a checkpoint or a zoo model.
#ifndef STRATA_TOOLS_VISUALIZE_H_
#define STRATA_TOOLS_VISUALIZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "graph/tensor.h"
#include "viz/grid.h"
#include "zoo/model.h"

namespace strata::tools {

struct VisualizeOptions {
  std::string checkpoint;  // written by `strata train`
  std::string model;       // used only when the checkpoint names none
  std::string data_dir;    // MNIST IDX files (activations, top-inputs)
  std::string layer;       // "c1", "conv1", "s2", ...
  std::string out;         // the PNG to write
  int64_t index = 0;       // activations: the test-split example
  int64_t filter = 0;      // top-inputs: the channel of the layer's output
  int64_t top_k = 16;      // top-inputs: how many examples
  int64_t max_examples = 0;  // top-inputs: search only the first N test examples (0: all)
  int64_t scale = 4;       // pixels per value
};

// What a command drew, for callers that check the picture.
struct Picture {
  std::vector<viz::Tile> tiles;  // in grid order
  viz::GridOptions grid;
  std::vector<int64_t> examples;  // top-inputs: test-split indices, best first
  std::vector<double> scores;     // top-inputs: their mean activations
};

absl::StatusOr<Picture> VisualizeFilters(const VisualizeOptions& o);
// Tile 0 is the input, then the layer's channels in order.
absl::StatusOr<Picture> VisualizeActivations(const VisualizeOptions& o);
absl::StatusOr<Picture> VisualizeTopInputs(const VisualizeOptions& o);

// The model's forward graph as DOT, or SVG through Graphviz's `dot` when
// `out` ends in ".svg" (FailedPrecondition when `dot` is not installed).
absl::Status WriteModelGraph(const std::string& model, const zoo::ModelConfig& config, const std::string& out);

// Where `dot` is ("" when not on PATH).
std::string FindDotBinary();

// `strata plot --csv=PATH [--out=PATH.svg]`: a training run's metrics.csv as
// an SVG of loss, learning rate and accuracy against the step (viz/plot.h).
// args as for RunVisualize ("strata", "plot").
int RunPlot(const std::vector<char*>& args);

// The `visualize` and `graph` subcommands; args are the positional
// arguments left by absl::ParseCommandLine ("strata", "visualize", "filters").
int RunVisualize(const std::vector<char*>& args);

}  // namespace strata::tools

#endif  // STRATA_TOOLS_VISUALIZE_H_
