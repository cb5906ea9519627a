#include "metrics/record.h"

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "serialization/crc32c.h"

namespace strata::metrics {
namespace {

constexpr size_t kHeaderBytes = 12;  // length + its masked CRC
constexpr size_t kFooterBytes = 4;   // masked CRC of the data

void PutLittleEndian(uint64_t v, int bytes, char* out) {
  for (int i = 0; i < bytes; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetLittleEndian(const char* in, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  return v;
}

}  // namespace

uint32_t MaskedCrc32c(absl::string_view data) {
  return serialization::crc32c::Mask(serialization::Crc32c(data.data(), data.size()));
}

std::string FrameRecord(absl::string_view data) {
  std::string out(kHeaderBytes + data.size() + kFooterBytes, '\0');
  PutLittleEndian(data.size(), 8, &out[0]);
  PutLittleEndian(MaskedCrc32c(absl::string_view(out.data(), 8)), 4, &out[8]);
  if (!data.empty()) out.replace(kHeaderBytes, data.size(), data.data(), data.size());
  PutLittleEndian(MaskedCrc32c(data), 4, &out[kHeaderBytes + data.size()]);
  return out;
}

// ---------------------------------------------------------------------------
// RecordWriter

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Open(const std::string& path, bool append) {
  std::FILE* f = std::fopen(path.c_str(), append ? "ab" : "wb");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open record file ", path));
  return std::unique_ptr<RecordWriter>(new RecordWriter(path, f));
}

RecordWriter::~RecordWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status RecordWriter::Error(absl::string_view what) const {
  return absl::ErrnoToStatus(errno, absl::StrCat("record file ", path_, ": ", what));
}

absl::Status RecordWriter::Write(absl::string_view data) {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat("record file ", path_, " is closed"));
  const std::string framed = FrameRecord(data);
  if (std::fwrite(framed.data(), 1, framed.size(), file_) != framed.size()) {
    return Error(absl::StrCat("writing record ", records_, " failed"));
  }
  ++records_;
  return absl::OkStatus();
}

absl::Status RecordWriter::Flush() {
  if (file_ == nullptr) return absl::FailedPreconditionError(absl::StrCat("record file ", path_, " is closed"));
  if (std::fflush(file_) != 0) return Error("flush failed");
  return absl::OkStatus();
}

absl::Status RecordWriter::Close() {
  if (file_ == nullptr) return absl::OkStatus();
  const int rc = std::fclose(file_);
  file_ = nullptr;
  if (rc != 0) return Error("close failed");
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// RecordReader

absl::StatusOr<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return absl::ErrnoToStatus(errno, absl::StrCat("cannot open record file ", path));
  long size = -1;
  if (std::fseek(f, 0, SEEK_END) == 0) size = std::ftell(f);
  if (size < 0 || std::fseek(f, 0, SEEK_SET) != 0) {
    const int saved = errno;
    std::fclose(f);
    return absl::ErrnoToStatus(saved, absl::StrCat("cannot size record file ", path));
  }
  return std::unique_ptr<RecordReader>(new RecordReader(path, f, static_cast<uint64_t>(size)));
}

RecordReader::~RecordReader() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status RecordReader::Corrupt(absl::string_view what) const {
  return absl::DataLossError(absl::StrCat("record file ", path_, ", record ", index_, " (at byte ", offset_,
                                          "): ", what));
}

absl::StatusOr<std::string> RecordReader::Next() {
  if (offset_ == size_) {
    return absl::OutOfRangeError(absl::StrCat("record file ", path_, ": end after ", index_, " records"));
  }
  char header[kHeaderBytes];
  if (size_ - offset_ < kHeaderBytes || std::fread(header, 1, kHeaderBytes, file_) != kHeaderBytes) {
    return Corrupt(absl::StrCat("truncated header (", size_ - offset_, " bytes left)"));
  }
  const uint32_t length_crc = static_cast<uint32_t>(GetLittleEndian(header + 8, 4));
  if (MaskedCrc32c(absl::string_view(header, 8)) != length_crc) return Corrupt("length CRC mismatch");
  const uint64_t length = GetLittleEndian(header, 8);
  const uint64_t left = size_ - offset_ - kHeaderBytes;
  if (left < kFooterBytes || length > left - kFooterBytes) {
    return Corrupt(absl::StrCat("truncated: the record holds ", length, " bytes but ", left,
                                " bytes are left with its CRC"));
  }
  std::string data(length, '\0');
  char footer[kFooterBytes];
  if (std::fread(data.data(), 1, length, file_) != length ||
      std::fread(footer, 1, kFooterBytes, file_) != kFooterBytes) {
    return Corrupt("read failed");
  }
  if (MaskedCrc32c(data) != static_cast<uint32_t>(GetLittleEndian(footer, 4))) return Corrupt("data CRC mismatch");
  offset_ += kHeaderBytes + length + kFooterBytes;
  ++index_;
  return data;
}

absl::StatusOr<std::vector<std::string>> ReadRecords(const std::string& path) {
  auto reader = RecordReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::vector<std::string> records;
  while (true) {
    absl::StatusOr<std::string> r = (*reader)->Next();
    if (absl::IsOutOfRange(r.status())) break;
    if (!r.ok()) return r.status();
    records.push_back(*std::move(r));
  }
  return records;
}

}  // namespace strata::metrics
