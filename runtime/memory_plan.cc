#include "runtime/memory_plan.h"

#include <algorithm>
#include <iterator>
#include <unordered_map>

namespace strata::runtime {
namespace {

using Value = std::pair<const Node*, int>;

struct Lifetime {
  Value value;
  int64_t bytes = 0;
  int64_t first = 0;  // the step that writes it
  int64_t last = 0;   // the last step that reads it
  int64_t offset = -1;
};

int64_t Rounded(int64_t bytes) { return std::max<int64_t>(64, (bytes + 63) / 64 * 64); }

}  // namespace

MemoryPlan PlanMemory(const std::vector<const Node*>& order, const std::vector<Output>& fetches,
                      const Fusions& fusions) {
  // The value whose storage a value uses: itself, or for an alias (a
  // reshape's output, a fused activation's) the storage of what it aliases.
  // Sources have none (-1 in `index`).
  std::unordered_map<const Node*, int64_t> step_of;
  for (size_t i = 0; i < order.size(); ++i) step_of[order[i]] = static_cast<int64_t>(i);
  // Memoised: a chain of 100,000 reshapes must not be walked per reader.
  // Aliases follow their input in the schedule, so roots resolve in one
  // forward pass.
  std::map<Value, Value> alias_root;
  for (const Node* n : order) {
    Value target;
    if (auto f = fusions.fused_into.find(n); f != fusions.fused_into.end()) {
      target = {f->second, 0};
    } else if (n->def().aliases_input && !n->inputs().empty()) {
      target = {n->inputs()[0].node, n->inputs()[0].index};
    } else if (auto e = fusions.epilogue_of.find(n); e != fusions.epilogue_of.end() && e->second.residual_in_place) {
      target = {e->second.residual.node, e->second.residual.index};  // written over the residual
    } else {
      continue;
    }
    auto r = alias_root.find(target);
    alias_root[{n, 0}] = r != alias_root.end() ? r->second : target;
  }
  auto root = [&](Value v) -> Value {
    auto r = alias_root.find(v);
    return r != alias_root.end() ? r->second : v;
  };
  std::map<Value, Lifetime> lives;
  for (const Node* n : order) {
    if (n->def().is_source || fusions.fused_into.count(n) || n->def().aliases_input || fusions.absorbed.count(n) ||
        alias_root.count({n, 0})) {
      continue;
    }
    for (int k = 0; k < n->num_outputs(); ++k) {
      const TensorSpec& spec = n->output_spec(k);
      Lifetime& l = lives[{n, k}];
      l.value = {n, k};
      l.bytes = Rounded(spec.shape.num_elements() * SizeOf(spec.dtype));
      l.first = l.last = step_of[n];
    }
  }
  auto read_at = [&](Value v, int64_t step) {
    auto it = lives.find(root(v));
    if (it != lives.end()) it->second.last = std::max(it->second.last, step);
  };
  for (const Node* n : order) {
    for (const Output& in : n->inputs()) read_at({in.node, in.index}, step_of[n]);
  }
  // A batch norm's gradient that applies its ReLU's gradient reads that
  // gradient's input, and the mask the batch norm wrote for it.
  for (const auto& [grad, f] : fusions.relu_grad_into) {
    Lifetime& mask = lives[{f.batch_norm, Fusions::kReluMaskOutput}];
    mask.value = {f.batch_norm, Fusions::kReluMaskOutput};
    mask.bytes = Rounded(Fusions::ReluMaskBytes(*f.batch_norm));
    mask.first = step_of[f.batch_norm];
    mask.last = step_of[grad];
    const Output& dy = f.relu_grad->inputs()[0];
    read_at({dy.node, dy.index}, step_of[grad]);
  }
  // A ReLU's gradient that sums its dy itself reads the sum's inputs.
  for (const auto& [relu_grad, add] : fusions.sum_into) {
    for (const Output& in : add->inputs()) read_at({in.node, in.index}, step_of[relu_grad]);
  }
  const int64_t end = static_cast<int64_t>(order.size());
  for (const Output& o : fetches) {
    auto it = lives.find(root({o.node, o.index}));
    if (it != lives.end()) it->second.last = end;
  }

  // A sweep over the steps, as an allocator would run: at each step, free
  // the values whose last reader has run, then place the values it writes
  // (largest first) in the smallest free block that fits, or at the end.
  // O(values x free blocks); free blocks coalesce, so they stay few.
  MemoryPlan plan;
  std::vector<Lifetime*> by_start;
  for (auto& [v, l] : lives) {
    by_start.push_back(&l);
    plan.unshared_bytes += l.bytes;
  }
  std::stable_sort(by_start.begin(), by_start.end(), [](const Lifetime* a, const Lifetime* b) {
    return a->first != b->first ? a->first < b->first : a->bytes > b->bytes;
  });
  std::map<int64_t, int64_t> free_blocks;  // offset -> bytes
  int64_t top = 0;                         // the arena's end so far
  auto release = [&](int64_t offset, int64_t bytes) {
    auto next = free_blocks.lower_bound(offset);
    if (next != free_blocks.end() && offset + bytes == next->first) {
      bytes += next->second;
      next = free_blocks.erase(next);
    }
    if (next != free_blocks.begin()) {
      auto prev = std::prev(next);
      if (prev->first + prev->second == offset) {
        prev->second += bytes;
        return;
      }
    }
    free_blocks[offset] = bytes;
  };
  auto later_end = [](const Lifetime* a, const Lifetime* b) { return a->last > b->last; };
  std::vector<Lifetime*> live;  // a min-heap on `last`
  for (Lifetime* l : by_start) {
    while (!live.empty() && live.front()->last < l->first) {
      std::pop_heap(live.begin(), live.end(), later_end);
      release(live.back()->offset, live.back()->bytes);
      live.pop_back();
    }
    auto best = free_blocks.end();
    for (auto it = free_blocks.begin(); it != free_blocks.end(); ++it) {
      if (it->second >= l->bytes && (best == free_blocks.end() || it->second < best->second)) best = it;
    }
    if (best != free_blocks.end()) {
      l->offset = best->first;
      const int64_t rest = best->second - l->bytes;
      free_blocks.erase(best);
      if (rest > 0) free_blocks[l->offset + l->bytes] = rest;
    } else if (!free_blocks.empty() && free_blocks.rbegin()->first + free_blocks.rbegin()->second == top) {
      // Grow the free block that ends the arena.
      l->offset = free_blocks.rbegin()->first;
      top = l->offset + l->bytes;
      free_blocks.erase(l->offset);
    } else {
      l->offset = top;
      top += l->bytes;
    }
    live.push_back(l);
    std::push_heap(live.begin(), live.end(), later_end);
    plan.offsets[l->value] = l->offset;
  }
  plan.arena_bytes = top;
  return plan;
}

}  // namespace strata::runtime
