// The pickle reader: see pickle.h. Layout of this file: opcode table, storage
// (chunked node vector, byte arena, the Store behind every PickleValue),
// input (in memory or a buffered file), the Unpickler (one switch over the
// opcodes, then a pass that reads the deferred strings the result can reach),
// and the public accessors.
#include "io/pickle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "glog/logging.h"

namespace elm {
namespace pickle_internal {
namespace {

constexpr uint32_t kNoNode = 0xFFFFFFFFu;
// Node indices stay below this, so that kNoNode is never a real node.
constexpr uint32_t kMaxNodes = 0xFFFFFF00u;
// Singleton nodes, created first.
constexpr uint32_t kNoneNode = 0;
constexpr uint32_t kFalseNode = 1;
constexpr uint32_t kTrueNode = 2;
constexpr uint32_t kEmptyTupleNode = 3;

// Strings at least this long are not copied while parsing (see pickle.h).
constexpr uint64_t kDeferMinBytes = 64 * 1024;
// The file input buffer; must exceed kDeferMinBytes.
constexpr size_t kFileBufferBytes = 1 << 20;
// Longest text line (GLOBAL module/name, INT, FLOAT, GET, PUT, PERSID).
constexpr size_t kMaxLineBytes = 4096;
// A memo index may exceed the input offset by at most this much (pickle
// numbers its memo entries 0, 1, 2, ..., and every PUT takes at least 2
// bytes, so real indices stay below the offset). Guards against a corrupt
// index making the memo allocate gigabytes.
constexpr uint64_t kMemoSlack = 1 << 16;

// Node flags.
constexpr uint8_t kInline = 1;    // str/bytes: the bytes are in `payload`
constexpr uint8_t kDeferred = 2;  // str/bytes: payload = input offset
constexpr uint8_t kLatin1 = 4;    // deferred: UTF-8 in the input, latin-1 here
constexpr uint8_t kSkipped = 8;   // deferred and never read

// Opcodes (pickletools names).
enum Opcode : uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kFloatText = 'F',
  kIntText = 'I',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kLongText = 'L',
  kBinInt2 = 'M',
  kNoneOp = 'N',
  kPersId = 'P',
  kBinPersId = 'Q',
  kReduce = 'R',
  kStringText = 'S',
  kBinString = 'T',
  kShortBinString = 'U',
  kUnicodeText = 'V',
  kBinUnicode = 'X',
  kAppend = 'a',
  kBuild = 'b',
  kGlobal = 'c',
  kDict = 'd',
  kEmptyDict = '}',
  kAppends = 'e',
  kGet = 'g',
  kBinGet = 'h',
  kInst = 'i',
  kLongBinGet = 'j',
  kList = 'l',
  kEmptyList = ']',
  kObj = 'o',
  kPut = 'p',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kSetItem = 's',
  kTuple = 't',
  kEmptyTuple = ')',
  kSetItems = 'u',
  kBinFloat = 'G',
  kProto = 0x80,
  kNewObj = 0x81,
  kExt1 = 0x82,
  kExt2 = 0x83,
  kExt4 = 0x84,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kEmptySet = 0x8f,
  kAddItems = 0x90,
  kFrozenSet = 0x91,
  kNewObjEx = 0x92,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
  kByteArray8 = 0x96,
  kNextBuffer = 0x97,
  kReadonlyBuffer = 0x98,
};

// The pickletools name of a known opcode, or nullptr.
const char* OpcodeName(uint8_t op) {
  switch (op) {
    case kMark:
      return "MARK";
    case kStop:
      return "STOP";
    case kPop:
      return "POP";
    case kPopMark:
      return "POP_MARK";
    case kDup:
      return "DUP";
    case kFloatText:
      return "FLOAT";
    case kIntText:
      return "INT";
    case kBinInt:
      return "BININT";
    case kBinInt1:
      return "BININT1";
    case kLongText:
      return "LONG";
    case kBinInt2:
      return "BININT2";
    case kNoneOp:
      return "NONE";
    case kPersId:
      return "PERSID";
    case kBinPersId:
      return "BINPERSID";
    case kReduce:
      return "REDUCE";
    case kStringText:
      return "STRING";
    case kBinString:
      return "BINSTRING";
    case kShortBinString:
      return "SHORT_BINSTRING";
    case kUnicodeText:
      return "UNICODE";
    case kBinUnicode:
      return "BINUNICODE";
    case kAppend:
      return "APPEND";
    case kBuild:
      return "BUILD";
    case kGlobal:
      return "GLOBAL";
    case kDict:
      return "DICT";
    case kEmptyDict:
      return "EMPTY_DICT";
    case kAppends:
      return "APPENDS";
    case kGet:
      return "GET";
    case kBinGet:
      return "BINGET";
    case kInst:
      return "INST";
    case kLongBinGet:
      return "LONG_BINGET";
    case kList:
      return "LIST";
    case kEmptyList:
      return "EMPTY_LIST";
    case kObj:
      return "OBJ";
    case kPut:
      return "PUT";
    case kBinPut:
      return "BINPUT";
    case kLongBinPut:
      return "LONG_BINPUT";
    case kSetItem:
      return "SETITEM";
    case kTuple:
      return "TUPLE";
    case kEmptyTuple:
      return "EMPTY_TUPLE";
    case kSetItems:
      return "SETITEMS";
    case kBinFloat:
      return "BINFLOAT";
    case kProto:
      return "PROTO";
    case kNewObj:
      return "NEWOBJ";
    case kExt1:
      return "EXT1";
    case kExt2:
      return "EXT2";
    case kExt4:
      return "EXT4";
    case kTuple1:
      return "TUPLE1";
    case kTuple2:
      return "TUPLE2";
    case kTuple3:
      return "TUPLE3";
    case kNewTrue:
      return "NEWTRUE";
    case kNewFalse:
      return "NEWFALSE";
    case kLong1:
      return "LONG1";
    case kLong4:
      return "LONG4";
    case kBinBytes:
      return "BINBYTES";
    case kShortBinBytes:
      return "SHORT_BINBYTES";
    case kShortBinUnicode:
      return "SHORT_BINUNICODE";
    case kBinUnicode8:
      return "BINUNICODE8";
    case kBinBytes8:
      return "BINBYTES8";
    case kEmptySet:
      return "EMPTY_SET";
    case kAddItems:
      return "ADDITEMS";
    case kFrozenSet:
      return "FROZENSET";
    case kNewObjEx:
      return "NEWOBJ_EX";
    case kStackGlobal:
      return "STACK_GLOBAL";
    case kMemoize:
      return "MEMOIZE";
    case kFrame:
      return "FRAME";
    case kByteArray8:
      return "BYTEARRAY8";
    case kNextBuffer:
      return "NEXT_BUFFER";
    case kReadonlyBuffer:
      return "READONLY_BUFFER";
    default:
      return nullptr;
  }
}

// Globals the unpickler gives a meaning to.
enum class GlobalId : uint8_t {
  kOther,
  kOrderedDict,   // collections.OrderedDict
  kCodecsEncode,  // _codecs.encode
  kBytes,         // __builtin__.bytes / builtins.bytes
  kReconstruct,   // numpy.(_)core.multiarray._reconstruct
  kScalar,        // numpy.(_)core.multiarray.scalar
  kNdarray,       // numpy.ndarray
  kDtype,         // numpy.dtype
};

GlobalId ClassifyGlobal(absl::string_view module, absl::string_view name) {
  if (module == "collections" && name == "OrderedDict") {
    return GlobalId::kOrderedDict;
  }
  if (module == "_codecs" && name == "encode") return GlobalId::kCodecsEncode;
  if ((module == "__builtin__" || module == "builtins") && name == "bytes") {
    return GlobalId::kBytes;
  }
  if (module == "numpy.core.multiarray" || module == "numpy._core.multiarray") {
    if (name == "_reconstruct") return GlobalId::kReconstruct;
    if (name == "scalar") return GlobalId::kScalar;
  }
  if (module == "numpy" && name == "ndarray") return GlobalId::kNdarray;
  if (module == "numpy" && name == "dtype") return GlobalId::kDtype;
  return GlobalId::kOther;
}

// A vector in fixed blocks: no reallocation copies, stable addresses.
template <typename T>
class ChunkedVector {
 public:
  static constexpr int kShift = 16;
  static constexpr size_t kBlock = size_t{1} << kShift;

  size_t size() const { return size_; }
  T& operator[](size_t i) { return blocks_[i >> kShift][i & (kBlock - 1)]; }
  const T& operator[](size_t i) const {
    return blocks_[i >> kShift][i & (kBlock - 1)];
  }
  void push_back(const T& value) {
    if ((size_ >> kShift) == blocks_.size()) {
      blocks_.emplace_back(new T[kBlock]);
    }
    (*this)[size_++] = value;
  }
  // Grows to `n` elements set to `fill` (never shrinks).
  void GrowTo(size_t n, const T& fill) {
    while (size_ < n) push_back(fill);
  }

 private:
  std::vector<std::unique_ptr<T[]>> blocks_;
  size_t size_ = 0;
};

// A bump allocator of 8-byte-aligned byte ranges that live as long as it.
class ByteArena {
 public:
  char* Allocate(uint64_t n) {
    const uint64_t words = (n + 7) / 8;
    if (words > kBlockWords / 4) {  // large: a block of its own
      blocks_.emplace_back(new uint64_t[std::max<uint64_t>(words, 1)]);
      return reinterpret_cast<char*>(blocks_.back().get());
    }
    if (words > left_) {
      blocks_.emplace_back(new uint64_t[kBlockWords]);
      next_ = blocks_.back().get();
      left_ = kBlockWords;
    }
    char* p = reinterpret_cast<char*>(next_);
    next_ += words;
    left_ -= words;
    return p;
  }

 private:
  static constexpr uint64_t kBlockWords = (1 << 20) / 8;
  std::vector<std::unique_ptr<uint64_t[]>> blocks_;
  uint64_t* next_ = nullptr;
  uint64_t left_ = 0;
};

}  // namespace

// One value: 16 bytes. `payload` holds the int64 / double bits, up to 8 string
// bytes (kInline), a pointer (longer strings, tuple items), an input offset
// (kDeferred), or an index into a Store table (list, dict, global, object,
// array) or a node (persistent id). `size` is a string's length or a tuple's
// item count.
struct Node {
  PickleKind kind;
  uint8_t flags;
  uint16_t reserved;
  uint32_t size;
  uint64_t payload;
};
static_assert(sizeof(Node) == 16, "Node must stay 16 bytes");

// Everything a Pickle owns.
class Store {
 public:
  struct Dict {
    std::vector<uint32_t> items;  // key, value, key, value, ...
    uint32_t state = kNoNode;
  };
  struct Global {
    std::string module;
    std::string name;
    GlobalId id;
  };
  struct Object {
    uint32_t callable;
    uint32_t args;
    uint32_t state;
    PickleObjectKind kind;
    int32_t dtype;  // index into dtypes for numpy.dtype objects, else -1
  };
  struct Dtype {
    std::string descr;    // as given to numpy.dtype(), e.g. "f8"
    std::string problem;  // why it is unsupported; empty when supported
    NumpyType type = NumpyType::kInt8;
    bool big_endian = false;
  };

  const Node& node(uint32_t i) const { return nodes[i]; }
  PickleValue Value(uint32_t i) const { return PickleValue(this, i); }

  // The bytes of a str/bytes node that is not deferred.
  absl::string_view StringOf(const Node& n) const {
    if (n.flags & kInline) {
      return absl::string_view(reinterpret_cast<const char*>(&n.payload),
                               n.size);
    }
    return absl::string_view(reinterpret_cast<const char*>(n.payload), n.size);
  }
  const uint32_t* TupleItems(const Node& n) const {
    return reinterpret_cast<const uint32_t*>(n.payload);
  }

  ChunkedVector<Node> nodes;
  ByteArena arena;
  std::vector<std::vector<uint32_t>> lists;
  std::vector<Dict> dicts;
  std::vector<Global> globals;
  std::vector<Object> objects;
  std::vector<Dtype> dtypes;
  std::vector<NdArray> arrays;
  uint32_t root = kNoNode;
  std::string source_name;
  int64_t memo_entries = 0;
  int64_t memo_capacity = 0;
  int64_t unread_bytes = 0;
};

namespace {

// The unpickler's input: a string in memory, or a file read through a buffer.
class Input {
 public:
  explicit Input(absl::string_view memory)
      : memory_(memory),
        begin_(memory.data()),
        cur_(memory.data()),
        end_(memory.data() + memory.size()),
        size_(static_cast<int64_t>(memory.size())) {}
  ~Input() {
    if (fd_ >= 0) close(fd_);
  }
  Input(const Input&) = delete;
  Input& operator=(const Input&) = delete;

  static absl::StatusOr<std::unique_ptr<Input>> Open(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      const std::string message =
          absl::StrCat("cannot open ", path, ": ", std::strerror(err));
      return err == ENOENT ? absl::NotFoundError(message)
                           : absl::PermissionDeniedError(message);
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": not a regular file"));
    }
    auto input = std::unique_ptr<Input>(new Input(absl::string_view()));
    input->fd_ = fd;
    input->buffer_.reset(new char[kFileBufferBytes]);
    input->begin_ = input->cur_ = input->end_ = input->buffer_.get();
    input->size_ = st.st_size;
    return input;
  }

  int64_t offset() const { return base_ + (cur_ - begin_); }
  int64_t size() const { return size_; }
  int64_t remaining() const { return size_ - offset(); }
  const std::string& io_error() const { return io_error_; }

  // Makes n bytes (n <= kFileBufferBytes) readable at cur(); false when the
  // input ends first.
  bool Ensure(size_t n) {
    return static_cast<size_t>(end_ - cur_) >= n || Refill(n);
  }
  const char* cur() const { return cur_; }
  void Advance(size_t n) { cur_ += n; }

  // Steps over the next n bytes (n <= remaining()).
  bool Skip(uint64_t n) {
    const uint64_t take = std::min<uint64_t>(n, end_ - cur_);
    cur_ += take;
    n -= take;
    if (n == 0) return true;
    if (fd_ < 0) return false;
    base_ += cur_ - begin_;
    begin_ = cur_ = end_ = buffer_.get();
    if (lseek(fd_, static_cast<off_t>(n), SEEK_CUR) < 0) return Fail(-1);
    base_ += n;
    return true;
  }

  // Copies n bytes from `offset` (already passed) to `dst`.
  bool ReadAt(int64_t offset, uint64_t n, char* dst) {
    if (fd_ < 0) {
      std::memcpy(dst, memory_.data() + offset, n);
      return true;
    }
    while (n > 0) {
      const ssize_t r = pread(fd_, dst, std::min<uint64_t>(n, 1 << 30),
                              static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return Fail(r);
      dst += r;
      n -= r;
      offset += r;
    }
    return true;
  }

  enum class Line { kOk, kTruncated, kTooLong };
  // Reads up to and past the next '\n'; *line gets the text before it.
  Line ReadLine(absl::string_view* line) {
    size_t scanned = 0;
    while (true) {
      const size_t have = end_ - cur_;
      const void* nl = std::memchr(cur_ + scanned, '\n', have - scanned);
      if (nl != nullptr) {
        const size_t len = static_cast<const char*>(nl) - cur_;
        if (len > kMaxLineBytes) return Line::kTooLong;
        *line = absl::string_view(cur_, len);
        cur_ += len + 1;
        return Line::kOk;
      }
      if (have > kMaxLineBytes) return Line::kTooLong;
      scanned = have;
      if (!Refill(have + 1)) return Line::kTruncated;
    }
  }

 private:
  bool Refill(size_t n) {
    if (fd_ < 0) return false;
    size_t have = end_ - cur_;
    std::memmove(buffer_.get(), cur_, have);
    base_ += cur_ - begin_;
    begin_ = cur_ = buffer_.get();
    end_ = begin_ + have;
    while (have < n) {
      const ssize_t r =
          read(fd_, buffer_.get() + have, kFileBufferBytes - have);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Fail(r);
      if (r == 0) return false;
      have += r;
      end_ += r;
    }
    return true;
  }
  bool Fail(ssize_t r) {
    io_error_ = r < 0 ? std::strerror(errno) : "file ended early";
    return false;
  }

  absl::string_view memory_;
  int fd_ = -1;
  std::unique_ptr<char[]> buffer_;
  const char* begin_;  // buffer start; input offset base_
  const char* cur_;
  const char* end_;
  int64_t base_ = 0;
  int64_t size_;
  std::string io_error_;
};

// Decodes UTF-8 `in` into latin-1 at `out` (room for in.size() bytes); false
// at malformed UTF-8 or a code point above U+00FF.
bool Utf8ToLatin1(absl::string_view in, char* out, size_t* out_size) {
  size_t o = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(in[i]);
    if (c < 0x80) {
      out[o++] = static_cast<char>(c);
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < in.size() &&
               (static_cast<uint8_t>(in[i + 1]) & 0xC0) == 0x80) {
      out[o++] = static_cast<char>(((c & 0x03) << 6) |
                                   (static_cast<uint8_t>(in[i + 1]) & 0x3F));
      ++i;
    } else {
      return false;
    }
  }
  *out_size = o;
  return true;
}

uint64_t LoadLittle(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

bool ParseInt64(absl::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 32) return false;
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return false;
  *value = v;
  return true;
}

// Parses a numpy dtype string ("f8", "<i4", "b1", "?"); false when it is not
// one of the supported element types.
bool ParseDescr(absl::string_view descr, NumpyType* type, bool* big_endian) {
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' ||
                         descr[0] == '|' || descr[0] == '=')) {
    *big_endian = descr[0] == '>';
    descr.remove_prefix(1);
  }
  static const struct {
    const char* descr;
    NumpyType type;
  } kTypes[] = {
      {"b1", NumpyType::kBool},    {"?", NumpyType::kBool},
      {"i1", NumpyType::kInt8},    {"u1", NumpyType::kUInt8},
      {"i2", NumpyType::kInt16},   {"u2", NumpyType::kUInt16},
      {"i4", NumpyType::kInt32},   {"u4", NumpyType::kUInt32},
      {"i8", NumpyType::kInt64},   {"u8", NumpyType::kUInt64},
      {"f2", NumpyType::kFloat16}, {"f4", NumpyType::kFloat32},
      {"f8", NumpyType::kFloat64},
  };
  for (const auto& t : kTypes) {
    if (descr == t.descr) {
      *type = t.type;
      return true;
    }
  }
  return false;
}

bool IsIntegerType(NumpyType t) {
  return t != NumpyType::kFloat16 && t != NumpyType::kFloat32 &&
         t != NumpyType::kFloat64;
}

// Reads one element of `type` (native order) at `p` as double / as an
// integer.
double ElementAsDouble(NumpyType type, const char* p) {
  switch (type) {
    case NumpyType::kBool:
    case NumpyType::kUInt8:
      return static_cast<uint8_t>(*p);
    case NumpyType::kInt8:
      return static_cast<int8_t>(*p);
    case NumpyType::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case NumpyType::kUInt16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case NumpyType::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kUInt32: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case NumpyType::kUInt64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case NumpyType::kFloat16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return HalfToDouble(v);
    }
    case NumpyType::kFloat32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kFloat64: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
  return 0.0;
}

// An integer element; false for uint64 values above INT64_MAX.
bool ElementAsInt64(NumpyType type, const char* p, int64_t* out) {
  switch (type) {
    case NumpyType::kInt64:
      std::memcpy(out, p, 8);
      return true;
    case NumpyType::kUInt64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return false;
      }
      *out = static_cast<int64_t>(v);
      return true;
    }
    default:
      *out = static_cast<int64_t>(ElementAsDouble(type, p));
      return true;
  }
}

const char kEmptyData[8] = {0};

}  // namespace

// Runs one parse.
class Unpickler {
 public:
  Unpickler(Input* input, absl::string_view source,
            const UnpickleOptions& options)
      : in_(input), options_(options), store_(new Store) {
    store_->source_name = std::string(source);
  }

  absl::StatusOr<Pickle> Run() {
    AddSingletons();
    while (true) {
      op_offset_ = in_->offset();
      if (store_->nodes.size() > kMaxNodes) {
        return Error("more than 4 billion values");
      }
      if (!in_->Ensure(1)) {
        op_ = 0;
        return ErrorAt(op_offset_, "",
                       in_->io_error().empty()
                           ? "the input ends without a STOP opcode"
                           : absl::StrCat("read error: ", in_->io_error()));
      }
      op_ = static_cast<uint8_t>(*in_->cur());
      in_->Advance(1);
      if (op_ == kStop) break;
      absl::Status status = Step();
      if (!status.ok()) return status;
    }
    absl::Status status = Finish();
    if (!status.ok()) return status;
    return Pickle(std::move(store_));
  }

 private:
  // ---- Errors ----

  absl::Status ErrorAt(
      int64_t offset, absl::string_view op, absl::string_view what,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const {
    std::string message = absl::StrCat(store_->source_name, ": byte ", offset,
                                       ": ", op, op.empty() ? "" : ": ", what);
    return absl::Status(code, message);
  }
  std::string OpName() const {
    const char* name = OpcodeName(op_);
    return name != nullptr ? name : absl::StrFormat("opcode 0x%02x", op_);
  }
  absl::Status Error(absl::string_view what) const {
    return ErrorAt(op_offset_, OpName(), what);
  }
  absl::Status Unsupported(absl::string_view what) const {
    return ErrorAt(op_offset_, OpName(), what,
                   absl::StatusCode::kUnimplemented);
  }
  absl::Status Truncated(uint64_t needed) const {
    if (!in_->io_error().empty()) {
      return Error(absl::StrCat("read error: ", in_->io_error()));
    }
    return Error(absl::StrCat("truncated input: needs ", needed,
                              " more bytes at byte ", in_->offset(),
                              ", the input has ",
                              std::max<int64_t>(in_->remaining(), 0)));
  }
  std::string TypeOf(uint32_t node) const {
    return store_->Value(node).TypeName();
  }

  // ---- Nodes ----

  uint32_t AddNode(PickleKind kind, uint8_t flags, uint32_t size,
                   uint64_t payload) {
    const uint32_t index = static_cast<uint32_t>(store_->nodes.size());
    store_->nodes.push_back(Node{kind, flags, 0, size, payload});
    return index;
  }
  void AddSingletons() {
    AddNode(PickleKind::kNone, 0, 0, 0);
    AddNode(PickleKind::kBool, 0, 0, 0);
    AddNode(PickleKind::kBool, 0, 0, 1);
    AddNode(PickleKind::kTuple, 0, 0, reinterpret_cast<uint64_t>(kEmptyData));
  }
  uint32_t AddInt(int64_t v) {
    return AddNode(PickleKind::kInt, 0, 0, static_cast<uint64_t>(v));
  }
  uint32_t AddFloat(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return AddNode(PickleKind::kFloat, 0, 0, bits);
  }
  uint32_t AddString(PickleKind kind, absl::string_view bytes) {
    if (bytes.size() <= 8) {
      uint64_t payload = 0;
      std::memcpy(&payload, bytes.data(), bytes.size());
      return AddNode(kind, kInline, static_cast<uint32_t>(bytes.size()),
                     payload);
    }
    char* p = store_->arena.Allocate(bytes.size());
    std::memcpy(p, bytes.data(), bytes.size());
    return AddNode(kind, 0, static_cast<uint32_t>(bytes.size()),
                   reinterpret_cast<uint64_t>(p));
  }
  uint32_t AddTuple(const uint32_t* items, size_t n) {
    if (n == 0) return kEmptyTupleNode;
    uint32_t* p =
        reinterpret_cast<uint32_t*>(store_->arena.Allocate(n * sizeof(*p)));
    std::copy(items, items + n, p);
    return AddNode(PickleKind::kTuple, 0, static_cast<uint32_t>(n),
                   reinterpret_cast<uint64_t>(p));
  }
  uint32_t AddList(const uint32_t* items, size_t n) {
    store_->lists.emplace_back(items, items + n);
    return AddNode(PickleKind::kList, 0, 0, store_->lists.size() - 1);
  }
  uint32_t AddDict() {
    store_->dicts.emplace_back();
    return AddNode(PickleKind::kDict, 0, 0, store_->dicts.size() - 1);
  }
  uint32_t AddObject(PickleObjectKind kind, uint32_t callable, uint32_t args) {
    store_->objects.push_back(
        Store::Object{callable, args, kNoNode, kind, /*dtype=*/-1});
    return AddNode(PickleKind::kObject, 0, 0, store_->objects.size() - 1);
  }
  const Node& N(uint32_t i) const { return store_->nodes[i]; }
  Node& MutableNode(uint32_t i) { return store_->nodes[i]; }
  bool IsString(uint32_t i) const {
    return N(i).kind == PickleKind::kStr || N(i).kind == PickleKind::kBytes;
  }
  // The bytes of a str/bytes node that must be small (not deferred).
  absl::StatusOr<absl::string_view> SmallString(uint32_t i,
                                                absl::string_view what) const {
    if (!IsString(i)) {
      return Error(
          absl::StrCat(what, ": expected str or bytes, found ", TypeOf(i)));
    }
    if (N(i).flags & kDeferred) {
      return Unsupported(
          absl::StrCat(what, ": string of ", N(i).size, " bytes is too long"));
    }
    return store_->StringOf(N(i));
  }
  // The items of a tuple or list node.
  void ItemsOf(uint32_t i, const uint32_t** items, size_t* n) const {
    if (N(i).kind == PickleKind::kTuple) {
      *items = store_->TupleItems(N(i));
      *n = N(i).size;
    } else {
      const std::vector<uint32_t>& list = store_->lists[N(i).payload];
      *items = list.data();
      *n = list.size();
    }
  }
  // An int or bool node's value.
  bool IntOf(uint32_t i, int64_t* v) const {
    if (N(i).kind != PickleKind::kInt && N(i).kind != PickleKind::kBool) {
      return false;
    }
    *v = static_cast<int64_t>(N(i).payload);
    return true;
  }

  // ---- Stack ----

  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  absl::Status Underflow(size_t needed) const {
    return Error(
        absl::StrCat("stack underflow: needs ", needed, " value(s) ",
                     marks_.empty() ? "on the stack" : "above the last MARK",
                     ", found ", stack_.size() - Floor()));
  }
  // Checks that n values are above the mark floor.
  absl::Status NeedValues(size_t n) const {
    if (stack_.size() - Floor() < n) return Underflow(n);
    return absl::OkStatus();
  }
  uint32_t PopValue() {
    const uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  // Pops the last mark; *start is the stack position of the first value
  // above it.
  absl::Status PopMark(size_t* start) {
    if (marks_.empty()) return Error("no MARK before this opcode");
    *start = marks_.back();
    marks_.pop_back();
    return absl::OkStatus();
  }

  // ---- Reading ----

  absl::Status Need(size_t n) {
    if (!in_->Ensure(n)) return Truncated(n);
    return absl::OkStatus();
  }
  absl::Status ReadUnsigned(int n, uint64_t* v) {
    if (absl::Status s = Need(n); !s.ok()) return s;
    *v = LoadLittle(in_->cur(), n);
    in_->Advance(n);
    return absl::OkStatus();
  }
  absl::Status ReadLine(absl::string_view* line) {
    switch (in_->ReadLine(line)) {
      case Input::Line::kOk:
        return absl::OkStatus();
      case Input::Line::kTooLong:
        return Error(
            absl::StrCat("no newline within ", kMaxLineBytes, " bytes"));
      case Input::Line::kTruncated:
        break;
    }
    if (!in_->io_error().empty()) {
      return Error(absl::StrCat("read error: ", in_->io_error()));
    }
    return Error("truncated input: the input ends inside a text line");
  }

  // Reads a string of n bytes and pushes it.
  absl::Status ReadString(PickleKind kind, uint64_t n) {
    if (n > static_cast<uint64_t>(std::max<int64_t>(in_->remaining(), 0))) {
      return Truncated(n);
    }
    if (n > std::numeric_limits<uint32_t>::max()) {
      return Unsupported("strings of 4 GiB or more are not supported");
    }
    uint32_t node;
    if (n < kDeferMinBytes) {
      if (absl::Status s = Need(n); !s.ok()) return s;
      node = AddString(kind, absl::string_view(in_->cur(), n));
      in_->Advance(n);
    } else {
      const int64_t offset = in_->offset();
      if (!in_->Skip(n)) return Truncated(n);
      node = AddNode(kind, kDeferred, static_cast<uint32_t>(n), offset);
      deferred_.push_back(node);
    }
    stack_.push_back(node);
    return absl::OkStatus();
  }

  // ---- Memo ----

  absl::Status Put(uint64_t index) {
    if (stack_.size() == Floor()) return Underflow(1);
    if (index >= memo_.size()) {
      if (index > static_cast<uint64_t>(op_offset_) + kMemoSlack) {
        return Error(absl::StrCat("memo index ", index,
                                  " is implausibly large at this offset"));
      }
      memo_.GrowTo(index + 1, kNoNode);
    }
    if (memo_[index] == kNoNode) ++memo_count_;
    memo_[index] = stack_.back();
    return absl::OkStatus();
  }
  absl::Status Get(uint64_t index) {
    if (index >= memo_.size() || memo_[index] == kNoNode) {
      return Error(absl::StrCat("memo entry ", index,
                                " was never stored (no PUT before this GET)"));
    }
    stack_.push_back(memo_[index]);
    return absl::OkStatus();
  }

  // ---- Opcodes ----

  absl::Status Step() {
    uint64_t u = 0;
    switch (op_) {
      case kProto:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        if (u > 5) return Unsupported(absl::StrCat("protocol ", u));
        return absl::OkStatus();
      case kFrame:
        return ReadUnsigned(8, &u);
      case kMark:
        marks_.push_back(stack_.size());
        return absl::OkStatus();
      case kNoneOp:
        stack_.push_back(kNoneNode);
        return absl::OkStatus();
      case kNewTrue:
        stack_.push_back(kTrueNode);
        return absl::OkStatus();
      case kNewFalse:
        stack_.push_back(kFalseNode);
        return absl::OkStatus();
      case kBinInt:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        stack_.push_back(AddInt(static_cast<int32_t>(u)));
        return absl::OkStatus();
      case kBinInt1:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        stack_.push_back(AddInt(static_cast<int64_t>(u)));
        return absl::OkStatus();
      case kBinInt2:
        if (absl::Status s = ReadUnsigned(2, &u); !s.ok()) return s;
        stack_.push_back(AddInt(static_cast<int64_t>(u)));
        return absl::OkStatus();
      case kLong1:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        return ReadLong(u);
      case kLong4:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        if (static_cast<int32_t>(u) < 0) return Error("negative byte count");
        return ReadLong(u);
      case kBinFloat: {
        if (absl::Status s = Need(8); !s.ok()) return s;
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) {
          bits = (bits << 8) | static_cast<uint8_t>(in_->cur()[i]);
        }
        in_->Advance(8);
        double v;
        std::memcpy(&v, &bits, 8);
        stack_.push_back(AddFloat(v));
        return absl::OkStatus();
      }
      case kShortBinString:
      case kShortBinBytes:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        return ReadString(PickleKind::kBytes, u);
      case kBinString:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        if (static_cast<int32_t>(u) < 0) return Error("negative length");
        return ReadString(PickleKind::kBytes, u);
      case kBinBytes:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        return ReadString(PickleKind::kBytes, u);
      case kBinBytes8:
        if (absl::Status s = ReadUnsigned(8, &u); !s.ok()) return s;
        return ReadString(PickleKind::kBytes, u);
      case kShortBinUnicode:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        return ReadString(PickleKind::kStr, u);
      case kBinUnicode:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        return ReadString(PickleKind::kStr, u);
      case kBinUnicode8:
        if (absl::Status s = ReadUnsigned(8, &u); !s.ok()) return s;
        return ReadString(PickleKind::kStr, u);
      case kIntText:
      case kLongText:
      case kFloatText:
        return TextNumber();
      case kEmptyTuple:
        stack_.push_back(kEmptyTupleNode);
        return absl::OkStatus();
      case kTuple1:
      case kTuple2:
      case kTuple3: {
        const size_t n = op_ - kTuple1 + 1;
        if (absl::Status s = NeedValues(n); !s.ok()) return s;
        const uint32_t t = AddTuple(stack_.data() + stack_.size() - n, n);
        stack_.resize(stack_.size() - n);
        stack_.push_back(t);
        return absl::OkStatus();
      }
      case kTuple:
      case kList:
      case kDict: {
        size_t start = 0;
        if (absl::Status s = PopMark(&start); !s.ok()) return s;
        const size_t n = stack_.size() - start;
        uint32_t result;
        if (op_ == kTuple) {
          result = AddTuple(stack_.data() + start, n);
        } else if (op_ == kList) {
          result = AddList(stack_.data() + start, n);
        } else {
          if (n % 2 != 0) {
            return Error(absl::StrCat("odd number of values (", n,
                                      ") for key/value pairs"));
          }
          result = AddDict();
          store_->dicts.back().items.assign(stack_.begin() + start,
                                            stack_.end());
        }
        stack_.resize(start);
        stack_.push_back(result);
        return absl::OkStatus();
      }
      case kEmptyList:
        stack_.push_back(AddList(nullptr, 0));
        return absl::OkStatus();
      case kEmptyDict:
        stack_.push_back(AddDict());
        return absl::OkStatus();
      case kAppend: {
        if (absl::Status s = NeedValues(2); !s.ok()) return s;
        const uint32_t item = PopValue();
        return AppendTo(stack_.back(), &item, 1);
      }
      case kAppends: {
        size_t start = 0;
        if (absl::Status s = PopMark(&start); !s.ok()) return s;
        if (start == Floor()) return Error("no list below the MARK");
        absl::Status s = AppendTo(stack_[start - 1], stack_.data() + start,
                                  stack_.size() - start);
        stack_.resize(start);
        return s;
      }
      case kSetItem: {
        if (absl::Status s = NeedValues(3); !s.ok()) return s;
        absl::Status s = SetItems(stack_[stack_.size() - 3],
                                  stack_.data() + stack_.size() - 2, 2);
        stack_.resize(stack_.size() - 2);
        return s;
      }
      case kSetItems: {
        size_t start = 0;
        if (absl::Status s = PopMark(&start); !s.ok()) return s;
        if (start == Floor()) return Error("no dict below the MARK");
        absl::Status s = SetItems(stack_[start - 1], stack_.data() + start,
                                  stack_.size() - start);
        stack_.resize(start);
        return s;
      }
      case kBinPut:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        return Put(u);
      case kLongBinPut:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        return Put(u);
      case kMemoize:
        return Put(memo_count_);
      case kBinGet:
        if (absl::Status s = ReadUnsigned(1, &u); !s.ok()) return s;
        return Get(u);
      case kLongBinGet:
        if (absl::Status s = ReadUnsigned(4, &u); !s.ok()) return s;
        return Get(u);
      case kPut:
      case kGet: {
        absl::string_view line;
        if (absl::Status s = ReadLine(&line); !s.ok()) return s;
        int64_t index;
        if (!ParseInt64(line, &index) || index < 0) {
          return Error(absl::StrCat("bad memo index '", line, "'"));
        }
        return op_ == kPut ? Put(index) : Get(index);
      }
      case kGlobal: {
        absl::string_view line;
        if (absl::Status s = ReadLine(&line); !s.ok()) return s;
        const std::string module(line);
        if (absl::Status s = ReadLine(&line); !s.ok()) return s;
        return PushGlobal(module, std::string(line));
      }
      case kStackGlobal: {
        if (absl::Status s = NeedValues(2); !s.ok()) return s;
        const uint32_t name_node = PopValue();
        const uint32_t module_node = PopValue();
        absl::StatusOr<absl::string_view> module =
            SmallString(module_node, "module");
        if (!module.ok()) return module.status();
        absl::StatusOr<absl::string_view> name = SmallString(name_node, "name");
        if (!name.ok()) return name.status();
        return PushGlobal(std::string(*module), std::string(*name));
      }
      case kReduce:
        return Reduce();
      case kNewObj: {
        if (absl::Status s = NeedValues(2); !s.ok()) return s;
        const uint32_t args = PopValue();
        const uint32_t cls = PopValue();
        if (N(args).kind != PickleKind::kTuple) {
          return Error(
              absl::StrCat("arguments must be a tuple, found ", TypeOf(args)));
        }
        stack_.push_back(AddObject(PickleObjectKind::kNewObj, cls, args));
        return absl::OkStatus();
      }
      case kBuild:
        return Build();
      case kBinPersId: {
        if (absl::Status s = NeedValues(1); !s.ok()) return s;
        const uint32_t pid = PopValue();
        stack_.push_back(AddNode(PickleKind::kPersistentId, 0, 0, pid));
        return absl::OkStatus();
      }
      case kPersId: {
        absl::string_view line;
        if (absl::Status s = ReadLine(&line); !s.ok()) return s;
        const uint32_t pid = AddString(PickleKind::kStr, line);
        stack_.push_back(AddNode(PickleKind::kPersistentId, 0, 0, pid));
        return absl::OkStatus();
      }
      case kPop:
        if (stack_.size() > Floor()) {
          stack_.pop_back();
        } else if (!marks_.empty()) {
          marks_.pop_back();
        } else {
          return Underflow(1);
        }
        return absl::OkStatus();
      case kPopMark: {
        size_t start = 0;
        if (absl::Status s = PopMark(&start); !s.ok()) return s;
        stack_.resize(start);
        return absl::OkStatus();
      }
      case kDup:
        if (absl::Status s = NeedValues(1); !s.ok()) return s;
        stack_.push_back(stack_.back());
        return absl::OkStatus();
      default:
        if (OpcodeName(op_) != nullptr) {
          return Unsupported("this opcode is not supported");
        }
        return Error("unknown opcode (corrupt or not a pickle)");
    }
  }

  // LONG1 / LONG4: n bytes of little-endian two's complement.
  absl::Status ReadLong(uint64_t n) {
    if (n > static_cast<uint64_t>(std::max<int64_t>(in_->remaining(), 0))) {
      return Truncated(n);
    }
    if (n > 64) return Unsupported("integer does not fit in 64 bits");
    if (absl::Status s = Need(n); !s.ok()) return s;
    const char* p = in_->cur();
    int64_t v = 0;
    if (n > 0) {
      const bool negative = static_cast<uint8_t>(p[n - 1]) & 0x80;
      for (uint64_t i = 8; i < n; ++i) {
        if (static_cast<uint8_t>(p[i]) != (negative ? 0xFF : 0x00)) {
          return Unsupported("integer does not fit in 64 bits");
        }
      }
      const int low = static_cast<int>(std::min<uint64_t>(n, 8));
      uint64_t bits = LoadLittle(p, low);
      if (low < 8 && negative) bits |= ~uint64_t{0} << (8 * low);
      if (n > 8 && ((bits >> 63) != 0) != negative) {
        return Unsupported("integer does not fit in 64 bits");
      }
      v = static_cast<int64_t>(bits);
    }
    in_->Advance(n);
    stack_.push_back(AddInt(v));
    return absl::OkStatus();
  }

  // INT / LONG / FLOAT: a decimal text line.
  absl::Status TextNumber() {
    absl::string_view line;
    if (absl::Status s = ReadLine(&line); !s.ok()) return s;
    if (op_ == kIntText && (line == "00" || line == "01")) {
      stack_.push_back(line == "01" ? kTrueNode : kFalseNode);
      return absl::OkStatus();
    }
    if (op_ == kFloatText) {
      const std::string s(line);
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) {
        return Error(absl::StrCat("bad float '", line, "'"));
      }
      stack_.push_back(AddFloat(v));
      return absl::OkStatus();
    }
    if (op_ == kLongText && !line.empty() && line.back() == 'L') {
      line.remove_suffix(1);
    }
    int64_t v;
    if (!ParseInt64(line, &v)) {
      return Error(absl::StrCat("bad or out-of-range integer '", line, "'"));
    }
    stack_.push_back(AddInt(v));
    return absl::OkStatus();
  }

  absl::Status AppendTo(uint32_t target, const uint32_t* items, size_t n) {
    if (N(target).kind != PickleKind::kList) {
      return Error(
          absl::StrCat("expected a list to append to, found ", TypeOf(target)));
    }
    std::vector<uint32_t>& list = store_->lists[N(target).payload];
    list.insert(list.end(), items, items + n);
    return absl::OkStatus();
  }

  absl::Status SetItems(uint32_t target, const uint32_t* items, size_t n) {
    if (N(target).kind != PickleKind::kDict) {
      return Error(absl::StrCat("expected a dict to set items in, found ",
                                TypeOf(target)));
    }
    if (n % 2 != 0) {
      return Error(
          absl::StrCat("odd number of values (", n, ") for key/value pairs"));
    }
    std::vector<uint32_t>& dict = store_->dicts[N(target).payload].items;
    dict.insert(dict.end(), items, items + n);
    return absl::OkStatus();
  }

  absl::Status PushGlobal(std::string module, std::string name) {
    if (options_.accept_global && !options_.accept_global(module, name)) {
      return Unsupported(
          absl::StrCat("unsupported global ", module, ".", name));
    }
    const GlobalId id = ClassifyGlobal(module, name);
    store_->globals.push_back(
        Store::Global{std::move(module), std::move(name), id});
    stack_.push_back(
        AddNode(PickleKind::kGlobal, 0, 0, store_->globals.size() - 1));
    return absl::OkStatus();
  }

  // ---- REDUCE and its recognised callables ----

  // "module.name" of the callable of the REDUCE being run (error messages).
  std::string CallableName() const {
    if (N(callable_).kind != PickleKind::kGlobal) return TypeOf(callable_);
    const Store::Global& g = store_->globals[N(callable_).payload];
    return absl::StrCat(g.module, ".", g.name);
  }

  absl::Status Reduce() {
    if (absl::Status s = NeedValues(2); !s.ok()) return s;
    const uint32_t args = PopValue();
    const uint32_t callable = PopValue();
    if (N(args).kind != PickleKind::kTuple) {
      return Error(
          absl::StrCat("arguments must be a tuple, found ", TypeOf(args)));
    }
    const uint32_t* a = store_->TupleItems(N(args));
    const size_t n = N(args).size;
    GlobalId id = GlobalId::kOther;
    if (N(callable).kind == PickleKind::kGlobal) {
      id = store_->globals[N(callable).payload].id;
    }
    callable_ = callable;
    absl::StatusOr<uint32_t> result = kNoNode;
    switch (id) {
      case GlobalId::kOrderedDict:
        result = MakeOrderedDict(a, n);
        break;
      case GlobalId::kCodecsEncode:
        if (n != 2) {
          return Error(
              absl::StrCat(CallableName(), " expects 2 arguments, found ", n));
        }
        result = Encode(a[0], a[1]);
        break;
      case GlobalId::kBytes:
        if (n == 0) {
          result = AddString(PickleKind::kBytes, "");
        } else if (n == 1 && N(a[0]).kind == PickleKind::kBytes) {
          result = a[0];
        } else if (n == 2) {
          result = Encode(a[0], a[1]);
        } else {
          return Unsupported(
              absl::StrCat(CallableName(), "() with arguments ", TypeOf(args)));
        }
        break;
      case GlobalId::kReconstruct:
        result = Reconstruct(callable, args, a, n);
        break;
      case GlobalId::kDtype:
        result = MakeDtype(callable, args, a, n);
        break;
      case GlobalId::kScalar:
        result = MakeScalar(a, n);
        break;
      default:
        result = AddObject(PickleObjectKind::kReduce, callable, args);
        break;
    }
    if (!result.ok()) return result.status();
    stack_.push_back(*result);
    return absl::OkStatus();
  }

  // OrderedDict() or OrderedDict([(k, v), ...]).
  absl::StatusOr<uint32_t> MakeOrderedDict(const uint32_t* a, size_t n) {
    const uint32_t dict = AddDict();
    if (n == 0) return dict;
    const PickleKind k = N(a[0]).kind;
    if (n != 1 || (k != PickleKind::kList && k != PickleKind::kTuple)) {
      return Unsupported(absl::StrCat(CallableName(),
                                      " with arguments other than () "
                                      "or a list of pairs"));
    }
    const uint32_t* pairs;
    size_t count;
    ItemsOf(a[0], &pairs, &count);
    std::vector<uint32_t>& items = store_->dicts[N(dict).payload].items;
    for (size_t i = 0; i < count; ++i) {
      const Node& pair = N(pairs[i]);
      if (pair.kind != PickleKind::kTuple || pair.size != 2) {
        return Error(absl::StrCat(CallableName(), ": item ", i,
                                  " is not a (key, value) pair"));
      }
      items.push_back(store_->TupleItems(pair)[0]);
      items.push_back(store_->TupleItems(pair)[1]);
    }
    return dict;
  }

  // _codecs.encode(text, encoding): latin-1 (each code point one byte) or
  // UTF-8 / ASCII (the bytes as they are).
  absl::StatusOr<uint32_t> Encode(uint32_t text, uint32_t encoding) {
    absl::StatusOr<absl::string_view> enc = SmallString(encoding, "encoding");
    if (!enc.ok()) return enc.status();
    if (N(text).kind != PickleKind::kStr) {
      return Error(absl::StrCat(
          CallableName(), ": expected a str to encode, found ", TypeOf(text)));
    }
    const bool latin1 = *enc == "latin1" || *enc == "latin-1" ||
                        *enc == "iso-8859-1" || *enc == "iso8859-1" ||
                        *enc == "l1";
    const bool utf8 = *enc == "utf-8" || *enc == "utf8" || *enc == "ascii";
    if (!latin1 && !utf8) {
      return Unsupported(
          absl::StrCat(CallableName(), ": encoding '", *enc, "'"));
    }
    const Node t = N(text);
    if (t.flags & kDeferred) {
      const uint32_t node =
          AddNode(PickleKind::kBytes,
                  static_cast<uint8_t>(kDeferred | (latin1 ? kLatin1 : 0)),
                  t.size, t.payload);
      deferred_.push_back(node);
      return node;
    }
    const absl::string_view in = store_->StringOf(t);
    if (utf8) {
      if (*enc == "ascii") {
        for (char c : in) {
          if (static_cast<uint8_t>(c) >= 0x80) {
            return Error(absl::StrCat(CallableName(), ": non-ASCII text"));
          }
        }
      }
      return AddString(PickleKind::kBytes, in);
    }
    std::string out(in.size(), '\0');
    size_t out_size = 0;
    if (!Utf8ToLatin1(in, out.data(), &out_size)) {
      return Error(absl::StrCat(CallableName(),
                                ": text is not representable in "
                                "latin-1"));
    }
    return AddString(PickleKind::kBytes,
                     absl::string_view(out.data(), out_size));
  }

  // _reconstruct(numpy.ndarray, shape, typecode): an array waiting for BUILD.
  absl::StatusOr<uint32_t> Reconstruct(uint32_t callable, uint32_t args,
                                       const uint32_t* a, size_t n) {
    if (n < 1 || N(a[0]).kind != PickleKind::kGlobal ||
        store_->globals[N(a[0]).payload].id != GlobalId::kNdarray) {
      // A subclass of ndarray: keep it as a generic object.
      return AddObject(PickleObjectKind::kReduce, callable, args);
    }
    NdArray array;
    array.pending_data_ = kNoNode;
    array.build_offset_ = op_offset_;
    array.data_ = kEmptyData;
    if (n >= 2) {
      absl::Status s = ReadShape(a[1], "numpy _reconstruct shape",
                                 &array.shape_, &array.num_elements_);
      if (!s.ok()) return s;
    }
    const uint32_t node =
        AddNode(PickleKind::kNdArray, 0, 0, store_->arrays.size());
    array.node_ = node;
    store_->arrays.push_back(std::move(array));
    return node;
  }

  // A tuple of non-negative ints; the element count without overflow.
  absl::Status ReadShape(uint32_t tuple, absl::string_view what,
                         std::vector<int64_t>* shape, int64_t* count) {
    if (N(tuple).kind != PickleKind::kTuple) {
      return Error(
          absl::StrCat(what, ": expected a tuple, found ", TypeOf(tuple)));
    }
    shape->clear();
    int64_t product = 1;
    for (uint32_t i = 0; i < N(tuple).size; ++i) {
      const uint32_t d = store_->TupleItems(N(tuple))[i];
      if (N(d).kind != PickleKind::kInt ||
          static_cast<int64_t>(N(d).payload) < 0) {
        return Error(absl::StrCat(what, ": dim ", i,
                                  " is not a non-negative int but ",
                                  store_->Value(d).DebugString()));
      }
      const int64_t dim = static_cast<int64_t>(N(d).payload);
      if (__builtin_mul_overflow(product, dim, &product) ||
          product > (int64_t{1} << 56)) {
        return Error(absl::StrCat(what, ": too many elements"));
      }
      shape->push_back(dim);
    }
    *count = product;
    return absl::OkStatus();
  }

  // numpy.dtype(descr, align, copy).
  absl::StatusOr<uint32_t> MakeDtype(uint32_t callable, uint32_t args,
                                     const uint32_t* a, size_t n) {
    if (n < 1) return Error(absl::StrCat(CallableName(), " without arguments"));
    absl::StatusOr<absl::string_view> descr =
        SmallString(a[0], "numpy.dtype descr");
    if (!descr.ok()) return descr.status();
    Store::Dtype dtype;
    dtype.descr = std::string(*descr);
    if (!ParseDescr(*descr, &dtype.type, &dtype.big_endian)) {
      dtype.problem = absl::StrCat("unsupported numpy dtype '", *descr, "'");
    }
    const uint32_t node = AddObject(PickleObjectKind::kReduce, callable, args);
    store_->objects.back().dtype = static_cast<int32_t>(store_->dtypes.size());
    store_->dtypes.push_back(std::move(dtype));
    return node;
  }

  // The dtype behind a numpy.dtype object node, or an error.
  absl::StatusOr<const Store::Dtype*> DtypeOf(uint32_t node,
                                              absl::string_view what) const {
    if (N(node).kind != PickleKind::kObject ||
        store_->objects[N(node).payload].dtype < 0) {
      return Error(
          absl::StrCat(what, ": expected a numpy.dtype, found ", TypeOf(node)));
    }
    const Store::Dtype& d =
        store_->dtypes[store_->objects[N(node).payload].dtype];
    if (!d.problem.empty()) {
      return Unsupported(absl::StrCat(what, ": ", d.problem));
    }
    return &d;
  }

  // numpy.core.multiarray.scalar(dtype, raw bytes) -> int, float or bool.
  absl::StatusOr<uint32_t> MakeScalar(const uint32_t* a, size_t n) {
    if (n != 2) {
      return Error(
          absl::StrCat(CallableName(), " expects 2 arguments, found ", n));
    }
    absl::StatusOr<const Store::Dtype*> dtype = DtypeOf(a[0], "numpy scalar");
    if (!dtype.ok()) return dtype.status();
    absl::StatusOr<absl::string_view> raw =
        SmallString(a[1], "numpy scalar data");
    if (!raw.ok()) return raw.status();
    const int size = NumpyTypeSize((*dtype)->type);
    if (raw->size() != static_cast<size_t>(size)) {
      return Error(absl::StrCat(CallableName(), ": ",
                                NumpyTypeName((*dtype)->type), " needs ", size,
                                " bytes, found ", raw->size()));
    }
    char buf[8];
    std::memcpy(buf, raw->data(), size);
    if ((*dtype)->big_endian) std::reverse(buf, buf + size);
    const NumpyType type = (*dtype)->type;
    if (type == NumpyType::kBool) {
      if (static_cast<uint8_t>(buf[0]) > 1) {
        return Error(
            absl::StrCat(CallableName(), ": bool byte ",
                         static_cast<int>(static_cast<uint8_t>(buf[0]))));
      }
      return buf[0] ? kTrueNode : kFalseNode;
    }
    if (IsIntegerType(type)) {
      int64_t v;
      if (!ElementAsInt64(type, buf, &v)) {
        return Unsupported(
            absl::StrCat(CallableName(), ": uint64 value above INT64_MAX"));
      }
      return AddInt(v);
    }
    return AddFloat(ElementAsDouble(type, buf));
  }

  // ---- BUILD ----

  absl::Status Build() {
    if (absl::Status s = NeedValues(2); !s.ok()) return s;
    const uint32_t state = PopValue();
    const uint32_t target = stack_.back();
    switch (N(target).kind) {
      case PickleKind::kNdArray:
        return BuildArray(store_->arrays[N(target).payload], state);
      case PickleKind::kDict:
        store_->dicts[N(target).payload].state = state;
        return absl::OkStatus();
      case PickleKind::kObject: {
        Store::Object& object = store_->objects[N(target).payload];
        object.state = state;
        if (object.dtype >= 0) return BuildDtype(object.dtype, state);
        return absl::OkStatus();
      }
      default:
        return Error(absl::StrCat("cannot set the state of ", TypeOf(target)));
    }
  }

  // dtype state: (version, byteorder, subarray, names, fields, ...).
  absl::Status BuildDtype(int32_t index, uint32_t state) {
    Store::Dtype& d = store_->dtypes[index];
    if (N(state).kind != PickleKind::kTuple || N(state).size < 2) {
      return Error(
          absl::StrCat("numpy.dtype state: expected a tuple of at "
                       "least 2, found ",
                       TypeOf(state)));
    }
    const uint32_t* s = store_->TupleItems(N(state));
    absl::StatusOr<absl::string_view> order =
        SmallString(s[1], "numpy.dtype byte order");
    if (!order.ok()) return order.status();
    if (*order == ">") {
      d.big_endian = true;
    } else if (*order == "<" || *order == "|" || *order == "=") {
      d.big_endian = false;
    } else {
      return Error(
          absl::StrCat("numpy.dtype byte order: expected '<', '>', "
                       "'|' or '=', found '",
                       *order, "'"));
    }
    if (N(state).size >= 4 && d.problem.empty() &&
        (N(s[2]).kind != PickleKind::kNone ||
         N(s[3]).kind != PickleKind::kNone)) {
      d.problem =
          absl::StrCat("structured or subarray numpy dtype '", d.descr, "'");
    }
    return absl::OkStatus();
  }

  // ndarray state: ([version,] shape, dtype, is_fortran, raw data).
  absl::Status BuildArray(NdArray& array, uint32_t state) {
    if (array.built_) return Error("the numpy array already has its data");
    if (N(state).kind != PickleKind::kTuple ||
        (N(state).size != 4 && N(state).size != 5)) {
      return Error(
          absl::StrCat("numpy array state: expected a tuple of 4 or "
                       "5, found ",
                       TypeOf(state)));
    }
    const uint32_t* s = store_->TupleItems(N(state)) + (N(state).size - 4);
    absl::Status status = ReadShape(s[0], "numpy array shape", &array.shape_,
                                    &array.num_elements_);
    if (!status.ok()) return status;
    absl::StatusOr<const Store::Dtype*> dtype =
        DtypeOf(s[1], "numpy array dtype");
    if (!dtype.ok()) return dtype.status();
    array.type_ = (*dtype)->type;
    array.big_endian_ = (*dtype)->big_endian;
    int64_t fortran;
    if (!IntOf(s[2], &fortran)) {
      return Error(
          absl::StrCat("numpy array is_fortran: expected a bool, "
                       "found ",
                       TypeOf(s[2])));
    }
    array.fortran_ = fortran != 0;
    array.built_ = true;
    array.build_offset_ = op_offset_;
    const uint32_t data = s[3];
    if (!IsString(data)) {
      return Unsupported(
          absl::StrCat("numpy array data: expected bytes, "
                       "found ",
                       TypeOf(data), " (object arrays are not supported)"));
    }
    const uint64_t expected =
        static_cast<uint64_t>(array.num_elements_) * NumpyTypeSize(array.type_);
    const Node& d = N(data);
    if (d.flags & kDeferred) {
      const bool bad = (d.flags & kLatin1)
                           ? (d.size < expected || d.size > 2 * expected)
                           : d.size != expected;
      if (bad) return ArraySizeError(array, d.size);
      array.pending_data_ = data;
      return absl::OkStatus();
    }
    return DecodeArray(array, store_->StringOf(d));
  }

  absl::Status ArraySizeError(const NdArray& array, uint64_t found) const {
    return ErrorAt(
        array.build_offset_, "BUILD",
        absl::StrCat("numpy array data: ", array.Description(), " needs ",
                     array.num_elements_ * NumpyTypeSize(array.type_),
                     " bytes, found ", found));
  }

  // Points the array at `raw` (or at a copy in native byte order and C
  // order), after checking its size and, for bool, its bytes.
  absl::Status DecodeArray(NdArray& array, absl::string_view raw) {
    const int item = NumpyTypeSize(array.type_);
    const int64_t count = array.num_elements_;
    if (raw.size() != static_cast<uint64_t>(count) * item) {
      return ArraySizeError(array, raw.size());
    }
    if (array.type_ == NumpyType::kBool) {
      for (int64_t i = 0; i < count; ++i) {
        if (static_cast<uint8_t>(raw[i]) > 1) {
          return ErrorAt(
              array.build_offset_, "BUILD",
              absl::StrCat("numpy bool array: element ", i, " is byte ",
                           static_cast<int>(static_cast<uint8_t>(raw[i]))));
        }
      }
    }
    const bool swap = array.big_endian_ && item > 1;
    const bool reorder =
        array.fortran_ && array.shape_.size() >= 2 && count > 1;
    if (count == 0) {
      array.data_ = kEmptyData;
      return absl::OkStatus();
    }
    if (!swap && !reorder &&
        reinterpret_cast<uintptr_t>(raw.data()) % item == 0) {
      array.data_ = raw.data();
      return absl::OkStatus();
    }
    char* out = store_->arena.Allocate(raw.size());
    const size_t ndim = array.shape_.size();
    std::vector<int64_t> index(ndim, 0), fstride(ndim, 1);
    for (size_t k = 1; k < ndim; ++k) {
      fstride[k] = fstride[k - 1] * array.shape_[k - 1];
    }
    int64_t from = 0;  // the Fortran-order position of `index`
    for (int64_t c = 0; c < count; ++c) {
      const char* src = raw.data() + (reorder ? from : c) * item;
      char* dst = out + c * item;
      if (swap) {
        for (int b = 0; b < item; ++b) dst[b] = src[item - 1 - b];
      } else {
        std::memcpy(dst, src, item);
      }
      if (reorder) {  // next C-order index
        for (size_t k = ndim; k-- > 0;) {
          from += fstride[k];
          if (++index[k] < array.shape_[k]) break;
          from -= fstride[k] * array.shape_[k];
          index[k] = 0;
        }
      }
    }
    array.data_ = out;
    return absl::OkStatus();
  }

  // ---- STOP ----

  absl::Status Finish() {
    if (!marks_.empty()) {
      return Error(absl::StrCat(marks_.size(), " MARK(s) left open"));
    }
    if (stack_.size() != 1) {
      return Error(
          absl::StrCat("expected exactly one value on the stack, "
                       "found ",
                       stack_.size()));
    }
    if (in_->remaining() != 0) {
      return Error(
          absl::StrCat(in_->remaining(), " bytes of trailing data after STOP"));
    }
    store_->root = stack_[0];
    store_->memo_entries = memo_count_;
    store_->memo_capacity = memo_.size();
    for (NdArray& array : store_->arrays) {
      if (!array.built_ && array.num_elements_ != 0) {
        return ErrorAt(array.build_offset_, "REDUCE",
                       absl::StrCat("numpy array ", array.Description(),
                                    " never gets its data (no BUILD)"));
      }
    }
    const bool skipping =
        !options_.skip_keys.empty() || options_.max_array_bytes >= 0;
    if (!skipping && deferred_.empty()) return absl::OkStatus();
    std::vector<bool> reached = Reachable();
    for (uint32_t node : deferred_) {
      if (reached[node]) {
        absl::Status s = Materialize(node);
        if (!s.ok()) return s;
      } else {
        MutableNode(node).flags |= kSkipped;
        store_->unread_bytes += N(node).size;
      }
    }
    for (NdArray& array : store_->arrays) {
      if (!reached[array.node_] || TooBig(array)) {
        array.skipped_ = true;
        array.data_ = nullptr;
      } else if (array.pending_data_ != kNoNode) {
        absl::Status s =
            DecodeArray(array, store_->StringOf(N(array.pending_data_)));
        if (!s.ok()) return s;
      }
      array.pending_data_ = kNoNode;
    }
    return absl::OkStatus();
  }

  bool TooBig(const NdArray& array) const {
    return options_.max_array_bytes >= 0 &&
           array.num_bytes() > options_.max_array_bytes;
  }
  bool IsSkipKey(uint32_t key) const {
    if (!IsString(key) || (N(key).flags & kDeferred)) return false;
    const absl::string_view k = store_->StringOf(N(key));
    for (const std::string& skip : options_.skip_keys) {
      if (k == skip) return true;
    }
    return false;
  }

  // Marks the nodes reachable from the root without passing a skipped key
  // or entering an array that is too big.
  std::vector<bool> Reachable() const {
    std::vector<bool> reached(store_->nodes.size(), false);
    std::vector<uint32_t> todo = {store_->root};
    auto visit = [&](uint32_t node) {
      if (node != kNoNode && !reached[node]) todo.push_back(node);
    };
    while (!todo.empty()) {
      const uint32_t i = todo.back();
      todo.pop_back();
      if (reached[i]) continue;
      reached[i] = true;
      const Node& n = N(i);
      switch (n.kind) {
        case PickleKind::kTuple:
          for (uint32_t k = 0; k < n.size; ++k) {
            visit(store_->TupleItems(n)[k]);
          }
          break;
        case PickleKind::kList:
          for (uint32_t item : store_->lists[n.payload]) visit(item);
          break;
        case PickleKind::kDict: {
          const Store::Dict& d = store_->dicts[n.payload];
          for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
            visit(d.items[k]);
            if (!IsSkipKey(d.items[k])) visit(d.items[k + 1]);
          }
          visit(d.state);
          break;
        }
        case PickleKind::kObject: {
          const Store::Object& o = store_->objects[n.payload];
          visit(o.callable);
          visit(o.args);
          visit(o.state);
          break;
        }
        case PickleKind::kNdArray: {
          const NdArray& a = store_->arrays[n.payload];
          if (!TooBig(a)) visit(a.pending_data_);
          break;
        }
        case PickleKind::kPersistentId:
          visit(static_cast<uint32_t>(n.payload));
          break;
        default:
          break;
      }
    }
    return reached;
  }

  // Reads a deferred string from the input.
  absl::Status Materialize(uint32_t i) {
    Node& n = MutableNode(i);
    const int64_t offset = static_cast<int64_t>(n.payload);
    auto read_error = [&]() {
      return ErrorAt(offset, "",
                     absl::StrCat("cannot read back ", n.size,
                                  " string bytes: ", in_->io_error()));
    };
    if (!(n.flags & kLatin1)) {
      char* p = store_->arena.Allocate(n.size);
      if (!in_->ReadAt(offset, n.size, p)) return read_error();
      n.payload = reinterpret_cast<uint64_t>(p);
      n.flags = 0;
      return absl::OkStatus();
    }
    std::string utf8(n.size, '\0');
    if (!in_->ReadAt(offset, n.size, utf8.data())) return read_error();
    size_t count = 0;  // latin-1 length: bytes that start a character
    for (char c : utf8) count += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
    char* p = store_->arena.Allocate(std::max<size_t>(count, 1));
    size_t out_size = 0;
    std::string scratch;
    if (count < utf8.size()) scratch.resize(utf8.size());
    char* out = count < utf8.size() ? scratch.data() : p;
    if (!Utf8ToLatin1(utf8, out, &out_size) || out_size != count) {
      return ErrorAt(offset, "",
                     "_codecs.encode: text is not representable in latin-1");
    }
    if (out != p) std::memcpy(p, out, out_size);
    n.payload = reinterpret_cast<uint64_t>(p);
    n.size = static_cast<uint32_t>(out_size);
    n.flags = 0;
    return absl::OkStatus();
  }

  Input* in_;
  const UnpickleOptions& options_;
  std::unique_ptr<Store> store_;
  std::vector<uint32_t> stack_;
  std::vector<size_t> marks_;
  ChunkedVector<uint32_t> memo_;
  uint64_t memo_count_ = 0;
  std::vector<uint32_t> deferred_;
  int64_t op_offset_ = 0;
  uint8_t op_ = 0;
  uint32_t callable_ = 0;  // of the REDUCE being run
};

}  // namespace pickle_internal

using pickle_internal::kDeferred;
using pickle_internal::Node;
using pickle_internal::Store;

// ---- Numpy helpers ----

absl::string_view NumpyTypeName(NumpyType type) {
  switch (type) {
    case NumpyType::kBool:
      return "bool";
    case NumpyType::kInt8:
      return "int8";
    case NumpyType::kUInt8:
      return "uint8";
    case NumpyType::kInt16:
      return "int16";
    case NumpyType::kUInt16:
      return "uint16";
    case NumpyType::kInt32:
      return "int32";
    case NumpyType::kUInt32:
      return "uint32";
    case NumpyType::kInt64:
      return "int64";
    case NumpyType::kUInt64:
      return "uint64";
    case NumpyType::kFloat16:
      return "float16";
    case NumpyType::kFloat32:
      return "float32";
    case NumpyType::kFloat64:
      return "float64";
  }
  return "?";
}

int NumpyTypeSize(NumpyType type) {
  switch (type) {
    case NumpyType::kBool:
    case NumpyType::kInt8:
    case NumpyType::kUInt8:
      return 1;
    case NumpyType::kInt16:
    case NumpyType::kUInt16:
    case NumpyType::kFloat16:
      return 2;
    case NumpyType::kInt32:
    case NumpyType::kUInt32:
    case NumpyType::kFloat32:
      return 4;
    case NumpyType::kInt64:
    case NumpyType::kUInt64:
    case NumpyType::kFloat64:
      return 8;
  }
  return 1;
}

double HalfToDouble(uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude =
        std::ldexp(static_cast<double>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

const void* NdArray::CheckedData(NumpyType expected, bool half_ok) const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  CHECK(type_ == expected || (half_ok && type_ == NumpyType::kFloat16))
      << "data<" << NumpyTypeName(expected) << ">() on " << Description();
  return data_;
}

std::vector<double> NdArray::ToDoubles() const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  std::vector<double> out(num_elements_);
  const int item = NumpyTypeSize(type_);
  for (int64_t i = 0; i < num_elements_; ++i) {
    out[i] = pickle_internal::ElementAsDouble(type_, data_ + i * item);
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> NdArray::ToInt64s() const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  if (!pickle_internal::IsIntegerType(type_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer array, found ", Description()));
  }
  std::vector<int64_t> out(num_elements_);
  const int item = NumpyTypeSize(type_);
  for (int64_t i = 0; i < num_elements_; ++i) {
    if (!pickle_internal::ElementAsInt64(type_, data_ + i * item, &out[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          Description(), ": element ", i, " does not fit in int64"));
    }
  }
  return out;
}

std::string NdArray::Description() const {
  return absl::StrCat("ndarray ", NumpyTypeName(type_), " ",
                      ShapeString(shape_), skipped_ ? " [data skipped]" : "");
}

// ---- PickleValue ----

namespace {
const Node& NodeOf(const Store* store, uint32_t i) {
  CHECK(store != nullptr) << "use of a default-constructed PickleValue";
  return store->node(i);
}
}  // namespace

PickleKind PickleValue::kind() const { return NodeOf(store_, node_).kind; }

bool PickleValue::is_number() const {
  const PickleKind k = kind();
  return k == PickleKind::kInt || k == PickleKind::kFloat ||
         k == PickleKind::kBool;
}

bool PickleValue::AsBool() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kBool) << "AsBool() on " << TypeName();
  return n.payload != 0;
}

int64_t PickleValue::AsInt() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kInt) << "AsInt() on " << TypeName();
  return static_cast<int64_t>(n.payload);
}

double PickleValue::AsFloat() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kFloat) << "AsFloat() on " << TypeName();
  double v;
  std::memcpy(&v, &n.payload, 8);
  return v;
}

double PickleValue::AsNumber() const {
  const Node& n = NodeOf(store_, node_);
  if (n.kind == PickleKind::kFloat) return AsFloat();
  CHECK(n.kind == PickleKind::kInt || n.kind == PickleKind::kBool)
      << "AsNumber() on " << TypeName();
  return static_cast<double>(static_cast<int64_t>(n.payload));
}

absl::string_view PickleValue::AsString() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kStr || n.kind == PickleKind::kBytes)
      << "AsString() on " << TypeName();
  CHECK(!(n.flags & kDeferred)) << "AsString() on a skipped " << TypeName();
  return store_->StringOf(n);
}

bool PickleValue::is_skipped() const {
  const Node& n = NodeOf(store_, node_);
  return (n.kind == PickleKind::kStr || n.kind == PickleKind::kBytes) &&
         (n.flags & kDeferred);
}

size_t PickleValue::size() const {
  const Node& n = NodeOf(store_, node_);
  switch (n.kind) {
    case PickleKind::kTuple:
    case PickleKind::kStr:
    case PickleKind::kBytes:
      return n.size;
    case PickleKind::kList:
      return store_->lists[n.payload].size();
    case PickleKind::kDict:
      return store_->dicts[n.payload].items.size() / 2;
    default:
      LOG(FATAL) << "size() on " << TypeName();
  }
  return 0;
}

PickleValue PickleValue::item(size_t i) const {
  const Node& n = NodeOf(store_, node_);
  if (n.kind == PickleKind::kTuple) {
    CHECK_LT(i, n.size) << "item() past the end of a tuple";
    return PickleValue(store_, store_->TupleItems(n)[i]);
  }
  CHECK(n.kind == PickleKind::kList) << "item() on " << TypeName();
  const std::vector<uint32_t>& items = store_->lists[n.payload];
  CHECK_LT(i, items.size()) << "item() past the end of a list";
  return PickleValue(store_, items[i]);
}

PickleValue PickleValue::key(size_t i) const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kDict) << "key() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  CHECK_LT(2 * i, items.size()) << "key() past the end of a dict";
  return PickleValue(store_, items[2 * i]);
}

PickleValue PickleValue::value(size_t i) const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kDict) << "value() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  CHECK_LT(2 * i, items.size()) << "value() past the end of a dict";
  return PickleValue(store_, items[2 * i + 1]);
}

std::optional<PickleValue> PickleValue::Find(absl::string_view key) const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kDict) << "Find() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const Node& k = store_->node(items[i]);
    if ((k.kind == PickleKind::kStr || k.kind == PickleKind::kBytes) &&
        !(k.flags & kDeferred) && store_->StringOf(k) == key) {
      return PickleValue(store_, items[i + 1]);
    }
  }
  return std::nullopt;
}

std::optional<PickleValue> PickleValue::FindInt(int64_t key) const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kDict) << "FindInt() on " << TypeName();
  const std::vector<uint32_t>& items = store_->dicts[n.payload].items;
  for (size_t i = 0; i + 1 < items.size(); i += 2) {
    const Node& k = store_->node(items[i]);
    if (k.kind == PickleKind::kInt && static_cast<int64_t>(k.payload) == key) {
      return PickleValue(store_, items[i + 1]);
    }
  }
  return std::nullopt;
}

absl::string_view PickleValue::global_module() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kGlobal) << "global_module() on " << TypeName();
  return store_->globals[n.payload].module;
}

absl::string_view PickleValue::global_name() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kGlobal) << "global_name() on " << TypeName();
  return store_->globals[n.payload].name;
}

bool PickleValue::IsGlobal(absl::string_view module,
                           absl::string_view name) const {
  return is_global() && global_module() == module && global_name() == name;
}

PickleObjectKind PickleValue::object_kind() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kObject) << "object_kind() on " << TypeName();
  return store_->objects[n.payload].kind;
}

PickleValue PickleValue::callable() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kObject) << "callable() on " << TypeName();
  return PickleValue(store_, store_->objects[n.payload].callable);
}

PickleValue PickleValue::args() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kObject) << "args() on " << TypeName();
  return PickleValue(store_, store_->objects[n.payload].args);
}

bool PickleValue::has_state() const {
  const Node& n = NodeOf(store_, node_);
  if (n.kind == PickleKind::kObject) {
    return store_->objects[n.payload].state != pickle_internal::kNoNode;
  }
  if (n.kind == PickleKind::kDict) {
    return store_->dicts[n.payload].state != pickle_internal::kNoNode;
  }
  return false;
}

PickleValue PickleValue::state() const {
  CHECK(has_state()) << "state() on " << TypeName() << " without state";
  const Node& n = NodeOf(store_, node_);
  return PickleValue(store_, n.kind == PickleKind::kObject
                                 ? store_->objects[n.payload].state
                                 : store_->dicts[n.payload].state);
}

const NdArray& PickleValue::array() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kNdArray) << "array() on " << TypeName();
  return store_->arrays[n.payload];
}

PickleValue PickleValue::persistent_id() const {
  const Node& n = NodeOf(store_, node_);
  CHECK(n.kind == PickleKind::kPersistentId)
      << "persistent_id() on " << TypeName();
  return PickleValue(store_, static_cast<uint32_t>(n.payload));
}

std::string PickleValue::TypeName() const {
  const Node& n = NodeOf(store_, node_);
  switch (n.kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kStr:
      return "str";
    case PickleKind::kBytes:
      return "bytes";
    case PickleKind::kTuple:
      return absl::StrCat("tuple of ", size());
    case PickleKind::kList:
      return absl::StrCat("list of ", size());
    case PickleKind::kDict:
      return absl::StrCat("dict of ", size());
    case PickleKind::kGlobal:
      return absl::StrCat("global ", global_module(), ".", global_name());
    case PickleKind::kObject: {
      const PickleValue c = callable();
      return absl::StrCat(
          "object ", c.is_global()
                         ? absl::StrCat(c.global_module(), ".", c.global_name())
                         : c.TypeName());
    }
    case PickleKind::kNdArray:
      return array().Description();
    case PickleKind::kPersistentId:
      return "persistent id";
  }
  return "?";
}

namespace {

void AppendQuoted(absl::string_view s, bool bytes, std::string* out) {
  if (bytes) out->push_back('b');
  out->push_back('\'');
  for (char c : s.substr(0, 64)) {
    const uint8_t u = static_cast<uint8_t>(c);
    if (c == '\'' || c == '\\') {
      absl::StrAppend(out, "\\", std::string(1, c));
    } else if (u >= 0x20 && u < 0x7F) {
      out->push_back(c);
    } else {
      absl::StrAppend(out, absl::StrFormat("\\x%02x", u));
    }
  }
  if (s.size() > 64) absl::StrAppend(out, "...");
  out->push_back('\'');
}

void AppendDebug(const PickleValue& v, int max_items, int depth,
                 std::string* out) {
  switch (v.kind()) {
    case PickleKind::kNone:
      absl::StrAppend(out, "None");
      return;
    case PickleKind::kBool:
      absl::StrAppend(out, v.AsBool() ? "True" : "False");
      return;
    case PickleKind::kInt:
      absl::StrAppend(out, v.AsInt());
      return;
    case PickleKind::kFloat:
      absl::StrAppend(out, absl::StrFormat("%.17g", v.AsFloat()));
      return;
    case PickleKind::kStr:
    case PickleKind::kBytes:
      if (v.is_skipped()) {
        absl::StrAppend(out, "<skipped ", v.TypeName(), " of ", v.size(),
                        " bytes>");
      } else {
        AppendQuoted(v.AsString(), v.is_bytes(), out);
      }
      return;
    case PickleKind::kTuple:
    case PickleKind::kList:
    case PickleKind::kDict: {
      const bool dict = v.is_dict();
      const char* open = dict ? "{" : v.is_list() ? "[" : "(";
      const char* close = dict ? "}" : v.is_list() ? "]" : ")";
      if (depth <= 0) {
        absl::StrAppend(out, open, "...", close);
        return;
      }
      absl::StrAppend(out, open);
      const size_t n = v.size();
      for (size_t i = 0; i < n && i < static_cast<size_t>(max_items); ++i) {
        if (i > 0) absl::StrAppend(out, ", ");
        if (dict) {
          AppendDebug(v.key(i), max_items, depth - 1, out);
          absl::StrAppend(out, ": ");
          AppendDebug(v.value(i), max_items, depth - 1, out);
        } else {
          AppendDebug(v.item(i), max_items, depth - 1, out);
        }
      }
      if (n > static_cast<size_t>(max_items)) {
        absl::StrAppend(out, ", ... (", n, " in all)");
      }
      if (v.is_tuple() && n == 1) absl::StrAppend(out, ",");
      absl::StrAppend(out, close);
      return;
    }
    case PickleKind::kGlobal:
      absl::StrAppend(out, v.global_module(), ".", v.global_name());
      return;
    case PickleKind::kObject:
      if (depth <= 0) {
        absl::StrAppend(out, "<", v.TypeName(), ">");
        return;
      }
      AppendDebug(v.callable(), max_items, depth - 1, out);
      AppendDebug(v.args(), max_items, depth - 1, out);
      if (v.has_state()) {
        absl::StrAppend(out, ".__setstate__(");
        AppendDebug(v.state(), max_items, depth - 1, out);
        absl::StrAppend(out, ")");
      }
      return;
    case PickleKind::kNdArray:
      absl::StrAppend(out, "<", v.array().Description(), ">");
      return;
    case PickleKind::kPersistentId:
      absl::StrAppend(out, "persistent_id(");
      AppendDebug(v.persistent_id(), max_items, depth - 1, out);
      absl::StrAppend(out, ")");
      return;
  }
}

}  // namespace

std::string PickleValue::DebugString(int max_items, int max_depth) const {
  std::string out;
  AppendDebug(*this, max_items, max_depth, &out);
  return out;
}

// ---- Pickle ----

Pickle::Pickle(std::unique_ptr<pickle_internal::Store> store)
    : store_(std::move(store)) {}
Pickle::Pickle(Pickle&&) noexcept = default;
Pickle& Pickle::operator=(Pickle&&) noexcept = default;
Pickle::~Pickle() = default;

PickleValue Pickle::root() const { return store_->Value(store_->root); }
const std::string& Pickle::source_name() const { return store_->source_name; }
int64_t Pickle::num_nodes() const { return store_->nodes.size(); }
int64_t Pickle::num_memo_entries() const { return store_->memo_entries; }
int64_t Pickle::memo_capacity() const { return store_->memo_capacity; }
int64_t Pickle::num_unread_bytes() const { return store_->unread_bytes; }

absl::StatusOr<Pickle> ParsePickle(absl::string_view data,
                                   absl::string_view source_name,
                                   const UnpickleOptions& options) {
  pickle_internal::Input input(data);
  return pickle_internal::Unpickler(&input, source_name, options).Run();
}

absl::StatusOr<Pickle> ReadPickleFile(const std::string& path,
                                      const UnpickleOptions& options) {
  absl::StatusOr<std::unique_ptr<pickle_internal::Input>> input =
      pickle_internal::Input::Open(path);
  if (!input.ok()) return input.status();
  return pickle_internal::Unpickler(input->get(), path, options).Run();
}

}  // namespace elm
