// Checkpoints: every variable's value by name, plus free-form metadata.
//
// File layout (all integers little-endian):
//   "STRATACK"  uint32 version (1)
//   data section: each tensor's raw bytes, at 64-byte aligned file offsets
//   CheckpointIndex proto (name, dtype, dims, offset, length, masked CRC32C)
//   footer: uint64 index_offset, uint64 index_length,
//           uint32 masked CRC32C of the index bytes, "STRATACK"
// Tensor bytes stay out of the proto (2 GiB limit, one CRC per tensor), and
// the fixed footer lets a reader find and check the index before trusting it.
#ifndef STRATA_SERIALIZATION_CHECKPOINT_H_
#define STRATA_SERIALIZATION_CHECKPOINT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "graph/graph.h"
#include "runtime/variable_store.h"

namespace strata::serialization {

inline constexpr char kCheckpointMagic[] = "STRATACK";  // 8 bytes in the file
inline constexpr uint32_t kCheckpointVersion = 1;

struct Checkpoint {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;
  std::string path;  // where it was loaded from, for error messages
};

// Writes path + ".tmp.<pid>", fsyncs it, renames it over `path` and fsyncs
// the directory, so a crash or error at any point leaves a previous file at
// `path` intact. On failure the temporary file is removed; the Status names
// the file and the system error. Every tensor must be valid. A process killed
// mid-save leaves its temporary file behind: the next save (or
// WriteFileAtomically) to the same path removes `<path>.tmp.<pid>` files
// whose process no longer exists.
absl::Status SaveCheckpoint(const std::string& path, const std::map<std::string, Tensor>& tensors,
                            const std::map<std::string, std::string>& metadata = {});

// Reads and checks a whole checkpoint: sizes, magics, version, offsets, the
// index CRC, every entry's dtype and shape, that no two tensors share bytes
// (so that memory used is bounded by the file size), and every tensor's CRC.
// Nothing is allocated from a size before it is checked. Errors
// name the file and the tensor: NotFound (no such file), DataLoss (corrupt
// or truncated), InvalidArgument (a newer format version).
absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path);

// Sets every Variable of `graph` from the checkpoint, which must hold a
// tensor of the variable's name, dtype and shape (NotFound / InvalidArgument
// naming the tensor, both specs and the file otherwise). Everything is
// checked before the store changes. Extra tensors are ignored.
absl::Status RestoreVariables(const Checkpoint& checkpoint, const Graph& graph,
                              runtime::VariableStore* store);

// Deep copies of every value in the store, ready for SaveCheckpoint; later
// training steps do not change them.
std::map<std::string, Tensor> SnapshotVariables(const runtime::VariableStore& store);

// Writes `contents` to `path` with the same temporary file, fsync and rename
// as SaveCheckpoint. `what` starts error messages ("graph file").
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 absl::string_view what = "file");

}  // namespace strata::serialization

#endif  // STRATA_SERIALIZATION_CHECKPOINT_H_
