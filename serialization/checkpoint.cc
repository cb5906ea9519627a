#include "serialization/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "graph/status_macros.h"
#include "ops/state.h"
#include "serialization/crc32c.h"
#include "serialization/graph_def.h"
#include "serialization/strata.pb.h"

namespace strata::serialization {
namespace {

constexpr size_t kMagicSize = 8;
constexpr uint64_t kHeaderSize = kMagicSize + 4;               // magic, version
constexpr uint64_t kFooterSize = 8 + 8 + 4 + kMagicSize;       // offset, length, crc, magic
constexpr uint64_t kAlignment = 64;  // tensor offsets, so a reader could map them in place

void PutLE(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t GetLE(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string Hex32(uint32_t v) { return absl::StrCat("0x", absl::Hex(v, absl::kZeroPad8)); }

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Removes `<path>.tmp.<pid>` files left by writers that were killed before
// they could clean up: regular files only, and only when no process `pid`
// exists (kill(pid, 0) fails with ESRCH). A live process, even an unrelated
// one that reused the pid, keeps its file. Best effort: errors are ignored.
// A writer in another pid namespace (another container sharing the
// directory) looks dead; removing its temporary file only makes its rename
// fail, so its save fails cleanly and the previous file is never damaged.
void RemoveStaleTemporaries(const std::string& path) {
  const std::string dir = DirName(path);
  const std::string prefix = BaseName(path) + ".tmp.";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  const pid_t self = ::getpid();
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const absl::string_view name(e->d_name);
    if (name.size() <= prefix.size() || name.substr(0, prefix.size()) != prefix) continue;
    const absl::string_view digits = name.substr(prefix.size());
    if (digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    pid_t pid = 0;
    for (char c : digits) pid = pid * 10 + (c - '0');
    if (pid <= 0 || pid == self) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive, or not ours to judge (EPERM)
    stale.emplace_back(name);
  }
  ::closedir(d);
  for (const std::string& name : stale) {
    const std::string full = dir == "/" ? "/" + name : absl::StrCat(dir, "/", name);
    struct stat st;
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) ::unlink(full.c_str());
  }
}

// A file written under a temporary name and renamed over its destination
// only by Commit; destroyed uncommitted, it removes what it created.
class AtomicWriter {
 public:
  AtomicWriter(const std::string& path, absl::string_view what)
      : path_(path), tmp_(absl::StrCat(path, ".tmp.", ::getpid())), prefix_(absl::StrCat(what, " ", path, ": ")) {}
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  ~AtomicWriter() {
    if (fd_ >= 0) ::close(fd_);
    if (created_ && !committed_) ::unlink(tmp_.c_str());
  }

  absl::Status Open() {
    RemoveStaleTemporaries(path_);
    // O_NOFOLLOW: never write through a link planted at the temporary name.
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd_ < 0) return Error(absl::StrCat("cannot create temporary file ", tmp_));
    created_ = true;
    return absl::OkStatus();
  }

  absl::Status Write(const void* data, size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error(absl::StrCat("write to ", tmp_, " failed at offset ", offset_));
      p += w;
      n -= static_cast<size_t>(w);
      offset_ += static_cast<uint64_t>(w);
    }
    return absl::OkStatus();
  }
  absl::Status Write(absl::string_view s) { return Write(s.data(), s.size()); }

  absl::Status PadTo(uint64_t alignment) {
    static const char kZeros[kAlignment] = {};
    return Write(kZeros, static_cast<size_t>((alignment - offset_ % alignment) % alignment));
  }

  uint64_t offset() const { return offset_; }

  // fsync before rename: otherwise a crash can leave the new name pointing
  // at a file whose data never reached the disk. fsync the directory after,
  // so the rename itself survives a crash.
  absl::Status Commit() {
    if (::fsync(fd_) != 0) return Error(absl::StrCat("fsync of ", tmp_, " failed"));
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) return Error(absl::StrCat("close of ", tmp_, " failed"));
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) return Error(absl::StrCat("cannot rename ", tmp_, " to it"));
    committed_ = true;
    const std::string dir = DirName(path_);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return Error(absl::StrCat("cannot open directory ", dir, " to fsync it"));
    int rc = ::fsync(dfd);
    int err = errno;
    ::close(dfd);
    if (rc != 0) return absl::ErrnoToStatus(err, absl::StrCat(prefix_, "fsync of directory ", dir, " failed"));
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const { return absl::ErrnoToStatus(errno, absl::StrCat(prefix_, what)); }

  std::string path_, tmp_, prefix_;
  int fd_ = -1;
  bool created_ = false;
  bool committed_ = false;
  uint64_t offset_ = 0;
};

// An open file for reading; every read is checked against the known size.
class Reader {
 public:
  explicit Reader(const std::string& path) : path_(path) {}
  ~Reader() {
    if (fd_ >= 0) ::close(fd_);
  }

  absl::Status Open() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return absl::ErrnoToStatus(errno, absl::StrCat("checkpoint ", path_, ": cannot open"));
    struct stat st;
    if (::fstat(fd_, &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("checkpoint ", path_, ": cannot stat"));
    if (!S_ISREG(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat("checkpoint ", path_, ": not a regular file"));
    }
    size_ = static_cast<uint64_t>(st.st_size);
    return absl::OkStatus();
  }

  uint64_t size() const { return size_; }

  // Callers check [offset, offset + n) lies within size(); a short read means
  // the file changed under us.
  absl::Status Read(uint64_t offset, size_t n, void* out) const {
    char* p = static_cast<char*>(out);
    while (n > 0) {
      ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return absl::ErrnoToStatus(errno, absl::StrCat("checkpoint ", path_, ": read failed at offset ", offset));
      if (r == 0) {
        return absl::DataLossError(absl::StrCat("checkpoint ", path_, ": unexpected end of file at offset ", offset,
                                                " (was it truncated while loading?)"));
      }
      p += r;
      n -= static_cast<size_t>(r);
      offset += static_cast<uint64_t>(r);
    }
    return absl::OkStatus();
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

struct CheckedEntry {
  const proto::TensorEntry* entry;
  TensorSpec spec;
};

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, absl::string_view what) {
  AtomicWriter w(path, what);
  STRATA_RETURN_IF_ERROR(w.Open());
  STRATA_RETURN_IF_ERROR(w.Write(contents));
  return w.Commit();
}

absl::Status SaveCheckpoint(const std::string& path, const std::map<std::string, Tensor>& tensors,
                            const std::map<std::string, std::string>& metadata) {
  const std::string where = absl::StrCat("checkpoint ", path, ": ");
  // Everything a reader would reject is refused before the file is touched.
  for (const auto& [name, t] : tensors) {
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(where, "a tensor has an empty name"));
    if (!t.valid()) return absl::InvalidArgumentError(absl::StrCat(where, "tensor '", name, "' is empty"));
    auto spec = SpecFromProto(static_cast<int>(t.dtype()), t.shape().dims());
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(where, "tensor '", name, "': ", spec.status().message()));
    }
  }

  AtomicWriter w(path, "checkpoint");
  STRATA_RETURN_IF_ERROR(w.Open());
  std::string header(kCheckpointMagic, kMagicSize);
  PutLE(kCheckpointVersion, 4, &header);
  STRATA_RETURN_IF_ERROR(w.Write(header));

  proto::CheckpointIndex index;
  index.set_version(kCheckpointVersion);
  for (const auto& [key, value] : metadata) (*index.mutable_metadata())[key] = value;
  for (const auto& [name, t] : tensors) {
    STRATA_RETURN_IF_ERROR(w.PadTo(kAlignment));
    const size_t n = static_cast<size_t>(t.num_bytes());
    proto::TensorEntry* e = index.add_tensor();
    e->set_name(name);
    e->set_dtype(static_cast<proto::DataType>(t.dtype()));
    e->mutable_dims()->Add(t.shape().dims().begin(), t.shape().dims().end());
    e->set_offset(w.offset());
    e->set_length(n);
    e->set_crc32c(crc32c::Mask(Crc32c(t.raw_data(), n)));
    STRATA_RETURN_IF_ERROR(w.Write(t.raw_data(), n));
  }

  const uint64_t index_offset = w.offset();
  std::string index_bytes;
  if (!SerializeDeterministic(index, &index_bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(where, "the index cannot be serialized"));
  }
  STRATA_RETURN_IF_ERROR(w.Write(index_bytes));
  std::string footer;
  PutLE(index_offset, 8, &footer);
  PutLE(index_bytes.size(), 8, &footer);
  PutLE(crc32c::Mask(Crc32c(index_bytes.data(), index_bytes.size())), 4, &footer);
  footer.append(kCheckpointMagic, kMagicSize);
  STRATA_RETURN_IF_ERROR(w.Write(footer));
  return w.Commit();
}

absl::StatusOr<Checkpoint> LoadCheckpoint(const std::string& path) {
  const std::string where = absl::StrCat("checkpoint ", path, ": ");
  auto corrupt = [&](auto&&... parts) { return absl::DataLossError(absl::StrCat(where, parts...)); };

  Reader r(path);
  STRATA_RETURN_IF_ERROR(r.Open());
  const uint64_t size = r.size();
  if (size < kHeaderSize + kFooterSize) {
    return corrupt("file is ", size, " bytes, shorter than any checkpoint (", kHeaderSize + kFooterSize,
                   "); truncated?");
  }
  char header[kHeaderSize];
  STRATA_RETURN_IF_ERROR(r.Read(0, sizeof(header), header));
  if (std::memcmp(header, kCheckpointMagic, kMagicSize) != 0) {
    return corrupt("bad magic at the start (not a Strata checkpoint?)");
  }
  const uint64_t version = GetLE(header + kMagicSize, 4);
  if (version > kCheckpointVersion) {
    return absl::InvalidArgumentError(absl::StrCat(where, "format version ", version,
                                                   " is newer than this build reads (", kCheckpointVersion, ")"));
  }
  if (version != kCheckpointVersion) return corrupt("bad format version ", version);

  char footer[kFooterSize];
  STRATA_RETURN_IF_ERROR(r.Read(size - kFooterSize, sizeof(footer), footer));
  if (std::memcmp(footer + 20, kCheckpointMagic, kMagicSize) != 0) {
    return corrupt("bad magic in the footer (truncated or not a Strata checkpoint?)");
  }
  const uint64_t index_offset = GetLE(footer, 8);
  const uint64_t index_length = GetLE(footer + 8, 8);
  const uint32_t index_crc = crc32c::Unmask(static_cast<uint32_t>(GetLE(footer + 16, 4)));
  // The index must end exactly at the footer: written that way, and anything
  // else means the footer or the file length is wrong.
  const uint64_t index_end = size - kFooterSize;
  if (index_offset < kHeaderSize || index_offset > index_end || index_length != index_end - index_offset) {
    return corrupt("footer places the index at offset ", index_offset, " length ", index_length,
                   ", which does not end at the footer (offset ", index_end, ")");
  }
  // Protobuf parses at most 2 GiB, so a longer index (a sparse file, or a
  // footer pointing at the start of a huge one) is refused unallocated.
  if (index_length > static_cast<uint64_t>(std::numeric_limits<int>::max())) {
    return corrupt("index of ", index_length, " bytes is over the 2 GiB a protobuf index can have");
  }
  std::string index_bytes(index_length, '\0');
  STRATA_RETURN_IF_ERROR(r.Read(index_offset, index_length, index_bytes.data()));
  const uint32_t computed = Crc32c(index_bytes.data(), index_bytes.size());
  if (computed != index_crc) {
    return corrupt("index CRC mismatch (stored ", Hex32(index_crc), ", computed ", Hex32(computed), ")");
  }
  proto::CheckpointIndex index;
  if (!index.ParseFromString(index_bytes)) return corrupt("the index does not parse");
  if (index.version() != static_cast<int32_t>(version)) {
    return corrupt("index version ", index.version(), " differs from the header's ", version);
  }

  // Every entry is checked before any tensor is allocated: lengths are then
  // bounded by the file size.
  std::vector<CheckedEntry> entries;
  std::set<absl::string_view> names;
  for (int i = 0; i < index.tensor_size(); ++i) {
    const proto::TensorEntry& e = index.tensor(i);
    if (e.name().empty()) return corrupt("index entry #", i, " has no name");
    const std::string tensor = absl::StrCat("tensor '", e.name(), "': ");
    if (!names.insert(e.name()).second) return corrupt(tensor, "appears more than once in the index");
    auto spec = SpecFromProto(e.dtype(), absl::MakeConstSpan(e.dims().data(), e.dims().size()));
    if (!spec.ok()) return corrupt(tensor, spec.status().message());
    const uint64_t expected = static_cast<uint64_t>(spec->shape.num_elements() * SizeOf(spec->dtype));
    if (e.length() != expected) {
      return corrupt(tensor, "length ", e.length(), " does not match ", spec->ToString(), " (", expected, " bytes)");
    }
    if (e.offset() < kHeaderSize || e.offset() > index_offset || e.length() > index_offset - e.offset()) {
      return corrupt(tensor, "bytes at offset ", e.offset(), " length ", e.length(),
                     " lie outside the data section [", kHeaderSize, ", ", index_offset, ")");
    }
    entries.push_back({&e, *std::move(spec)});
  }
  // Tensors may not share bytes: a writer never does that, and without the
  // check a small file could list one large region under a million names
  // and make the loader allocate a million copies.
  std::vector<const CheckedEntry*> by_offset;
  by_offset.reserve(entries.size());
  for (const CheckedEntry& c : entries) by_offset.push_back(&c);
  std::sort(by_offset.begin(), by_offset.end(), [](const CheckedEntry* a, const CheckedEntry* b) {
    return a->entry->offset() < b->entry->offset();
  });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const proto::TensorEntry& prev = *by_offset[i - 1]->entry;
    const proto::TensorEntry& next = *by_offset[i]->entry;
    if (next.offset() < prev.offset() + prev.length()) {  // no overflow: both lie within the file
      return corrupt("tensor '", next.name(), "': bytes at offset ", next.offset(), " length ", next.length(),
                     " overlap tensor '", prev.name(), "' at offset ", prev.offset(), " length ", prev.length());
    }
  }

  Checkpoint ckpt;
  ckpt.path = path;
  for (const CheckedEntry& c : entries) {
    Tensor t(c.spec);
    STRATA_RETURN_IF_ERROR(r.Read(c.entry->offset(), static_cast<size_t>(c.entry->length()), t.raw_data()));
    const uint32_t stored = crc32c::Unmask(c.entry->crc32c());
    const uint32_t actual = Crc32c(t.raw_data(), static_cast<size_t>(c.entry->length()));
    if (stored != actual) {
      return corrupt("tensor '", c.entry->name(), "': CRC mismatch (stored ", Hex32(stored), ", computed ",
                     Hex32(actual), ")");
    }
    ckpt.tensors.emplace(c.entry->name(), std::move(t));
  }
  for (const auto& [key, value] : index.metadata()) ckpt.metadata.emplace(key, value);
  return ckpt;
}

absl::Status RestoreVariables(const Checkpoint& checkpoint, const Graph& graph, runtime::VariableStore* store) {
  const std::string where = checkpoint.path.empty() ? "checkpoint: " : absl::StrCat("checkpoint ", checkpoint.path, ": ");
  std::vector<std::pair<std::string, const Tensor*>> updates;
  for (const Node* v : ops::Variables(graph)) {
    const TensorSpec& expected = v->output_spec(0);
    auto it = checkpoint.tensors.find(v->name());
    if (it == checkpoint.tensors.end()) {
      std::vector<std::string> some;
      for (auto t = checkpoint.tensors.begin(); t != checkpoint.tensors.end() && some.size() < 10; ++t) {
        some.push_back(t->first);
      }
      return absl::NotFoundError(absl::StrCat(where, "no tensor for variable '", v->name(), "' (",
                                              expected.ToString(), "); it has ", checkpoint.tensors.size(),
                                              " tensors", some.empty() ? "" : ", e.g. ", absl::StrJoin(some, ", ")));
    }
    const TensorSpec found = it->second.spec();
    if (found != expected) {
      return absl::InvalidArgumentError(absl::StrCat(where, "tensor '", v->name(), "' is ", found.ToString(),
                                                     " but the graph's variable is ", expected.ToString()));
    }
    if (store->Has(v->name())) {
      TensorSpec current = store->Get(v->name())->spec();
      if (current != expected) {
        return absl::InvalidArgumentError(absl::StrCat(where, "variable '", v->name(), "' already holds ",
                                                       current.ToString(), " in the store, the graph expects ",
                                                       expected.ToString()));
      }
    }
    updates.emplace_back(v->name(), &it->second);
  }
  for (const auto& [name, t] : updates) STRATA_RETURN_IF_ERROR(store->Set(name, *t));
  return absl::OkStatus();
}

std::map<std::string, Tensor> SnapshotVariables(const runtime::VariableStore& store) {
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : store.values()) out.emplace(name, t.Clone());
  return out;
}

}  // namespace strata::serialization
