// Activations, softmax and the classification loss. Activations take any
// shape; Softmax, the loss and ArgMax work on [N,C] rows (classes along 1).
#ifndef STRATA_OPS_NN_H_
#define STRATA_OPS_NN_H_

#include "graph/graph.h"

namespace strata::ops {

Output Relu(Graph& g, Output x, absl::string_view name = "");
Output Tanh(Graph& g, Output x, absl::string_view name = "");
Output Sigmoid(Graph& g, Output x, absl::string_view name = "");
// Softmax over axis 1 of [N,C].
Output Softmax(Graph& g, Output logits, absl::string_view name = "");
// The mean over the batch of -log softmax(logits)[label]: a scalar. logits
// [N,C] float32, labels [N] int32 class indices in [0, C); a label outside
// that range makes Session::Run fail naming the example and the label.
Output SoftmaxCrossEntropyWithLogits(Graph& g, Output logits, Output labels, absl::string_view name = "");
// The index of the largest value of each row of [N,C] (the first on ties),
// as int32 [N]. Not differentiable.
Output ArgMax(Graph& g, Output x, absl::string_view name = "");

}  // namespace strata::ops

#endif  // STRATA_OPS_NN_H_
