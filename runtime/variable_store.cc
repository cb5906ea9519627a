#include "runtime/variable_store.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "graph/status_macros.h"
#include "ops/onednn.h"

namespace strata::runtime {
namespace {

// Variables are converted rarely (a plan switch, a checkpoint), so an
// engine and stream of their own do.
const dnnl::engine& Engine() {
  static const dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

// Reorders `from` (in layout `from_desc`) into `to` (in `to_desc`); both of
// the same spec.
absl::Status Convert(const Tensor& from, const dnnl::memory::desc& from_desc, Tensor& to,
                     const dnnl::memory::desc& to_desc, absl::string_view name) {
  return onednn::Guard(absl::StrCat("converting the layout of variable '", name, "'"), [&] {
    dnnl::stream stream(Engine());
    dnnl::memory src(from_desc, Engine(), const_cast<void*>(from.raw_data()));
    dnnl::memory dst(to_desc, Engine(), to.raw_data());
    dnnl::reorder(src, dst).execute(stream, src, dst);
    stream.wait();
  });
}

// The plain layout of a layout's dims (grouped convolution weights are 5-D
// in oneDNN: goihw is the same bytes as our OIHW).
dnnl::memory::desc PlainLike(const dnnl::memory::desc& d) {
  const dnnl::memory::dims dims = d.dims();
  return dnnl::memory::desc(dims, d.data_type(), onednn::PlainTag(static_cast<int>(dims.size())));
}

}  // namespace

absl::StatusOr<Tensor> VariableStore::Plain(const std::string& name, const Entry& e) const {
  if (e.layout == nullptr) return e.storage;
  Tensor plain(e.storage.spec());
  STRATA_RETURN_IF_ERROR(Convert(e.storage, e.layout->desc, plain, PlainLike(e.layout->desc), name));
  return plain;
}

absl::StatusOr<Tensor> VariableStore::Get(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return absl::NotFoundError(absl::StrCat("variable '", name, "' has no value"));
  return Plain(it->first, it->second);
}

absl::StatusOr<Tensor> VariableStore::Storage(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return absl::NotFoundError(absl::StrCat("variable '", name, "' has no value"));
  return it->second.storage;
}

std::map<std::string, Tensor> VariableStore::values() const {
  std::map<std::string, Tensor> out;
  for (const auto& [name, e] : values_) {
    // SetLayout made sure both ways between this layout and plain exist
    // before keeping it: this cannot fail but for memory, and an invalid
    // tensor makes any use fail.
    absl::StatusOr<Tensor> plain = Plain(name, e);
    out.emplace(name, plain.ok() ? *std::move(plain) : Tensor());
  }
  return out;
}

int64_t VariableStore::num_bytes() const {
  int64_t bytes = 0;
  for (const auto& [name, e] : values_) bytes += e.storage.num_bytes();
  return bytes;
}

LayoutRef VariableStore::layout(absl::string_view name) const {
  auto it = values_.find(std::string(name));
  return it == values_.end() ? nullptr : it->second.layout;
}

absl::Status VariableStore::Set(absl::string_view name, const Tensor& value) {
  ++generation_;
  auto it = values_.find(std::string(name));
  if (it == values_.end()) {
    values_.emplace(std::string(name), Entry{value.Clone(), nullptr});
    return absl::OkStatus();
  }
  Entry& e = it->second;
  if (e.storage.spec() != value.spec()) {
    return absl::InvalidArgumentError(absl::StrCat("variable '", name, "' is ", e.storage.spec().ToString(),
                                                   ", cannot assign ", value.spec().ToString()));
  }
  if (e.layout != nullptr) return Convert(value, PlainLike(e.layout->desc), e.storage, e.layout->desc, name);
  if (!value.SharesStorageWith(e.storage)) std::memcpy(e.storage.raw_data(), value.raw_data(), value.num_bytes());
  return absl::OkStatus();
}

absl::Status VariableStore::SetLayout(absl::string_view name, LayoutRef layout) {
  auto it = values_.find(std::string(name));
  if (it == values_.end()) return absl::NotFoundError(absl::StrCat("variable '", name, "' has no value"));
  Entry& e = it->second;
  const bool same = layout == e.layout || (layout != nullptr && e.layout != nullptr && layout->desc == e.layout->desc);
  if (same) return absl::OkStatus();
  const dnnl::memory::desc& target = layout != nullptr ? layout->desc : PlainLike(e.layout->desc);
  if (static_cast<int64_t>(target.get_size()) != e.storage.num_bytes()) {
    return absl::InternalError(absl::StrCat("variable '", name, "' (", e.storage.spec().ToString(),
                                            ") cannot be stored in a layout of ", target.get_size(), " bytes"));
  }
  const Tensor copy = e.storage.Clone();
  const dnnl::memory::desc from = e.layout != nullptr ? e.layout->desc : PlainLike(target);
  STRATA_RETURN_IF_ERROR(Convert(copy, from, e.storage, target, name));
  if (layout != nullptr) {
    // The way back to plain exists, so that values() and Get can rely on it.
    STRATA_RETURN_IF_ERROR(onednn::Guard(absl::StrCat("converting the layout of variable '", name, "'"), [&] {
      dnnl::reorder::primitive_desc(Engine(), target, Engine(), PlainLike(target));
    }));
  }
  e.layout = std::move(layout);
  ++generation_;
  return absl::OkStatus();
}

}  // namespace strata::runtime
