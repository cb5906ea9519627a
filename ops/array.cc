// Shape manipulation ops. Reshape aliases its input (OpDef::AliasesInput):
// the runtime hands out a view, so it needs no kernel in either precision.
#include "ops/array.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/registry.h"

namespace strata::ops {
namespace {

absl::Status ReshapeShape(InferenceContext& c) {
  STRATA_ASSIGN_OR_RETURN(std::vector<int64_t> dims, c.Attr<std::vector<int64_t>>("shape"));
  const int64_t count = c.input(0).shape.num_elements();
  const std::string requested = absl::StrCat("[", absl::StrJoin(dims, ","), "]");
  int inferred = -1;
  int64_t known = 1;
  for (int i = 0; i < static_cast<int>(dims.size()); ++i) {
    if (dims[i] == -1) {
      if (inferred >= 0) return c.Error(absl::StrCat("shape ", requested, " has more than one -1"));
      inferred = i;
    } else if (dims[i] <= 0) {
      return c.Error(absl::StrCat("shape ", requested, " has a dimension that is neither positive nor -1"));
    } else if (known > count / dims[i]) {
      // The product already exceeds the count; checked before multiplying
      // so that huge dimensions cannot overflow it.
      return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
    } else {
      known *= dims[i];
    }
  }
  if (inferred >= 0) {
    if (count % known != 0) {
      return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
    }
    dims[inferred] = count / known;
  } else if (known != count) {
    return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
  }
  auto shape = Shape::Validated(dims);
  if (!shape.ok()) return c.Error(shape.status().message());
  if (shape->num_elements() != count) {
    return c.Error(absl::StrCat("cannot reshape ", count, " elements to ", requested));
  }
  c.set_output(0, {c.input(0).dtype, *shape});
  return absl::OkStatus();
}

}  // namespace

void RegisterArrayOps(OpRegistry& r) {
  r.Add(OpDef("Reshape")
            .Inputs(1)
            .RequiredAttr("shape")
            .Shape(ReshapeShape)
            .AliasesInput()
            .Gradient([](GradientContext& c) -> absl::StatusOr<std::vector<Output>> {
              return std::vector<Output>{Reshape(c.graph, c.output_grads[0], c.node.inputs()[0].shape().dims())};
            })
            .Doc("The same elements with another shape (one dimension may be -1); a view, not a copy."));
}

Output Reshape(Graph& g, Output x, std::vector<int64_t> shape, absl::string_view name) {
  Node* n = g.AddNode(Def("Reshape"), name, {x}, {{"shape", std::move(shape)}});
  return n ? n->output(0) : Output{};
}

Output Flatten(Graph& g, Output x, absl::string_view name) {
  if (!x.valid()) return Reshape(g, x, {}, name.empty() ? "Flatten" : name);
  const Shape& s = x.shape();
  if (s.rank() == 0) {
    g.RecordError(absl::InvalidArgumentError(
        absl::StrCat("Flatten of ", x.name(), ": a scalar has no batch dimension to keep")));
    return Output{};
  }
  int64_t rest = 1;
  for (int i = 1; i < s.rank(); ++i) rest *= s[i];
  return Reshape(g, x, {s[0], rest}, name.empty() ? "Flatten" : name);
}

}  // namespace strata::ops
