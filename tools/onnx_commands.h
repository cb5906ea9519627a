// The ONNX subcommands of `strata`:
//   strata import MODEL.onnx --out=DIR    a Strata graph file and checkpoint
//   strata export [--model=NAME] [--checkpoint=PATH] --out=MODEL.onnx
//   strata run --model=MODEL.onnx --input=FILE [--out=FILE]
//   strata summary --model=MODEL.onnx     the layer table of an ONNX model
#ifndef STRATA_TOOLS_ONNX_COMMANDS_H_
#define STRATA_TOOLS_ONNX_COMMANDS_H_

#include <vector>

namespace strata::tools {

// True when the positional arguments (after flag parsing) name one of the
// commands above (summary only with an --model ending in ".onnx").
bool IsOnnxCommand(const std::vector<char*>& args);
// Runs it; returns the process exit code (errors are printed).
int RunOnnxCommand(const std::vector<char*>& args);

}  // namespace strata::tools

#endif  // STRATA_TOOLS_ONNX_COMMANDS_H_
