#include "ops/onednn.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "graph/graph.h"
#include "graph/status_macros.h"

namespace strata::onednn {

absl::Status FromDnnlError(const dnnl::error& e, absl::string_view what) {
  std::string message = absl::StrCat(what, ": oneDNN: ", e.what());
  switch (e.status) {
    case dnnl_unimplemented: return absl::UnimplementedError(message);
    case dnnl_invalid_arguments: return absl::InvalidArgumentError(message);
    case dnnl_out_of_memory: return absl::ResourceExhaustedError(message);
    default: return absl::InternalError(message);
  }
}

memory::dims Dims(const Shape& shape) {
  if (shape.rank() == 0) return {1};
  return memory::dims(shape.dims().begin(), shape.dims().end());
}

memory::format_tag PlainTag(int rank) {
  switch (rank) {
    case 0:
    case 1: return memory::format_tag::a;
    case 2: return memory::format_tag::ab;
    case 3: return memory::format_tag::abc;
    case 4: return memory::format_tag::abcd;
    case 5: return memory::format_tag::abcde;
    default: return memory::format_tag::undef;
  }
}

memory::data_type DataType(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return memory::data_type::f32;
    case DType::kInt32: return memory::data_type::s32;
    case DType::kUInt8: return memory::data_type::u8;
    default: return memory::data_type::undef;
  }
}

memory::desc PlainDesc(const TensorSpec& spec) {
  return memory::desc(Dims(spec.shape), DataType(spec.dtype), PlainTag(spec.shape.rank()));
}

memory Wrap(Tensor& t, const dnnl::engine& engine) { return memory(PlainDesc(t.spec()), engine, t.raw_data()); }

memory Wrap(Tensor& t, const memory::desc& desc, const dnnl::engine& engine) {
  return memory(desc, engine, t.raw_data());
}

namespace {
std::atomic<int64_t> reorders_executed{0};

size_t Align64(size_t bytes) { return (bytes + 63) / 64 * 64; }
}  // namespace

void SharedScratch::Free::operator()(uint8_t* p) const { std::free(p); }

uint8_t* SharedScratch::Get(size_t bytes) {
  if (bytes > capacity_) {
    buffer_.reset();  // release first: the old contents are not needed
    const size_t size = Align64(std::max<size_t>(bytes, 64));
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, size));
    if (p == nullptr) throw std::bad_alloc();
    buffer_.reset(p);
    capacity_ = size;
  }
  return buffer_.get();
}

size_t ScratchLayout::Add(size_t bytes) {
  const size_t at = total_;
  total_ += Align64(bytes);
  return at;
}

memory::desc InputDesc(const KernelBuildContext& b, int i) {
  if (InputIsBlocked(b, i)) return b.input_layouts[i]->desc;
  return PlainDesc(b.inputs[i]);
}

bool InputIsBlocked(const KernelBuildContext& b, int i) {
  return i < static_cast<int>(b.input_layouts.size()) && b.input_layouts[i] != nullptr;
}

memory::desc OutputDesc(const KernelBuildContext& b, int i, const memory::desc& working) {
  const memory::desc plain = PlainDesc(b.outputs[i]);
  const bool allowed = b.output_layouts != nullptr && i < static_cast<int>(b.output_may_be_blocked.size()) &&
                       b.output_may_be_blocked[i];
  if (!allowed || working == plain || working.dims() != plain.dims() ||
      working.data_type() != plain.data_type() || working.get_size() != plain.get_size()) {
    return plain;
  }
  (*b.output_layouts)[i] = std::make_shared<const TensorLayout>(TensorLayout{working});
  return working;
}

namespace {

// Runs an element-by-element kernel on inputs that share one layout: those
// stored in another are reordered into copies the kernel owns.
class CommonLayoutKernel : public Kernel {
 public:
  CommonLayoutKernel(DeviceContext* device, std::unique_ptr<Kernel> inner)
      : device_(device), inner_(std::move(inner)) {}

  void Convert(int index, const memory::desc& from, const memory::desc& to, const TensorSpec& spec) {
    Conversion c{index, from, to, dnnl::reorder(dnnl::reorder::primitive_desc(device_->engine, from,
                                                                              device_->engine, to)),
                 Tensor(spec)};
    conversions_.push_back(std::move(c));
  }

  absl::Status Run(KernelRunContext& ctx) override {
    if (conversions_.empty()) return inner_->Run(ctx);
    std::vector<Tensor*> stored = ctx.inputs;
    for (Conversion& c : conversions_) {
      memory from(c.from, device_->engine, ctx.inputs[c.index]->raw_data());
      memory to(c.to, device_->engine, c.copy.raw_data());
      reorders_executed.fetch_add(1, std::memory_order_relaxed);
      c.reorder.execute(device_->stream, from, to);
      ctx.inputs[c.index] = &c.copy;
    }
    absl::Status s = inner_->Run(ctx);
    ctx.inputs = std::move(stored);
    return s;
  }

 private:
  struct Conversion {
    int index;
    memory::desc from, to;
    dnnl::reorder reorder;
    Tensor copy;
  };
  DeviceContext* device_;
  std::unique_ptr<Kernel> inner_;
  std::vector<Conversion> conversions_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> InCommonLayout(const KernelBuildContext& b, std::unique_ptr<Kernel> inner) {
  int first_blocked = 0;
  while (first_blocked < static_cast<int>(b.inputs.size()) && !InputIsBlocked(b, first_blocked)) ++first_blocked;
  if (first_blocked == static_cast<int>(b.inputs.size())) return inner;  // all plain already
  const memory::desc common = OutputDesc(b, 0, InputDesc(b, first_blocked));
  auto k = std::make_unique<CommonLayoutKernel>(b.device, std::move(inner));
  STRATA_RETURN_IF_ERROR(Guard(absl::StrCat(b.node.Describe(), " (layout reorder)"), [&] {
    for (int i = 0; i < static_cast<int>(b.inputs.size()); ++i) {
      const memory::desc stored = InputDesc(b, i);
      if (stored != common) k->Convert(i, stored, common, b.inputs[i]);
    }
  }));
  return std::unique_ptr<Kernel>(std::move(k));
}

int64_t ReordersExecuted() { return reorders_executed.load(std::memory_order_relaxed); }

LayoutBridge::LayoutBridge(const memory::desc& stored, const memory::desc& chosen, const dnnl::engine& engine)
    : needs_reorder_(stored != chosen), stored_(stored), engine_(engine) {
  if (!needs_reorder_) return;
  scratch_ = memory(chosen, engine, DNNL_MEMORY_NONE);
  to_chosen_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, stored, engine, chosen));
  to_stored_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, chosen, engine, stored));
}

void LayoutBridge::KeepCopy() {
  if (!needs_reorder_) return;
  keep_copy_ = true;
  scratch_ = memory(scratch_.get_desc(), engine_);  // oneDNN allocates it
}

void LayoutBridge::Place(ScratchLayout& layout) {
  if (needs_reorder_ && !keep_copy_) offset_ = layout.Add(scratch_.get_desc().get_size());
}

void LayoutBridge::Bind(uint8_t* scratch_base) {
  if (needs_reorder_ && !keep_copy_) scratch_.set_data_handle(scratch_base + offset_);
}

memory LayoutBridge::In(Tensor& t, dnnl::stream& stream, uint64_t variables_generation) {
  memory user(stored_, engine_, t.raw_data());
  if (!needs_reorder_) return user;
  if (keep_copy_ && copied_from_ == t.raw_data() && copied_generation_ == variables_generation) {
    return scratch_;
  }
  reorders_executed.fetch_add(1, std::memory_order_relaxed);
  to_chosen_.execute(stream, user, scratch_);
  if (keep_copy_) {
    copied_from_ = t.raw_data();
    copied_generation_ = variables_generation;
  }
  return scratch_;
}

memory LayoutBridge::Out(Tensor& t) {
  if (!needs_reorder_) return memory(stored_, engine_, t.raw_data());
  return scratch_;
}

void LayoutBridge::Finish(Tensor& t, dnnl::stream& stream) {
  if (!needs_reorder_) return;
  memory user(stored_, engine_, t.raw_data());
  reorders_executed.fetch_add(1, std::memory_order_relaxed);
  to_stored_.execute(stream, scratch_, user);
}

int64_t WorkspaceTensorBytes(const memory::desc& ws) { return std::max<int64_t>(1, ws.get_size()); }

absl::Status CheckWorkspace(const KernelBuildContext& b, const TensorSpec& tensor, const memory::desc& ws) {
  if (WorkspaceTensorBytes(ws) == tensor.shape.num_elements()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(b.node.Describe(), ": the workspace holds ", tensor.shape.num_elements(),
                                          " bytes but the oneDNN primitive uses ", ws.get_size()));
}

absl::Status PrimitiveKernel::Run(KernelRunContext& ctx) {
  for (const Arg& a : args_) {
    Tensor* t = a.is_output ? ctx.outputs[a.index] : ctx.inputs[a.index];
    bound_[a.dnnl_arg] = memory(a.desc, device_->engine, t->raw_data());
  }
  primitive_.execute(device_->stream, bound_);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Kernel>> MakePrimitiveKernel(DeviceContext* device, dnnl::primitive p,
                                                            std::vector<PrimitiveKernel::Arg> args) {
  return std::unique_ptr<Kernel>(new PrimitiveKernel(device, std::move(p), std::move(args)));
}

void BridgedKernel::AddInput(int arg, int index, const memory::desc& stored, const memory::desc& chosen,
                            bool keep_copy) {
  inputs_.push_back({arg, index, LayoutBridge(stored, chosen, device_->engine)});
  if (keep_copy) inputs_.back().bridge.KeepCopy();
}

void BridgedKernel::AddOutput(int arg, int index, const memory::desc& stored, const memory::desc& chosen) {
  outputs_.push_back({arg, index, LayoutBridge(stored, chosen, device_->engine)});
}

void BridgedKernel::SetWorkspace(bool is_input, int index, const memory::desc& ws) {
  if (ws.get_size() == 0) return;
  workspace_ = {is_input, index, ws};
}

void BridgedKernel::SetPrimitive(dnnl::primitive p, const memory::desc& scratchpad) {
  primitive_ = std::move(p);
  for (Arg& a : inputs_) a.bridge.Place(scratch_);
  for (Arg& a : outputs_) a.bridge.Place(scratch_);
  if (scratchpad.get_size() > 0) {
    scratchpad_offset_ = scratch_.Add(scratchpad.get_size());
    scratchpad_ = memory(scratchpad, device_->engine, DNNL_MEMORY_NONE);
  }
  device_->scratch.Reserve(scratch_.total());
}

int64_t BridgedKernel::held_bytes() const {
  int64_t bytes = 0;
  for (const Arg& a : inputs_) bytes += a.bridge.held_bytes();
  return bytes;
}

absl::Status BridgedKernel::Run(KernelRunContext& ctx) {
  dnnl::stream& stream = device_->stream;
  uint8_t* scratch = device_->scratch.Get(scratch_.total());
  for (Arg& a : inputs_) a.bridge.Bind(scratch);
  for (Arg& a : outputs_) a.bridge.Bind(scratch);
  if (scratchpad_) {
    scratchpad_.set_data_handle(scratch + scratchpad_offset_);
    args_[DNNL_ARG_SCRATCHPAD] = scratchpad_;
  }
  for (Arg& a : inputs_) args_[a.arg] = a.bridge.In(*ctx.inputs[a.index], stream, ctx.variables_generation);
  for (Arg& a : outputs_) args_[a.arg] = a.bridge.Out(*ctx.outputs[a.index]);
  if (workspace_.index >= 0) {
    Tensor& t = workspace_.is_input ? *ctx.inputs[workspace_.index] : *ctx.outputs[workspace_.index];
    args_[DNNL_ARG_WORKSPACE] = Wrap(t, workspace_.desc, device_->engine);
  }
  if (pre_execute_) pre_execute_(ctx, args_, stream);
  primitive_.execute(stream, args_);
  for (Arg& a : outputs_) a.bridge.Finish(*ctx.outputs[a.index], stream);
  return absl::OkStatus();
}

}  // namespace strata::onednn
