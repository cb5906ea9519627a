// Helpers shared by the op test suites.
#ifndef STRATA_TESTS_TEST_UTIL_H_
#define STRATA_TESTS_TEST_UTIL_H_

#include <vector>

#include "absl/status/statusor.h"
#include "graph/graph.h"
#include "runtime/session.h"

namespace strata::test {

// Runs `fetches` once in a fresh Session with these run options (training
// mode, seed, step): the oneDNN kernels, or the float64 reference kernels
// when `reference` is set.
inline absl::StatusOr<std::vector<Tensor>> RunGraph(const Graph& g, const runtime::Feeds& feeds,
                                                    const std::vector<Output>& fetches, const RunOptions& run,
                                                    bool reference = false) {
  runtime::SessionOptions options;
  options.reference_float64 = reference;
  auto session = runtime::Session::Create(g, options);
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds, fetches, {}, run);
}

// The same with default run options (inference mode).
inline absl::StatusOr<std::vector<Tensor>> RunGraph(const Graph& g, const runtime::Feeds& feeds,
                                                    const std::vector<Output>& fetches, bool reference = false) {
  return RunGraph(g, feeds, fetches, RunOptions{}, reference);
}

}  // namespace strata::test

#endif  // STRATA_TESTS_TEST_UTIL_H_
