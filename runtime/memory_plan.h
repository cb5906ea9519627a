// The static memory plan of a run: every intermediate value (each output a
// kernel writes) gets an offset in one arena, and values whose lifetimes do
// not overlap share bytes. A value lives from the step that writes it to
// the last step that reads it (or through an alias: a reshape, a fused
// ReLU), or to the end of the run when it is fetched. Known before anything
// runs, so the peak is too.
//
// Sources (placeholders, constants, variables) keep their own storage: they
// outlive a run.
#ifndef STRATA_RUNTIME_MEMORY_PLAN_H_
#define STRATA_RUNTIME_MEMORY_PLAN_H_

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "graph/graph.h"
#include "runtime/fusion.h"

namespace strata::runtime {

struct MemoryPlan {
  // Offset of each value that lives in the arena, keyed by (node, output).
  std::map<std::pair<const Node*, int>, int64_t> offsets;
  int64_t arena_bytes = 0;     // the arena: the peak of the live values
  int64_t unshared_bytes = 0;  // what the same values take without sharing
};

// Plans the values of `order` (a schedule: producers before readers) that
// must also deliver `fetches`. Value sizes come from the nodes' output specs,
// rounded up to 64 bytes (each value stays 64-byte aligned).
MemoryPlan PlanMemory(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                      const Fusions& fusions);

}  // namespace strata::runtime

#endif  // STRATA_RUNTIME_MEMORY_PLAN_H_
