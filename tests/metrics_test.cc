// Training logs: TFRecord framing checked byte by byte against an
// independent bitwise CRC-32C, corruption detection, TensorBoard event files
// (field numbers checked on the wire) and CSV files.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "metrics/csv_writer.h"
#include "metrics/event_writer.h"
#include "metrics/record.h"

namespace strata::metrics {
namespace {

// CRC-32C one bit at a time (reflected Castagnoli polynomial 0x82F63B78),
// independent of the table-driven and SSE4.2 code under test.
uint32_t BitwiseCrc32c(absl::string_view s) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char c : s) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// The documented mask: ((crc >> 15) | (crc << 17)) + 0xa282ead8.
uint32_t Mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

std::string TempDir(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::filesystem::path dir = std::filesystem::path(base ? base : "/tmp") / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

uint64_t LittleEndian(const std::string& bytes, size_t offset, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return v;
}

TEST(Record, MaskedCrcMatchesTheDocumentedFormula) {
  EXPECT_EQ(BitwiseCrc32c("123456789"), 0xE3069283u);  // the CRC-32C check value
  for (const std::string& s : {std::string("strata"), std::string(""), std::string("brain.Event:2"),
                              std::string(1000, '\xa5')}) {
    EXPECT_EQ(MaskedCrc32c(s), Mask(BitwiseCrc32c(s))) << s.size();
  }
}

TEST(Record, FileBytesFieldByField) {
  const std::string path = TempDir("record_bytes") + "/r.tfrecord";
  {
    auto w = RecordWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Write("hello").ok());
    ASSERT_TRUE((*w)->Write("").ok());
    ASSERT_TRUE((*w)->Close().ok());
    EXPECT_EQ((*w)->records_written(), 2);
  }
  const std::string bytes = ReadFile(path);
  ASSERT_EQ(bytes.size(), (8 + 4 + 5 + 4) + (8 + 4 + 0 + 4));
  // Record 0: length 5, masked CRC of the 8 length bytes, data, masked CRC of data.
  EXPECT_EQ(LittleEndian(bytes, 0, 8), 5u);
  EXPECT_EQ(LittleEndian(bytes, 8, 4), Mask(BitwiseCrc32c(bytes.substr(0, 8))));
  EXPECT_EQ(bytes.substr(12, 5), "hello");
  EXPECT_EQ(LittleEndian(bytes, 17, 4), Mask(BitwiseCrc32c("hello")));
  // Record 1: empty.
  EXPECT_EQ(LittleEndian(bytes, 21, 8), 0u);
  EXPECT_EQ(LittleEndian(bytes, 29, 4), Mask(BitwiseCrc32c(std::string(8, '\0'))));
  EXPECT_EQ(LittleEndian(bytes, 33, 4), Mask(BitwiseCrc32c("")));
  EXPECT_EQ(FrameRecord("hello"), bytes.substr(0, 21));
}

TEST(Record, RoundTripAndAppend) {
  const std::string path = TempDir("record_roundtrip") + "/r.tfrecord";
  std::string big(100000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  {
    auto w = RecordWriter::Open(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("first").ok());
    ASSERT_TRUE((*w)->Write(big).ok());
    ASSERT_TRUE((*w)->Flush().ok());
  }
  {
    auto w = RecordWriter::Open(path, /*append=*/true);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("third").ok());
  }
  auto records = ReadRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  EXPECT_EQ((*records)[0], "first");
  EXPECT_EQ((*records)[1], big);
  EXPECT_EQ((*records)[2], "third");

  auto r = RecordReader::Open(path);
  ASSERT_TRUE(r.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*r)->Next().ok());
  EXPECT_EQ((*r)->Next().status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(RecordReader::Open(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

TEST(Record, CorruptionIsDataLossNamingFileAndRecord) {
  const std::string dir = TempDir("record_corrupt");
  const std::string path = dir + "/r.tfrecord";
  {
    auto w = RecordWriter::Open(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("record zero").ok());
    ASSERT_TRUE((*w)->Write("record one").ok());
  }
  const std::string good = ReadFile(path);
  const size_t second = 8 + 4 + 11 + 4;
  struct Case {
    size_t offset;
    const char* expect;
  };
  for (const Case& c : {Case{second + 12 + 3, "data CRC"}, Case{second + 2, "length CRC"},
                        Case{second + 9, "length CRC"}, Case{good.size() - 1, "data CRC"}}) {
    std::string bad = good;
    bad[c.offset] ^= 0x01;
    const std::string bad_path = dir + "/bad.tfrecord";
    WriteFile(bad_path, bad);
    auto r = RecordReader::Open(bad_path);
    ASSERT_TRUE(r.ok());
    auto first = (*r)->Next();
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(*first, "record zero");
    auto next = (*r)->Next();
    ASSERT_EQ(next.status().code(), absl::StatusCode::kDataLoss) << "offset " << c.offset << ": " << next.status();
    const std::string message(next.status().message());
    EXPECT_TRUE(absl::StrContains(message, bad_path)) << message;
    EXPECT_TRUE(absl::StrContains(message, "record 1")) << message;
    EXPECT_TRUE(absl::StrContains(message, c.expect)) << message;
    EXPECT_EQ(ReadRecords(bad_path).status().code(), absl::StatusCode::kDataLoss);
  }
  // Truncated inside the second record's data, and inside its header.
  for (size_t size : {good.size() - 6, second + 5}) {
    const std::string cut_path = dir + "/cut.tfrecord";
    WriteFile(cut_path, good.substr(0, size));
    auto records = ReadRecords(cut_path);
    ASSERT_EQ(records.status().code(), absl::StatusCode::kDataLoss) << size;
    EXPECT_TRUE(absl::StrContains(records.status().message(), "record 1")) << records.status();
  }
}

// ---------------------------------------------------------------------------
// Event files

// Reads a protobuf varint at `pos`.
uint64_t Varint(const std::string& b, size_t* pos) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char c = static_cast<unsigned char>(b[(*pos)++]);
    v |= static_cast<uint64_t>(c & 0x7f) << shift;
    if (!(c & 0x80)) return v;
  }
}

TEST(Events, FileNameFirstRecordAndScalarsOnTheWire) {
  const std::string dir = TempDir("events") + "/run1";  // created by the writer
  auto w = EventWriter::Create(dir);
  ASSERT_TRUE(w.ok()) << w.status();
  const std::string name = std::filesystem::path((*w)->path()).filename().string();
  EXPECT_TRUE(absl::StartsWith(name, "events.out.tfevents.")) << name;
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  EXPECT_TRUE(absl::EndsWith(name, absl::StrCat(".", host))) << name;
  ASSERT_TRUE((*w)->AddScalar("loss", 7, 0.25).ok());
  ASSERT_TRUE((*w)->AddScalars(8, {{"loss", 0.125}, {"accuracy", 0.5}}).ok());
  ASSERT_TRUE((*w)->Flush().ok());

  auto records = ReadRecords((*w)->path());
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  // Record 0 on the wire: wall_time (field 1, fixed64) then file_version
  // (field 3, length-delimited) = "brain.Event:2".
  const std::string& first = (*records)[0];
  ASSERT_EQ(first[0], '\x09');
  double wall_time;
  std::memcpy(&wall_time, first.data() + 1, 8);
  EXPECT_GT(wall_time, 1.6e9);
  size_t pos = 9;
  ASSERT_EQ(first[pos++], '\x1a');
  const uint64_t len = Varint(first, &pos);
  EXPECT_EQ(first.substr(pos, len), "brain.Event:2");
  EXPECT_EQ(pos + len, first.size());

  // Record 1: wall_time, step (field 2, varint) = 7, summary (field 5) with
  // one value (field 1) holding tag (field 1) and simple_value (field 2, fixed32).
  const std::string& scalar = (*records)[1];
  pos = 9;
  ASSERT_EQ(scalar[pos++], '\x10');
  EXPECT_EQ(Varint(scalar, &pos), 7u);
  ASSERT_EQ(scalar[pos++], '\x2a');
  const uint64_t summary_len = Varint(scalar, &pos);
  EXPECT_EQ(pos + summary_len, scalar.size());
  ASSERT_EQ(scalar[pos++], '\x0a');
  Varint(scalar, &pos);
  ASSERT_EQ(scalar[pos++], '\x0a');
  const uint64_t tag_len = Varint(scalar, &pos);
  EXPECT_EQ(scalar.substr(pos, tag_len), "loss");
  pos += tag_len;
  ASSERT_EQ(scalar[pos++], '\x15');
  float value;
  std::memcpy(&value, scalar.data() + pos, 4);
  EXPECT_EQ(value, 0.25f);

  // The same through the reader.
  auto events = ReadEvents((*w)->path());
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ((*events)[0].file_version(), kEventFileVersion);
  auto scalars = ReadScalars((*w)->path());
  ASSERT_TRUE(scalars.ok());
  ASSERT_EQ(scalars->size(), 3u);
  EXPECT_EQ((*scalars)[0].tag, "loss");
  EXPECT_EQ((*scalars)[0].step, 7);
  EXPECT_EQ((*scalars)[0].value, 0.25f);
  EXPECT_EQ((*scalars)[1].step, 8);
  EXPECT_EQ((*scalars)[1].value, 0.125f);
  EXPECT_EQ((*scalars)[2].tag, "accuracy");
  EXPECT_EQ((*scalars)[2].value, 0.5f);
  EXPECT_GE((*scalars)[0].wall_time, wall_time);
}

TEST(Events, SecondWriterInTheSameSecondGetsItsOwnFile) {
  const std::string dir = TempDir("events_twice");
  auto a = EventWriter::Create(dir);
  auto b = EventWriter::Create(dir);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE((*a)->path(), (*b)->path());
}

TEST(Events, ReaderReportsGarbage) {
  const std::string dir = TempDir("events_garbage");
  const std::string path = dir + "/events.out.tfevents.0.x";
  {
    auto w = RecordWriter::Open(path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Write("\xff\xff\xff").ok());  // a valid record, not an Event
  }
  auto events = ReadEvents(path);
  EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss) << events.status();
}

// ---------------------------------------------------------------------------
// CSV

TEST(Csv, HeaderRowsQuotingAndResume) {
  const std::string path = TempDir("csv") + "/log.csv";
  {
    auto w = CsvWriter::Open(path, {"epoch", "loss", "note"});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->WriteRow({"1", CsvNumber(0.5), "plain"}).ok());
    // Flushed per row: visible before the writer closes.
    EXPECT_EQ(ReadFile(path), "epoch,loss,note\n1,0.5,plain\n");
    ASSERT_TRUE((*w)->WriteRow({"2", CsvNumber(1.0 / 3), "a, \"quoted\" note"}).ok());
    EXPECT_EQ((*w)->WriteRow({"3"}).code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(ReadFile(path), "epoch,loss,note\n1,0.5,plain\n2,0.333333333,\"a, \"\"quoted\"\" note\"\n");
  {
    // Resuming: no second header, rows follow.
    auto w = CsvWriter::Open(path, {"epoch", "loss", "note"}, /*append=*/true);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->WriteValues({3, 0.25, 7}).ok());
  }
  EXPECT_EQ(ReadFile(path),
            "epoch,loss,note\n1,0.5,plain\n2,0.333333333,\"a, \"\"quoted\"\" note\"\n3,0.25,7\n");
  // Another header cannot be appended to.
  auto other = CsvWriter::Open(path, {"epoch", "accuracy"}, /*append=*/true);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition) << other.status();
  // Without append the file starts over.
  {
    auto w = CsvWriter::Open(path, {"a"});
    ASSERT_TRUE(w.ok());
  }
  EXPECT_EQ(ReadFile(path), "a\n");
}

TEST(Csv, AppendDropsAPartialLastLineAndCreatesMissingFiles) {
  const std::string dir = TempDir("csv_partial");
  const std::string path = dir + "/log.csv";
  WriteFile(path, "step,loss\n1,0.5\n2,0.2");  // a crash mid-row
  {
    auto w = CsvWriter::Open(path, {"step", "loss"}, /*append=*/true);
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->WriteValues({2, 0.25}).ok());
  }
  EXPECT_EQ(ReadFile(path), "step,loss\n1,0.5\n2,0.25\n");
  const std::string fresh = dir + "/new.csv";
  {
    auto w = CsvWriter::Open(fresh, {"step"}, /*append=*/true);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteValues({1}).ok());
  }
  EXPECT_EQ(ReadFile(fresh), "step\n1\n");
}

}  // namespace
}  // namespace strata::metrics
