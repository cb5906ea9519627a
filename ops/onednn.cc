#include "ops/onednn.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>

#include "graph/graph.h"

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

int64_t ReordersExecuted() { return reorders_executed.load(std::memory_order_relaxed); }

LayoutBridge::LayoutBridge(const memory::desc& plain, const memory::desc& chosen, const dnnl::engine& engine)
    : needs_reorder_(plain != chosen), plain_(plain), engine_(engine) {
  if (!needs_reorder_) return;
  scratch_ = memory(chosen, engine, DNNL_MEMORY_NONE);
  to_chosen_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, plain, engine, chosen));
  to_plain_ = dnnl::reorder(dnnl::reorder::primitive_desc(engine, chosen, engine, plain));
}

void LayoutBridge::Place(ScratchLayout& layout) {
  if (needs_reorder_) offset_ = layout.Add(scratch_.get_desc().get_size());
}

void LayoutBridge::Bind(uint8_t* scratch_base) {
  if (needs_reorder_) scratch_.set_data_handle(scratch_base + offset_);
}

memory LayoutBridge::In(Tensor& t, dnnl::stream& stream) {
  memory user(plain_, engine_, t.raw_data());
  if (!needs_reorder_) return user;
  reorders_executed.fetch_add(1, std::memory_order_relaxed);
  to_chosen_.execute(stream, user, scratch_);
  return scratch_;
}

memory LayoutBridge::Out(Tensor& t) {
  if (!needs_reorder_) return memory(plain_, engine_, t.raw_data());
  return scratch_;
}

void LayoutBridge::Finish(Tensor& t, dnnl::stream& stream) {
  if (!needs_reorder_) return;
  memory user(plain_, engine_, t.raw_data());
  reorders_executed.fetch_add(1, std::memory_order_relaxed);
  to_plain_.execute(stream, scratch_, user);
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

void BridgedKernel::AddInput(int arg, int index, const memory::desc& plain, const memory::desc& chosen) {
  inputs_.push_back({arg, index, LayoutBridge(plain, chosen, device_->engine)});
}

void BridgedKernel::AddOutput(int arg, int index, const memory::desc& plain, const memory::desc& chosen) {
  outputs_.push_back({arg, index, LayoutBridge(plain, chosen, device_->engine)});
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
  for (Arg& a : inputs_) args_[a.arg] = a.bridge.In(*ctx.inputs[a.index], stream);
  for (Arg& a : outputs_) args_[a.arg] = a.bridge.Out(*ctx.outputs[a.index]);
  if (workspace_.index >= 0) {
    Tensor& t = workspace_.is_input ? *ctx.inputs[workspace_.index] : *ctx.outputs[workspace_.index];
    args_[DNNL_ARG_WORKSPACE] = Wrap(t, workspace_.desc, device_->engine);
  }
  primitive_.execute(stream, args_);
  for (Arg& a : outputs_) a.bridge.Finish(*ctx.outputs[a.index], stream);
  return absl::OkStatus();
}

}  // namespace strata::onednn
