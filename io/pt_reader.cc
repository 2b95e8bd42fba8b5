// The PyTorch state_dict reader: see pt_reader.h. A small zip directory
// reader (stored entries only, with CRC-32 checks), then the interpretation
// of data.pkl's tensors.
// Why not libzip or minizip (both in Debian): this reads a buffer in memory
// (minizip needs custom I/O callbacks for that), rejects what torch never
// writes (compressed, encrypted, multi-disk) as Unimplemented, and names the
// entry and byte of every corruption (a CRC-32 mismatch with both values, a
// missing local header); the libraries' error codes (ZIP_ER_CRC,
// UNZ_BADZIPFILE) would lose that, for ~200 lines saved.
#include "io/pt_reader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/checksum.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "io/pickle.h"

namespace elm {
namespace {

// ---- Zip ----

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;

uint64_t Load(absl::string_view data, uint64_t at, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(data[at + i]);
  }
  return v;
}

struct ZipEntry {
  std::string name;
  uint64_t local_offset = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  uint16_t method = 0;
  uint16_t flags = 0;
};

class ZipArchive {
 public:
  ZipArchive(absl::string_view data, absl::string_view source)
      : data_(data), source_(source) {}

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", what));
  }

  // Reads the central directory.
  absl::Status Open() {
    if (data_.size() < kEndSize) {
      return Error(absl::StrCat("not a zip archive: ", data_.size(),
                                " bytes is too short"));
    }
    // The end record is the last 22 bytes plus a comment of up to 64 KiB.
    uint64_t end = 0;
    bool found = false;
    const uint64_t last = data_.size() - kEndSize;
    const uint64_t first = last > 0xFFFF ? last - 0xFFFF : 0;
    for (uint64_t pos = last + 1; pos-- > first;) {
      if (Load(data_, pos, 4) == kEndSig &&
          pos + kEndSize + Load(data_, pos + 20, 2) == data_.size()) {
        end = pos;
        found = true;
        break;
      }
    }
    if (!found) {
      return Error(
          "not a zip archive, or truncated: no end-of-central-"
          "directory record");
    }
    if (Load(data_, end + 4, 2) != 0 || Load(data_, end + 6, 2) != 0) {
      return absl::UnimplementedError(
          absl::StrCat(source_, ": multi-disk zip archives are not supported"));
    }
    uint64_t count = Load(data_, end + 10, 2);
    uint64_t cd_size = Load(data_, end + 12, 4);
    uint64_t cd_offset = Load(data_, end + 16, 4);
    uint64_t cd_limit = end;  // the directory ends before this
    if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
      if (end < 20 || Load(data_, end - 20, 4) != kZip64LocatorSig) {
        return Error("zip64 archive without a zip64 end-record locator");
      }
      const uint64_t z = Load(data_, end - 20 + 8, 8);
      if (z > end - 20 || end - 20 - z < 56 ||
          Load(data_, z, 4) != kZip64EndSig) {
        return Error(absl::StrCat("bad zip64 end record offset ", z));
      }
      count = Load(data_, z + 32, 8);
      cd_size = Load(data_, z + 40, 8);
      cd_offset = Load(data_, z + 48, 8);
      cd_limit = z;
    }
    if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) {
      return Error(absl::StrCat("central directory (", cd_size,
                                " bytes at byte ", cd_offset,
                                ") lies outside the archive"));
    }
    if (count > cd_size / kCentralHeaderSize) {
      return Error(absl::StrCat(count, " entries cannot fit in a ", cd_size,
                                "-byte central directory"));
    }
    uint64_t pos = cd_offset;
    const uint64_t cd_end = cd_offset + cd_size;
    for (uint64_t i = 0; i < count; ++i) {
      if (cd_end - pos < kCentralHeaderSize ||
          Load(data_, pos, 4) != kCentralHeaderSig) {
        return Error(absl::StrCat("central directory entry ", i, " at byte ",
                                  pos, " is corrupt"));
      }
      ZipEntry e;
      e.flags = Load(data_, pos + 8, 2);
      e.method = Load(data_, pos + 10, 2);
      e.crc = Load(data_, pos + 16, 4);
      e.compressed_size = Load(data_, pos + 20, 4);
      e.size = Load(data_, pos + 24, 4);
      const uint64_t name_len = Load(data_, pos + 28, 2);
      const uint64_t extra_len = Load(data_, pos + 30, 2);
      const uint64_t comment_len = Load(data_, pos + 32, 2);
      e.local_offset = Load(data_, pos + 42, 4);
      const uint64_t entry_len =
          kCentralHeaderSize + name_len + extra_len + comment_len;
      if (cd_end - pos < entry_len) {
        return Error(absl::StrCat("central directory entry ", i,
                                  " runs past the directory"));
      }
      e.name = std::string(data_.substr(pos + kCentralHeaderSize, name_len));
      RETURN_IF_ERROR(ReadZip64Extra(
          data_.substr(pos + kCentralHeaderSize + name_len, extra_len), &e));
      entries_.push_back(std::move(e));
      pos += entry_len;
    }
    return absl::OkStatus();
  }

  const std::vector<ZipEntry>& entries() const { return entries_; }

  const ZipEntry* Find(absl::string_view name) const {
    for (const ZipEntry& e : entries_) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  // The bytes of a stored entry, after checking its local header and CRC.
  absl::StatusOr<absl::string_view> Read(const ZipEntry& e) const {
    const std::string where = absl::StrCat("entry '", e.name, "'");
    if (e.flags & 1) {
      return absl::UnimplementedError(
          absl::StrCat(source_, ": ", where, " is encrypted"));
    }
    if (e.method != 0) {
      return absl::UnimplementedError(
          absl::StrCat(source_, ": ", where, " is compressed (method ",
                       e.method, e.method == 8 ? ", deflate" : "",
                       "); only stored (uncompressed) entries are supported"));
    }
    if (e.compressed_size != e.size) {
      return Error(absl::StrCat(where, " is stored but its sizes differ (",
                                e.compressed_size, " and ", e.size, ")"));
    }
    const uint64_t at = e.local_offset;
    if (at > data_.size() || data_.size() - at < kLocalHeaderSize ||
        Load(data_, at, 4) != kLocalHeaderSig) {
      return Error(absl::StrCat(where, ": no local header at byte ", at));
    }
    const uint64_t name_len = Load(data_, at + 26, 2);
    const uint64_t extra_len = Load(data_, at + 28, 2);
    const uint64_t start = at + kLocalHeaderSize + name_len + extra_len;
    if (start > data_.size() || data_.size() - start < e.size) {
      return Error(absl::StrCat(where, ": its ", e.size, " bytes at byte ",
                                start, " run past the end of the file"));
    }
    if (data_.substr(at + kLocalHeaderSize, name_len) != e.name) {
      return Error(absl::StrCat(where, ": the local header at byte ", at,
                                " names a different entry"));
    }
    const absl::string_view bytes = data_.substr(start, e.size);
    const uint32_t crc = Crc32(bytes);
    if (crc != e.crc) {
      return Error(absl::StrCat(where, ": CRC-32 mismatch (directory says ",
                                absl::Hex(e.crc, absl::kZeroPad8), ", data ",
                                absl::Hex(crc, absl::kZeroPad8), ")"));
    }
    return bytes;
  }

 private:
  // Replaces saturated sizes/offset with the zip64 extra field's values.
  absl::Status ReadZip64Extra(absl::string_view extra, ZipEntry* e) const {
    const bool need_size = e->size == 0xFFFFFFFF;
    const bool need_csize = e->compressed_size == 0xFFFFFFFF;
    const bool need_offset = e->local_offset == 0xFFFFFFFF;
    if (!need_size && !need_csize && !need_offset) return absl::OkStatus();
    uint64_t pos = 0;
    while (extra.size() - pos >= 4) {
      const uint64_t id = Load(extra, pos, 2);
      const uint64_t len = Load(extra, pos + 2, 2);
      if (extra.size() - pos - 4 < len) break;
      if (id == 1) {
        const absl::string_view f = extra.substr(pos + 4, len);
        uint64_t at = 0;
        for (uint64_t* field : {need_size ? &e->size : nullptr,
                                need_csize ? &e->compressed_size : nullptr,
                                need_offset ? &e->local_offset : nullptr}) {
          if (field == nullptr) continue;
          if (f.size() - at < 8) break;
          *field = Load(f, at, 8);
          at += 8;
        }
        return absl::OkStatus();
      }
      pos += 4 + len;
    }
    return Error(absl::StrCat("entry '", e->name,
                              "' needs a zip64 extra field and has none"));
  }

  absl::string_view data_;
  std::string source_;
  std::vector<ZipEntry> entries_;
};

// ---- Tensors ----

struct StorageType {
  const char* name;  // torch.<name>
  const char* dtype;
  int size;
};
constexpr StorageType kStorageTypes[] = {
    {"FloatStorage", "f32", 4},
    {"DoubleStorage", "f64", 8},
    {"LongStorage", "i64", 8},
    {"BoolStorage", "bool", 1},
};

bool AcceptTorchGlobal(absl::string_view module, absl::string_view name) {
  if (module == "collections") return name == "OrderedDict";
  if (module == "torch._utils") {
    return name == "_rebuild_tensor_v2" || name == "_rebuild_parameter";
  }
  return module == "torch" && absl::EndsWith(name, "Storage");
}

// Reads the dims of a size or stride tuple.
bool ReadDims(const PickleValue& v, std::vector<int64_t>* dims) {
  if (!v.is_tuple()) return false;
  dims->clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v.item(i).is_int() || v.item(i).AsInt() < 0) return false;
    dims->push_back(v.item(i).AsInt());
  }
  return true;
}

class StateDictReader {
 public:
  StateDictReader(const ZipArchive& zip, std::string source, std::string prefix,
                  bool big_endian)
      : zip_(zip),
        source_(std::move(source)),
        prefix_(std::move(prefix)),
        big_endian_(big_endian) {}

  absl::Status TensorError(const std::string& name,
                           absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ": tensor '", name, "': ", what));
  }

  // Decodes one state_dict value into `t` (name already set).
  absl::Status Decode(const PickleValue& value, NamedTensor* t) {
    PickleValue v = value;
    if (v.is_object() &&
        v.callable().IsGlobal("torch._utils", "_rebuild_parameter")) {
      if (v.args().size() < 1) {
        return TensorError(t->name, "_rebuild_parameter without arguments");
      }
      v = v.args().item(0);
    }
    if (!v.is_object() ||
        !v.callable().IsGlobal("torch._utils", "_rebuild_tensor_v2")) {
      return TensorError(t->name,
                         absl::StrCat("expected a tensor (torch._utils."
                                      "_rebuild_tensor_v2), found ",
                                      v.TypeName()));
    }
    const PickleValue args = v.args();
    if (args.size() < 4) {
      return TensorError(t->name,
                         absl::StrCat("_rebuild_tensor_v2 has ", args.size(),
                                      " arguments, expected >= 4"));
    }
    // Storage: persistent id ('storage', type, key, location, numel).
    const PickleValue pid_value = args.item(0);
    if (!pid_value.is_persistent_id() ||
        !pid_value.persistent_id().is_tuple() ||
        pid_value.persistent_id().size() < 5) {
      return TensorError(t->name, absl::StrCat("expected a storage persistent "
                                               "id, found ",
                                               pid_value.DebugString()));
    }
    const PickleValue pid = pid_value.persistent_id();
    if (!pid.item(0).is_string() || pid.item(0).AsString() != "storage" ||
        !pid.item(1).is_global() || !pid.item(2).is_string() ||
        !pid.item(4).is_int() || pid.item(4).AsInt() < 0) {
      return TensorError(
          t->name, absl::StrCat("malformed storage id ", pid.DebugString()));
    }
    const PickleValue type = pid.item(1);
    const StorageType* storage_type = nullptr;
    for (const StorageType& s : kStorageTypes) {
      if (type.IsGlobal("torch", s.name)) storage_type = &s;
    }
    if (storage_type == nullptr) {
      return absl::UnimplementedError(absl::StrCat(
          source_, ": tensor '", t->name, "': unsupported storage type ",
          type.global_module(), ".", type.global_name(),
          " (supported: torch.FloatStorage, torch.DoubleStorage, "
          "torch.LongStorage, torch.BoolStorage)"));
    }
    const std::string key(pid.item(2).AsString());
    const int64_t numel = pid.item(4).AsInt();
    t->dtype = storage_type->dtype;
    const int item = storage_type->size;

    // View: offset, size, stride.
    if (!args.item(1).is_int() || args.item(1).AsInt() < 0) {
      return TensorError(t->name, absl::StrCat("bad storage offset ",
                                               args.item(1).DebugString()));
    }
    const int64_t offset = args.item(1).AsInt();
    std::vector<int64_t> stride;
    if (!ReadDims(args.item(2), &t->shape)) {
      return TensorError(t->name,
                         absl::StrCat("bad size ", args.item(2).DebugString()));
    }
    if (!ReadDims(args.item(3), &stride) || stride.size() != t->shape.size()) {
      return TensorError(
          t->name, absl::StrCat("bad stride ", args.item(3).DebugString(),
                                " for size ", args.item(2).DebugString()));
    }
    int64_t count = 1;
    int64_t last = offset;  // the largest storage index the view touches
    for (size_t k = 0; k < t->shape.size(); ++k) {
      int64_t reach;
      if (__builtin_mul_overflow(count, t->shape[k], &count) ||
          count > (int64_t{1} << 40) ||
          (t->shape[k] > 0 &&
           (__builtin_mul_overflow(t->shape[k] - 1, stride[k], &reach) ||
            __builtin_add_overflow(last, reach, &last)))) {
        return TensorError(t->name, "size or stride out of range");
      }
    }

    // Storage bytes.
    const std::string entry_name = absl::StrCat(prefix_, "/data/", key);
    absl::string_view bytes;
    if (auto it = storages_.find(key); it != storages_.end()) {
      bytes = it->second;
    } else {
      const ZipEntry* entry = zip_.Find(entry_name);
      if (entry == nullptr) {
        return TensorError(t->name,
                           absl::StrCat("no entry '", entry_name, "'"));
      }
      ASSIGN_OR_RETURN(bytes, zip_.Read(*entry));
      storages_[key] = bytes;
    }
    if (numel > (int64_t{1} << 40) ||
        bytes.size() != static_cast<uint64_t>(numel) * item) {
      return TensorError(
          t->name, absl::StrCat("storage '", entry_name, "' has ", bytes.size(),
                                " bytes, expected ", numel, " x ", item));
    }
    if (count > 0 && last >= numel) {
      return TensorError(
          t->name,
          absl::StrCat("view (offset ", offset, ", size ",
                       args.item(2).DebugString(), ", stride ",
                       args.item(3).DebugString(), ") leaves its storage of ",
                       numel, " elements"));
    }
    return Gather(bytes, item, offset, stride, count, t);
  }

 private:
  // Copies the view's elements in row-major order.
  absl::Status Gather(absl::string_view bytes, int item, int64_t offset,
                      const std::vector<int64_t>& stride, int64_t count,
                      NamedTensor* t) const {
    const bool floating = t->dtype == "f32" || t->dtype == "f64";
    if (floating) {
      t->values.resize(count);
    } else {
      t->int_values.resize(count);
    }
    const size_t ndim = t->shape.size();
    std::vector<int64_t> index(ndim, 0);
    int64_t at = offset;
    for (int64_t c = 0; c < count; ++c) {
      char e[8];
      std::memcpy(e, bytes.data() + at * item, item);
      if (big_endian_) std::reverse(e, e + item);
      if (t->dtype == "f32") {
        float f;
        std::memcpy(&f, e, 4);
        t->values[c] = f;
      } else if (t->dtype == "f64") {
        std::memcpy(&t->values[c], e, 8);
      } else if (t->dtype == "i64") {
        std::memcpy(&t->int_values[c], e, 8);
      } else {
        const uint8_t b = static_cast<uint8_t>(e[0]);
        if (b > 1) {
          return TensorError(t->name,
                             absl::StrCat("bool element ", c, " is byte ", b));
        }
        t->int_values[c] = b;
      }
      for (size_t k = ndim; k-- > 0;) {  // next row-major index
        at += stride[k];
        if (++index[k] < t->shape[k]) break;
        at -= stride[k] * t->shape[k];
        index[k] = 0;
      }
    }
    return absl::OkStatus();
  }

  const ZipArchive& zip_;
  std::string source_;
  std::string prefix_;
  bool big_endian_;
  std::map<std::string, absl::string_view> storages_;
};

}  // namespace

absl::StatusOr<std::vector<NamedTensor>> ParsePtStateDict(
    absl::string_view contents, absl::string_view source_name) {
  const std::string source(source_name);
  if (contents.size() >= 2 && static_cast<uint8_t>(contents[0]) == 0x80 &&
      static_cast<uint8_t>(contents[1]) <= 5) {
    return absl::UnimplementedError(absl::StrCat(
        source,
        ": a bare pickle (torch.save's legacy pre-1.6 format or "
        "_use_new_zipfile_serialization=False); only the zip format "
        "is supported"));
  }
  ZipArchive zip(contents, source);
  RETURN_IF_ERROR(zip.Open());

  // <prefix>/data.pkl, where the prefix is the archive name.
  const ZipEntry* pkl = nullptr;
  for (const ZipEntry& e : zip.entries()) {
    const size_t slash = e.name.find('/');
    if (slash != std::string::npos && slash > 0 &&
        e.name.substr(slash) == "/data.pkl") {
      if (pkl != nullptr) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": two pickles, '", pkl->name, "' and '", e.name, "'"));
      }
      pkl = &e;
    }
  }
  if (pkl == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": no '<archive>/data.pkl' entry; not a torch.save file"));
  }
  const std::string prefix = pkl->name.substr(0, pkl->name.find('/'));
  bool big_endian = false;
  if (const ZipEntry* order = zip.Find(prefix + "/byteorder")) {
    ASSIGN_OR_RETURN(absl::string_view text, zip.Read(*order));
    if (text != "little" && text != "big") {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": entry '", order->name, "' should be 'little' or 'big'"));
    }
    big_endian = text == "big";
  }
  ASSIGN_OR_RETURN(absl::string_view pickle_bytes, zip.Read(*pkl));
  UnpickleOptions options;
  options.accept_global = AcceptTorchGlobal;
  ASSIGN_OR_RETURN(
      Pickle pickle,
      ParsePickle(pickle_bytes, absl::StrCat(source, ":", pkl->name), options));
  const PickleValue root = pickle.root();
  if (!root.is_dict()) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": expected a state_dict (dict of tensors), found ",
        root.TypeName()));
  }

  StateDictReader reader(zip, source, prefix, big_endian);
  std::vector<NamedTensor> tensors;
  tensors.reserve(root.size());
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < root.size(); ++i) {
    const PickleValue key = root.key(i);
    if (!key.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": state_dict key ", i, " is ",
                       key.DebugString(), ", not a name"));
    }
    NamedTensor t;
    t.name = std::string(key.AsString());
    if (!seen.emplace(t.name, i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": tensor '", t.name, "' appears twice"));
    }
    RETURN_IF_ERROR(reader.Decode(root.value(i), &t));
    tensors.push_back(std::move(t));
  }
  return tensors;
}

absl::StatusOr<std::vector<NamedTensor>> ReadPtStateDict(
    const std::string& path) {
  ASSIGN_OR_RETURN(const std::string contents,
                   ReadFileToString(path, "PyTorch file"));
  return ParsePtStateDict(contents, path);
}

}  // namespace elm
