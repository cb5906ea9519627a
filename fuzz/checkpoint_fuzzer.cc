// libFuzzer harness for LoadCheckpoint: any bytes must give a Checkpoint or
// a Status naming the file, never a crash, a sanitizer report or an
// allocation the file did not pay for. A checkpoint that loads must survive
// a save and a reload unchanged. See fuzz/README.md.
//
// Random mutations almost never keep the CRCs right, which would stop the
// fuzzer at the index CRC check. So an input that does not start with the
// magic's 'S' is "mode byte + file": the harness first recomputes the CRCs
// (every entry's, where its range lies in the file, then the index's) and
// loads the result, reaching the checks behind them. Inputs starting with
// 'S' are loaded as they are.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "fuzz/memfile.h"
#include "serialization/checkpoint.h"
#include "serialization/crc32c.h"
#include "serialization/graph_def.h"
#include "serialization/strata.pb.h"

namespace {

using strata::Tensor;
namespace ser = strata::serialization;

constexpr size_t kFooterSize = 28;

uint64_t GetLE(const std::string& s, size_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

std::string PutLE(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

uint32_t MaskedCrc(const char* data, size_t n) { return ser::crc32c::Mask(ser::Crc32c(data, n)); }

// The file with its CRCs made right, where the footer and index allow.
std::string FixCrcs(std::string file) {
  if (file.size() < kFooterSize) return file;
  const size_t footer = file.size() - kFooterSize;
  const uint64_t offset = GetLE(file, footer, 8), length = GetLE(file, footer + 8, 8);
  if (offset > footer || length > footer - offset) return file;
  std::string index = file.substr(offset, length);
  strata::proto::CheckpointIndex parsed;
  if (parsed.ParseFromString(index)) {
    for (auto& e : *parsed.mutable_tensor()) {
      if (e.offset() <= offset && e.length() <= offset - e.offset()) {
        e.set_crc32c(MaskedCrc(file.data() + e.offset(), e.length()));
      }
    }
    std::string rewritten;
    if (ser::SerializeDeterministic(parsed, &rewritten)) index = rewritten;
  }
  return file.substr(0, offset) + index + PutLE(offset, 8) + PutLE(index.size(), 8) +
         PutLE(MaskedCrc(index.data(), index.size()), 4) + file.substr(footer + 20);
}

std::string RoundTripPath() {
  static const std::string path = [] {
    std::string p = strata::fuzz::ScratchDir() + "/round_trip.ckpt";
    std::atexit([] {
      ::unlink((strata::fuzz::ScratchDir() + "/round_trip.ckpt").c_str());
      ::rmdir(strata::fuzz::ScratchDir().c_str());
    });
    return p;
  }();
  return path;
}

bool SameTensor(const Tensor& a, const Tensor& b) {
  return a.spec() == b.spec() && std::memcmp(a.raw_data(), b.raw_data(), static_cast<size_t>(a.num_bytes())) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static strata::fuzz::MemFile file("checkpoint");
  std::string bytes(reinterpret_cast<const char*>(data), size);
  if (size > 0 && data[0] != 'S') bytes = FixCrcs(bytes.substr(1));
  if (std::getenv("STRATA_FUZZ_DUMP") != nullptr) {  // the file as loaded, for fuzz/regressions
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return 0;
  }
  const std::string& path = file.Set(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto ckpt = ser::LoadCheckpoint(path);
  if (!ckpt.ok()) {
    // Every error names the file it is about.
    if (std::string(ckpt.status().message()).find(path) == std::string::npos) __builtin_trap();
    return 0;
  }
  // Bounded by the input: no tensor may claim more bytes than the file has.
  size_t total = 0;
  for (const auto& [name, t] : ckpt->tensors) total += static_cast<size_t>(t.num_bytes());
  if (total > bytes.size()) __builtin_trap();

  const std::string copy = RoundTripPath();
  if (!ser::SaveCheckpoint(copy, ckpt->tensors, ckpt->metadata).ok()) __builtin_trap();
  auto again = ser::LoadCheckpoint(copy);
  if (!again.ok() || again->metadata != ckpt->metadata || again->tensors.size() != ckpt->tensors.size()) {
    __builtin_trap();
  }
  for (const auto& [name, t] : ckpt->tensors) {
    auto it = again->tensors.find(name);
    if (it == again->tensors.end() || !SameTensor(t, it->second)) __builtin_trap();
  }
  return 0;
}
