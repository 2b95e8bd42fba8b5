// Internals of the pickle reader (io/pickle.h) shared by its sources: the
// opcodes, the storage behind every PickleValue (Node, Store) and the
// Unpickler, whose members are defined in pickle_vm.cc (the opcode switch,
// the stack, the memo, REDUCE and BUILD), pickle_numpy.cc (numpy arrays,
// dtypes and scalars), pickle_strings.cc (_codecs.encode and the STOP pass
// that reads the deferred strings), pickle_scalars.cc (the numpy scalar fast
// path and packed lists) and pickle_stream.cc (streaming: the scan, the
// items, the single pass's copies). For io/pickle*.cc only.
#ifndef ELM_IO_PICKLE_INTERNAL_H_
#define ELM_IO_PICKLE_INTERNAL_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "io/pickle.h"
#include "io/pickle_input.h"

namespace elm {
namespace pickle_internal {

constexpr uint32_t kNoNode = 0xFFFFFFFFu;
// Node indices stay below this, so that kNoNode is never a real node.
constexpr uint32_t kMaxNodes = 0xFFFFFF00u;
// Singleton nodes, created first.
constexpr uint32_t kNoneNode = 0;
constexpr uint32_t kFalseNode = 1;
constexpr uint32_t kTrueNode = 2;
constexpr uint32_t kEmptyTupleNode = 3;
// The node index of a PickleValue that is an int held in the value itself
// (an item of a packed list, Store::List).
constexpr uint32_t kImmediateInt = 0xFFFFFFFEu;
static_assert(kImmediateInt > kMaxNodes && kImmediateInt != kNoNode,
              "kImmediateInt is never a node");

// Strings at least this long are not copied while parsing (see pickle.h).
constexpr uint64_t kDeferMinBytes = 64 * 1024;
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
static_assert(kFileBufferBytes > kDeferMinBytes,
              "deferred strings must not fit in the file buffer");

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

// The pickletools name of a known opcode, or nullptr (pickle_debug.cc).
const char* OpcodeName(uint8_t op);

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
  // Shrinks to `n` elements, freeing the blocks past them.
  void TruncateTo(size_t n) {
    if (n >= size_) return;
    size_ = n;
    blocks_.resize((n + kBlock - 1) >> kShift);
  }

 private:
  std::vector<std::unique_ptr<T[]>> blocks_;
  size_t size_ = 0;
};

// A bump allocator of 8-byte-aligned byte ranges that live as long as it.
class ByteArena {
 public:
  // A position to roll back to: everything allocated after it is freed.
  struct Mark {
    size_t blocks;
    uint64_t* next;
    uint64_t left;
  };
  Mark GetMark() const { return Mark{blocks_.size(), next_, left_}; }
  void RollBack(const Mark& m) {
    blocks_.resize(m.blocks);
    next_ = m.next;
    left_ = m.left;
  }
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
  // A list's items: nodes, or, for a list filled only by runs of numpy int64
  // scalars appended at once (Unpickler::PackedAppends: the spike times of a
  // NeuronIO file), their values packed in `ints`, in the arena (then `nodes`
  // is empty).
  struct List {
    std::vector<uint32_t> nodes;
    absl::Span<const int64_t> ints;
    size_t size() const { return nodes.size() + ints.size(); }
  };
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
  std::vector<List> lists;
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

// The data pointer of empty arrays and of the empty tuple.
inline constexpr char kEmptyData[8] = {};

// The n-byte little-endian unsigned integer at p.
inline uint64_t LoadLittle(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A numpy scalar as picklers write one (Python 2 cPickle and PickleWriter:
// the NeuronIO files' ~84,000 spike times per simulation):
//   GET callable, GET dtype, SHORT_BINSTRING|SHORT_BINBYTES 8 <8 bytes>,
//   [PUT], TUPLE2, [PUT], REDUCE, [PUT]
// with GET = BINGET|LONG_BINGET and PUT = BINPUT|LONG_BINPUT; the parse and
// the scan of a streaming parse read it at once (pickle_scalars.cc).
struct ScalarCall {
  uint64_t callable = 0;       // memo index of the callable
  uint64_t dtype = 0;          // memo index of the dtype
  const char* data = nullptr;  // the 8 bytes
  int num_puts = 0;
  uint64_t put_index[3] = {};
  size_t put_at[3] = {};  // offset of each PUT opcode from the first GET's
  size_t length = 0;      // bytes from the first GET's opcode on
};
constexpr size_t kMaxScalarCallBytes = 5 + 5 + 10 + 5 + 1 + 5 + 1 + 5;
// Matches a ScalarCall whose first opcode is `op` (already read) and whose
// further bytes are the n at `rest`; false when they are anything else.
bool MatchScalarCall(uint8_t op, const char* rest, size_t n, ScalarCall* call);

// The layout of a matched ScalarCall: its bytes before the 8 data bytes (the
// two GETs and the string opcode with its length), which are the same for
// every scalar of a run, and the opcodes after the data at their offsets
// (from the first GET's opcode). A run of scalars (a spike list's items)
// is then read by comparing bytes (SameScalarLayout) instead of matching
// each call: equal opcodes at the same offsets give the same parse, with
// the same GETs.
struct ScalarLayout {
  bool valid = false;
  uint64_t callable = 0, dtype = 0;  // the memo indices its GETs fetch
  size_t prefix_len = 0;             // bytes before the data
  char prefix[12] = {};
  size_t length = 0;  // of the whole call
  int num_ops = 0;    // opcodes after the data (PUTs, TUPLE2, REDUCE)
  size_t op_at[5] = {};
  uint8_t op[5] = {};
  // The prefix after its first byte (at most 11 bytes) as an 8- and a
  // 4-byte word with their masks (a call is at least 16 bytes: the 12 after
  // the first opcode are there to load).
  uint64_t word = 0, mask = 0;
  uint32_t word2 = 0, mask2 = 0;
  int num_puts = 0;
  size_t put_at[3] = {};  // offsets of the PUT opcodes
  bool put_long[3] = {};  // LONG_BINPUT (else BINPUT)
  // The whole call's opcodes and fixed bytes (all but the data and the PUT
  // arguments) as kScalarCompareBytes from the first opcode, with their
  // masks, in words: SameScalarCall.
  uint64_t call_word[5] = {}, call_mask[5] = {};
};
constexpr size_t kScalarCompareBytes = 40;
static_assert(kScalarCompareBytes >= kMaxScalarCallBytes &&
                  kScalarCompareBytes == 8 * 5,
              "call_word covers a whole call");
// The layout of `call`, matched with first opcode `op` and further bytes at
// `rest`.
ScalarLayout LayoutOf(uint8_t op, const char* rest, const ScalarCall& call);
// True when a call of `layout` begins with opcode `op` followed by the n
// bytes at `rest`.
inline bool SameScalarLayout(const ScalarLayout& layout, uint8_t op,
                             const char* rest, size_t n) {
  if (n + 1 < layout.length || op != static_cast<uint8_t>(layout.prefix[0])) {
    return false;
  }
  uint64_t w;
  uint32_t w2;
  std::memcpy(&w, rest, 8);
  std::memcpy(&w2, rest + 8, 4);
  if (((w ^ layout.word) & layout.mask) |
      ((w2 ^ layout.word2) & layout.mask2)) {
    return false;
  }
  for (int k = 0; k < layout.num_ops; ++k) {
    if (static_cast<uint8_t>(rest[layout.op_at[k] - 1]) != layout.op[k]) {
      return false;
    }
  }
  return true;
}

// True when the call at `p` (its first opcode, kScalarCompareBytes readable)
// has the layout `layout`: the same as SameScalarLayout, in five masked
// word comparisons.
inline bool SameScalarCall(const ScalarLayout& layout, const char* p) {
  uint64_t diff = 0;
  for (int k = 0; k < 5; ++k) {
    uint64_t w;
    std::memcpy(&w, p + 8 * k, 8);
    diff |= (w ^ layout.call_word[k]) & layout.call_mask[k];
  }
  return diff == 0;
}

// Runs one parse.
class Unpickler {
 public:
  Unpickler(Input* input, absl::string_view source,
            const UnpickleOptions& options)
      : in_(input), options_(options), store_(new Store) {
    store_->source_name = std::string(source);
  }
  // With a second input over the same bytes, for UnpickleOptions streaming.
  Unpickler(Input* input, Input* scan, absl::string_view source,
            const UnpickleOptions& options)
      : Unpickler(input, source, options) {
    if (streaming() && scan != nullptr) ScanGets(scan);
  }
  // For UnpickleOptions streaming in a single pass, without the scan: every
  // memo entry is stored (memo_map_) except the PUTs inside the numpy
  // scalars of the fast paths; a consumed item's entries are kept as copies
  // where they are small values (Survivors) and dropped otherwise. A GET of
  // an entry that is not there fails the parse with must_restart() set: the
  // caller then parses again with the scan.
  struct OnePass {};
  Unpickler(Input* input, absl::string_view source,
            const UnpickleOptions& options, OnePass)
      : Unpickler(input, source, options) {
    if (streaming()) one_pass_ = gets_known_ = true;
  }

  absl::StatusOr<Pickle> Run();
  // After Run() failed: the single pass met a GET of a value it did not
  // keep; the result of a parse with the scan is the answer.
  bool must_restart() const { return restart_; }

 private:
  // ---- Errors ----

  absl::Status ErrorAt(
      int64_t offset, absl::string_view op, absl::string_view what,
      absl::StatusCode code = absl::StatusCode::kInvalidArgument) const;
  std::string OpName() const;
  absl::Status Error(absl::string_view what) const;
  absl::Status Unsupported(absl::string_view what) const;
  absl::Status Truncated(uint64_t needed) const;
  std::string TypeOf(uint32_t node) const;

  // ---- Nodes ----

  uint32_t AddNode(PickleKind kind, uint8_t flags, uint32_t size,
                   uint64_t payload) {
    const uint32_t index = static_cast<uint32_t>(store_->nodes.size());
    store_->nodes.push_back(Node{kind, flags, 0, size, payload});
    return index;
  }
  void AddSingletons();
  uint32_t AddInt(int64_t v) {
    return AddNode(PickleKind::kInt, 0, 0, static_cast<uint64_t>(v));
  }
  uint32_t AddFloat(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    return AddNode(PickleKind::kFloat, 0, 0, bits);
  }
  uint32_t AddString(PickleKind kind, absl::string_view bytes);
  uint32_t AddTuple(const uint32_t* items, size_t n);
  uint32_t AddList(const uint32_t* items, size_t n);
  uint32_t AddDict();
  uint32_t AddObject(PickleObjectKind kind, uint32_t callable, uint32_t args);
  const Node& N(uint32_t i) const { return store_->nodes[i]; }
  Node& MutableNode(uint32_t i) { return store_->nodes[i]; }
  bool IsString(uint32_t i) const;
  // The bytes of a str/bytes node that must be small (not deferred).
  absl::StatusOr<absl::string_view> SmallString(uint32_t i,
                                                absl::string_view what) const;
  // The items of a tuple or list node.
  // (A packed list is unpacked first.)
  void ItemsOf(uint32_t i, const uint32_t** items, size_t* n);
  // Turns the packed ints of list node `list` (Store::List) into int nodes.
  void Unpack(uint32_t list);
  // An int or bool node's value.
  bool IntOf(uint32_t i, int64_t* v) const;

  // ---- Stack ----

  size_t Floor() const { return marks_.empty() ? 0 : marks_.back(); }
  absl::Status Underflow(size_t needed) const;
  // Checks that n values are above the mark floor.
  absl::Status NeedValues(size_t n) const;
  uint32_t PopValue() {
    const uint32_t v = stack_.back();
    stack_.pop_back();
    return v;
  }
  // Pops the last mark; *start is the stack position of the first value
  // above it.
  absl::Status PopMark(size_t* start);

  // ---- Reading ----

  absl::Status Need(size_t n);
  absl::Status ReadUnsigned(int n, uint64_t* v);
  absl::Status ReadLine(absl::string_view* line);

  // Reads a string of n bytes and pushes it.
  absl::Status ReadString(PickleKind kind, uint64_t n);

  // ---- Memo ----

  absl::Status Put(uint64_t index);
  absl::Status Get(uint64_t index);

  // ---- Opcodes ----

  absl::Status Step();

  // LONG1 / LONG4: n bytes of little-endian two's complement.
  absl::Status ReadLong(uint64_t n);

  // INT / LONG / FLOAT: a decimal text line.
  absl::Status TextNumber();

  absl::Status AppendTo(uint32_t target, const uint32_t* items, size_t n);

  absl::Status SetItems(uint32_t target, const uint32_t* items, size_t n);

  absl::Status PushGlobal(std::string module, std::string name);

  // ---- REDUCE and its recognised callables ----

  // "module.name" of the callable of the REDUCE being run (error messages).
  std::string CallableName() const;

  absl::Status Reduce();

  // OrderedDict() or OrderedDict([(k, v), ...]).
  absl::StatusOr<uint32_t> MakeOrderedDict(const uint32_t* a, size_t n);

  // _codecs.encode(text, encoding): latin-1 (each code point one byte) or
  // UTF-8 / ASCII (the bytes as they are).
  absl::StatusOr<uint32_t> Encode(uint32_t text, uint32_t encoding);

  // _reconstruct(numpy.ndarray, shape, typecode): an array waiting for BUILD.
  absl::StatusOr<uint32_t> Reconstruct(uint32_t callable, uint32_t args,
                                       const uint32_t* a, size_t n);

  // A tuple of non-negative ints; the element count without overflow.
  absl::Status ReadShape(uint32_t tuple, absl::string_view what,
                         std::vector<int64_t>* shape, int64_t* count);

  // numpy.dtype(descr, align, copy).
  absl::StatusOr<uint32_t> MakeDtype(uint32_t callable, uint32_t args,
                                     const uint32_t* a, size_t n);

  // The dtype behind a numpy.dtype object node, or an error.
  absl::StatusOr<const Store::Dtype*> DtypeOf(uint32_t node,
                                              absl::string_view what) const;

  // numpy.core.multiarray.scalar(dtype, raw bytes) -> int, float or bool.
  absl::StatusOr<uint32_t> MakeScalar(const uint32_t* a, size_t n);

  // ---- BUILD ----

  absl::Status Build();

  // dtype state: (version, byteorder, subarray, names, fields, ...).
  absl::Status BuildDtype(int32_t index, uint32_t state);

  // ndarray state: ([version,] shape, dtype, is_fortran, raw data).
  absl::Status BuildArray(NdArray& array, uint32_t state);

  absl::Status ArraySizeError(const NdArray& array, uint64_t found) const;

  // Points the array at `raw` (or at a copy in native byte order and C
  // order), after checking its size and, for bool, its bytes.
  absl::Status DecodeArray(NdArray& array, absl::string_view raw);

  // ---- STOP ----

  absl::Status Finish();

  bool TooBig(const NdArray& array) const;
  bool IsSkipKey(uint32_t key) const;

  // Marks the nodes reachable from the root without passing a skipped key
  // or entering an array that is too big.
  std::vector<bool> Reachable() const;

  // Reads a deferred string from the input.
  absl::Status Materialize(uint32_t i);

  // ---- The numpy scalar fast path (pickle_scalars.cc) ----

  // At a BINGET / LONG_BINGET (op_, read) when gets_known_: reads a whole
  // ScalarCall of a numpy.int64 or float64 scalar whose PUTs no GET uses (in
  // a single pass: whose PUTs replace no stored entry; a later GET of one
  // starts the parse over) and pushes its value, with the effects of the
  // opcodes one by one (memo count included) but without their intermediate
  // values; equal small ints share a node. False, with nothing read, for
  // anything else (the opcodes are then run one by one, so errors are
  // unchanged).
  bool FastScalar();
  // At a MARK (op_, read) when gets_known_, above a list that is empty or
  // packed (Store::List) and not older than a streamed item being built:
  // reads the numpy int64 scalar calls that follow as FastScalar does and,
  // when an APPENDS follows them, appends their values to the list's packed
  // ints at once; otherwise leaves the MARK and the values (nodes) on the
  // stack, as the opcodes would. False, with nothing read after the MARK,
  // when no such call follows (the MARK is then run as usual).
  bool PackedAppends();
  std::vector<int64_t> packed_run_;  // PackedAppends' values (reused)
  // True when the numpy scalar call with first opcode `op` (read), further
  // bytes at `rest` (n readable) and input offset `offset` is one FastScalar
  // reads; scalar_layout_ (with scalar_int_, scalar_big_endian_) is then its
  // layout, learned and checked when it differs from the last one.
  bool ScalarCallAt(uint8_t op, const char* rest, size_t n, int64_t offset);
  // True when the PUTs of a call of scalar_layout_ (further bytes at `rest`,
  // first opcode at input offset `offset`) are plausible and used by no GET
  // (single pass: above every stored index).
  bool PutsElidable(const char* rest, int64_t offset) const;
  // The value bits of a call of scalar_layout_, in native byte order.
  uint64_t ScalarBits(const char* rest) const;
  // Pushes the value of a call of scalar_layout_ (further bytes at `rest`)
  // and counts its PUTs.
  void PushLaidOutScalar(const char* rest);
  // An int node; equal small ints share one.
  uint32_t IntNode(int64_t v);
  // The layout of the last call FastScalar read, with the value type of its
  // (checked) dtype; forgotten (valid false) when a memo entry a GET uses is
  // set, on BUILD, and when a streamed item is rolled back.
  ScalarLayout scalar_layout_;
  bool scalar_int_ = false;
  bool scalar_big_endian_ = false;
  // The node of each int in [0, kSmallInts) that FastScalar made (kNoNode
  // where none), and the values that have one (CompleteStreamItem forgets
  // those it rolls back).
  static constexpr int64_t kSmallInts = 1 << 16;
  std::vector<uint32_t> small_ints_;
  std::vector<uint32_t> small_ints_made_;

  // ---- Streaming (UnpickleOptions::stream_list_key; pickle_stream.cc) ----

  // The item of the streamed list being built: its node, stack position,
  // list index and list node, and the sizes of the store when it began.
  struct StreamItem {
    bool active = false;
    bool unsafe = false;  // an opcode did what picklers never do around it
    uint32_t node = kNoNode;
    size_t pos = 0;
    size_t index = 0;
    uint32_t list = kNoNode;
    size_t lists, dicts, globals, objects, dtypes, arrays, deferred;
    ByteArena::Mark arena;
  };
  bool streaming() const { return !options_.stream_list_key.empty(); }
  // Scans the opcodes of `scan` (a second input over the same bytes) for the
  // memo entries that GETs use; leaves gets_known_ false when it cannot.
  void ScanGets(Input* scan);
  bool MemoUsed(uint64_t index) const {
    return index < used_memo_.size() && used_memo_[index];
  }
  // !MemoUsed(index), from a cached interval of memo indices no GET uses
  // (the PUTs of a run of scalars fall in one).
  bool MemoUnused(uint64_t index) const {
    if (index - unused_begin_ < unused_end_ - unused_begin_) return true;
    return MemoUnusedSlow(index);
  }
  bool MemoUnusedSlow(uint64_t index) const;
  // The memo indices GETs use, ascending (set with used_memo_), and the
  // interval [unused_begin_, unused_end_) of indices between two of them.
  std::vector<uint64_t> used_sorted_;
  mutable uint64_t unused_begin_ = 0, unused_end_ = 0;
  // Called before EMPTY_DICT pushes a dict: completes the previous item when
  // this dict is its next sibling, and begins an item when the dict is one.
  absl::Status BeforeEmptyDict();
  // Called before APPEND / APPENDS appends stack_[start, end) to `list`.
  absl::Status BeforeAppend(uint32_t list, size_t start, size_t end);
  // Hands the completed item to stream_item and, if consumed, rolls back.
  absl::Status CompleteStreamItem();
  // A value after a str/bytes `key` on the stack.
  std::optional<PickleValue> StackValue(absl::string_view key) const;
  // Marks the item unsafe when an opcode changes a container older than it.
  void TouchTarget(uint32_t target) {
    if (stream_.active && target < stream_.node) stream_.unsafe = true;
  }

  // Streaming: for each list (Store::lists), whether an item that is not an
  // int or float was ever put in it (set where items are added, while their
  // nodes are fresh), so that CompleteStreamItem steps over lists of numbers
  // (most of a NeuronIO item) without visiting their items.
  std::vector<bool> list_has_other_;
  void NoteListItems(size_t list, const uint32_t* items, size_t n) {
    if (!streaming()) return;
    if (list >= list_has_other_.size()) list_has_other_.resize(list + 1);
    if (list_has_other_[list]) return;
    for (size_t k = 0; k < n; ++k) {
      const PickleKind kind = N(items[k]).kind;
      if (kind != PickleKind::kInt && kind != PickleKind::kFloat) {
        list_has_other_[list] = true;
        return;
      }
    }
  }

  // ---- The single pass (OnePass; pickle_stream.cc) ----

  bool one_pass_ = false;
  bool restart_ = false;
  // Every stored memo entry's node, the largest index stored (-1: none), and
  // the indices stored while the streamed item is built that hold its nodes.
  absl::flat_hash_map<uint64_t, uint32_t> memo_map_;
  int64_t max_stored_index_ = -1;
  std::vector<uint64_t> item_puts_;
  // The node a GET of `index` gives (kNoNode: none), with or without the scan.
  uint32_t MemoNode(uint64_t index) const;
  // A small value held by a memo entry of a consumed item, copied out before
  // the item's storage is rolled back and made again after it: a tree of
  // None, bool, int, float, str/bytes of up to kSurvivorBytes, globals,
  // tuples and objects (numpy dtypes) of these, of at most kSurvivorNodes.
  struct Survivor;
  static constexpr uint64_t kSurvivorBytes = 4096;
  static constexpr size_t kSurvivorNodes = 64;
  // Copies out the values of the entries in item_puts_ that hold nodes from
  // `first` on; drops (from memo_map_) those that are not small values.
  std::vector<Survivor> TakeSurvivors(uint32_t first);
  // Makes them again and points their memo entries at them.
  void RestoreSurvivors(const std::vector<Survivor>& survivors);

  // Set by ScanGets: which memo entries GETs use; then only those are
  // stored, in used_memo_nodes_ (kNoNode where not stored).
  bool gets_known_ = false;
  std::vector<bool> used_memo_;
  std::vector<uint32_t> used_memo_nodes_;
  bool any_memo_stored_ = false;
  uint32_t max_memo_node_ = 0;  // the largest node stored
  StreamItem stream_;

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
}  // namespace elm

#endif  // ELM_IO_PICKLE_INTERNAL_H_
