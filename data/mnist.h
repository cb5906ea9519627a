// MNIST in the IDX format (gzip-compressed or plain), loaded into tensors.
// Every header field is checked against the decompressed length before
// anything is allocated from it, so a corrupt or hostile file yields a Status
// naming the file rather than a crash or a huge allocation.
#ifndef STRATA_DATA_MNIST_H_
#define STRATA_DATA_MNIST_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/tensor.h"

namespace strata::data {

struct Dataset {
  Tensor images;  // float32 [N,1,rows,cols], scaled to [0,1] (28x28 for MNIST)
  Tensor labels;  // int32 [N]
  int64_t size() const { return labels.valid() ? labels.shape()[0] : 0; }
};

// Reads an IDX3 image file (magic 0x00000803) into float32 [N,1,rows,cols]
// scaled to [0,1]. A missing file is NotFound; a bad magic or dimension is
// InvalidArgument; a length that disagrees with the header, or a damaged gzip
// stream, is DataLoss.
absl::StatusOr<Tensor> ReadIdxImages(const std::string& path);

// Reads an IDX1 label file (magic 0x00000801) into int32 [N]; every label
// must be below num_classes.
absl::StatusOr<Tensor> ReadIdxLabels(const std::string& path, int num_classes = 10);

// Loads `<dir>/<split>-images-idx3-ubyte[.gz]` and
// `<dir>/<split>-labels-idx1-ubyte[.gz]` (the .gz name is preferred when both
// exist). split is "train" or "test". Images must be 28x28 and the two files
// must hold the same number of examples.
absl::StatusOr<Dataset> LoadMnist(const std::string& dir, absl::string_view split);

// images = (images - mean) / std, in place (std must be positive). The
// trainer uses MNIST's mean 0.1307 and std 0.3081, as PyTorch's recipe does.
// The tensor storage is shared by copies of the Dataset, so they see it too.
void Normalize(Dataset& dataset, float mean, float std);

// Where the bundled data is: $STRATA_MNIST_DIR when set (an explicit choice
// wins even if wrong, so that the load error names it), else the first of
// $RUNFILES_DIR/strata/data/mnist, $TEST_SRCDIR/strata/data/mnist,
// <this executable>.runfiles/strata/data/mnist,
// $BUILD_WORKSPACE_DIRECTORY/data/mnist and ./data/mnist that holds
// train-images-idx3-ubyte(.gz); "data/mnist" when none does.
std::string DefaultMnistDir();

}  // namespace strata::data

#endif  // STRATA_DATA_MNIST_H_
