// `--config=FILE` for `strata train`: a text-protobuf TrainConfigFile
// (tools/train_config.proto) whose fields set the flags of the same names.
// main() applies the file before absl parses the command line, so a flag
// given on the command line overrides the file's value.
#ifndef STRATA_TOOLS_CONFIG_FILE_H_
#define STRATA_TOOLS_CONFIG_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace strata::tools {

// The FILE of "--config=FILE" or "--config FILE" in argv (the last one
// given), or "" when there is none.
std::string FindConfigArgument(int argc, char** argv);

// Parses `path` as a text-format TrainConfigFile and sets each flag it names
// to the file's value. Errors name the file and, for a syntax error or an
// unknown field, the line and column; for a value a flag rejects, the field.
absl::Status ApplyConfigFile(const std::string& path);

}  // namespace strata::tools

#endif  // STRATA_TOOLS_CONFIG_FILE_H_
