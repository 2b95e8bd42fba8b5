// A Python pickle reader (protocol 2, plus the protocol 0/1/3/4 opcodes that
// are cheap to support) that builds a read-only value tree without running any
// code: None, bool, int (int64), float, str, bytes, tuple, list, dict (in
// insertion order, keys of any kind), global references (module + name),
// generic objects made by REDUCE / NEWOBJ (callable, arguments, BUILD state)
// and persistent ids. It reads Python 2 cPickle output (str as SHORT_BINSTRING
// / BINSTRING) and Python 3 protocol-2 output (bytes as
// `_codecs.encode(<latin-1 text>, 'latin1')`) and recognises numpy: arrays
// (`numpy.core.multiarray._reconstruct` or
// `numpy._core.multiarray._reconstruct` + BUILD) become typed NdArrays,
// `numpy.dtype` gives type and byte order, `multiarray.scalar(dtype, bytes)`
// becomes an int, float or bool, and `collections.OrderedDict()` becomes a
// dict. Storage is compact (16-byte nodes, a memo of 4-byte indices; see
// Pickle), UnpickleOptions::skip_keys leaves out large values without ever
// holding their bytes, UnpickleOptions::stream_item hands over the items of
// one long list as they are parsed and reuses their storage, and every problem
// with the input is an absl::Status naming the source, the byte offset, the
// opcode and what was expected.
//
// Example:
//   UnpickleOptions options;
//   options.skip_keys = {"dendriticVoltagesLowRes"};
//   ASSIGN_OR_RETURN(Pickle pickle, ReadPickleFile(path, options));
//   std::optional<PickleValue> params = pickle.root().Find("Params");
//   if (!params.has_value() || !params->is_dict()) return ...;
//   for (size_t i = 0; i < params->size(); ++i) {
//     LOG(INFO) << params->key(i).DebugString() << " = "
//               << params->value(i).DebugString();
//   }
#ifndef ELM_IO_PICKLE_H_
#define ELM_IO_PICKLE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace elm {

namespace pickle_internal {
class Store;
class Unpickler;
}  // namespace pickle_internal

// The kind of a value in the tree.
enum class PickleKind : uint8_t {
  kNone,
  kBool,
  kInt,    // int64; larger Python ints are an error
  kFloat,  // double
  kStr,    // Python 3 str (UTF-8 bytes as stored; not validated)
  kBytes,  // bytes, and Python 2 str (SHORT_BINSTRING / BINSTRING)
  kTuple,
  kList,
  kDict,          // also collections.OrderedDict
  kGlobal,        // a GLOBAL / STACK_GLOBAL reference: module + name
  kObject,        // the result of REDUCE or NEWOBJ that is not recognised
  kNdArray,       // a numpy array
  kPersistentId,  // BINPERSID / PERSID: wraps the persistent id value
};

// How a generic object was made.
enum class PickleObjectKind : uint8_t {
  kReduce,  // callable(*args)
  kNewObj,  // cls.__new__(cls, *args)
};

// The element types of numpy arrays that are decoded.
enum class NumpyType : uint8_t {
  kBool,
  kInt8,
  kUInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat16,
  kFloat32,
  kFloat64,
};

// numpy's name of `type`: "bool", "int8", ..., "float64".
absl::string_view NumpyTypeName(NumpyType type);
// Bytes per element (1, 2, 4 or 8).
int NumpyTypeSize(NumpyType type);
// The value of an IEEE 754 half-precision number (numpy float16), exactly.
double HalfToDouble(uint16_t bits);

// A decoded numpy array. Data are in native (little-endian) byte order and C
// (row-major) order whatever the file stored; `fortran_order()` only reports
// how the file had them.
class NdArray {
 public:
  NumpyType type() const { return type_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  // Product of the dims (1 for ndim 0).
  int64_t num_elements() const { return num_elements_; }
  int64_t num_bytes() const { return num_elements_ * NumpyTypeSize(type_); }
  // True when the data were left out (UnpickleOptions::skip_keys or
  // max_array_bytes): type and shape are known, the data are not.
  bool data_skipped() const { return skipped_; }
  // True when the file stored the array in Fortran (column-major) order.
  bool fortran_order() const { return fortran_; }

  // The elements, typed. T must match type(): bool, int8_t, uint8_t, int16_t,
  // uint16_t (also for kFloat16: the raw half bits), int32_t, uint32_t,
  // int64_t, uint64_t, float or double. CHECK-fails on a mismatch or when the
  // data were skipped.
  template <typename T>
  absl::Span<const T> data() const;

  // Every element converted to double (int64 beyond 2^53 rounds).
  // CHECK-fails when the data were skipped.
  std::vector<double> ToDoubles() const;
  // Every element as int64 for integer and bool arrays; an error for float
  // arrays and for uint64 values above INT64_MAX. CHECK-fails when skipped.
  absl::StatusOr<std::vector<int64_t>> ToInt64s() const;

  // E.g. "ndarray float16 (639, 6000)" (with " [data skipped]").
  std::string Description() const;

 private:
  friend class pickle_internal::Store;
  friend class pickle_internal::Unpickler;

  const void* CheckedData(NumpyType expected, bool half_ok) const;

  NumpyType type_ = NumpyType::kInt8;
  std::vector<int64_t> shape_;
  int64_t num_elements_ = 0;
  const char* data_ = nullptr;
  bool skipped_ = false;
  bool fortran_ = false;
  // Parse-time state.
  bool built_ = false;
  bool big_endian_ = false;
  uint32_t node_ = 0;          // this array's node
  uint32_t pending_data_ = 0;  // data node still to be read, or kNoNode
  int64_t build_offset_ = 0;   // byte offset of the BUILD that set the data
};

// A handle to one value of a Pickle: cheap to copy, valid while the Pickle
// lives. The typed accessors CHECK-fail on the wrong kind (test the kind
// first); everything data-dependent is left to the caller to validate.
class PickleValue {
 public:
  PickleValue() = default;

  PickleKind kind() const;
  bool is_none() const { return kind() == PickleKind::kNone; }
  bool is_bool() const { return kind() == PickleKind::kBool; }
  bool is_int() const { return kind() == PickleKind::kInt; }
  bool is_float() const { return kind() == PickleKind::kFloat; }
  // True for kInt, kFloat and kBool.
  bool is_number() const;
  bool is_str() const { return kind() == PickleKind::kStr; }
  bool is_bytes() const { return kind() == PickleKind::kBytes; }
  // True for kStr and kBytes.
  bool is_string() const { return is_str() || is_bytes(); }
  bool is_tuple() const { return kind() == PickleKind::kTuple; }
  bool is_list() const { return kind() == PickleKind::kList; }
  bool is_dict() const { return kind() == PickleKind::kDict; }
  bool is_global() const { return kind() == PickleKind::kGlobal; }
  bool is_object() const { return kind() == PickleKind::kObject; }
  bool is_array() const { return kind() == PickleKind::kNdArray; }
  bool is_persistent_id() const { return kind() == PickleKind::kPersistentId; }

  bool AsBool() const;
  int64_t AsInt() const;
  double AsFloat() const;
  // An int, float or bool as double.
  double AsNumber() const;
  // The bytes of a str (UTF-8) or bytes value. CHECK-fails when is_skipped().
  absl::string_view AsString() const;
  // True for a large str/bytes value that was not read (it is reachable only
  // under a skipped key).
  bool is_skipped() const;

  // Items of a tuple or list, entries of a dict, bytes of a str/bytes value
  // (for a skipped one: the size as stored in the file).
  size_t size() const;
  // Item i of a tuple or list.
  PickleValue item(size_t i) const;
  // The leading ints of a tuple or list, appended to *out; returns how many
  // (size() when every item is an int). A fast item(i).AsInt() loop.
  size_t AppendLeadingInts(std::vector<int64_t>* out) const;
  // The items of a list whose items the reader stored packed: a list filled
  // only by runs of numpy int64 scalars appended at once (as picklers write
  // a list of them; the spike times of a NeuronIO file), read by a streaming
  // parse (UnpickleOptions::stream_list_key). nullopt for any other value,
  // whose items item() and AppendLeadingInts() read as usual (they read
  // packed items too).
  std::optional<absl::Span<const int64_t>> PackedInts() const;
  // Key and value of entry i of a dict, in insertion order. Duplicate keys
  // (which pickle never writes) are kept as separate entries.
  PickleValue key(size_t i) const;
  PickleValue value(size_t i) const;
  // The value of the first dict entry whose key is a str or bytes equal to
  // `key` / an int equal to `key`. CHECK-fails when not a dict.
  std::optional<PickleValue> Find(absl::string_view key) const;
  std::optional<PickleValue> FindInt(int64_t key) const;

  // Module and name of a global.
  absl::string_view global_module() const;
  absl::string_view global_name() const;
  // True for a global with this module and name.
  bool IsGlobal(absl::string_view module, absl::string_view name) const;

  // A generic object: how it was made, its callable (REDUCE) or class
  // (NEWOBJ), and its argument tuple.
  PickleObjectKind object_kind() const;
  PickleValue callable() const;
  PickleValue args() const;
  // The BUILD state of an object or a dict (OrderedDict with attributes).
  bool has_state() const;
  PickleValue state() const;  // CHECK-fails without state

  const NdArray& array() const;
  // The value inside a persistent id.
  PickleValue persistent_id() const;

  // A short description of the type for error messages: "int", "str",
  // "tuple of 3", "dict of 2", "global numpy.dtype",
  // "object torch._utils._rebuild_tensor_v2", "ndarray float32 (3, 4)", ...
  std::string TypeName() const;
  // A Python-like rendering, with containers cut after `max_items` items and
  // nesting cut after `max_depth` levels, e.g. "{'a': (1, 2.5), 'b': [...]}".
  std::string DebugString(int max_items = 8, int max_depth = 4) const;

 private:
  friend class pickle_internal::Store;
  PickleValue(const pickle_internal::Store* store, uint32_t node)
      : store_(store), node_(node) {}
  // An int held here rather than in a node (node_ is
  // pickle_internal::kImmediateInt): an item of a packed list.
  static PickleValue Immediate(const pickle_internal::Store* store, int64_t v);

  const pickle_internal::Store* store_ = nullptr;
  uint32_t node_ = 0;
  int64_t int_ = 0;
};

// Options for ParsePickle / ReadPickleFile.
struct UnpickleOptions {
  // Dict keys (str or bytes, compared byte for byte) whose values are left
  // out: a value reachable from the root only through an entry with one of
  // these keys keeps its structure, but numpy arrays in it have
  // data_skipped() set (type and shape only), and str/bytes values of 64 KiB
  // or more in it are never read from the input (is_skipped()). With
  // ReadPickleFile the skipped bytes are stepped over in the file, so memory
  // does not grow with them. Example: {"dendriticVoltagesLowRes"}.
  std::vector<std::string> skip_keys;
  // When >= 0, numpy arrays of more bytes than this are left out the same
  // way, wherever they are.
  int64_t max_array_bytes = -1;
  // When set, called for every GLOBAL / STACK_GLOBAL; returning false fails
  // the parse with an "unsupported global" error at that byte. When empty,
  // every global is accepted (unrecognised callables become generic objects).
  std::function<bool(absl::string_view module, absl::string_view name)>
      accept_global;

  // Streaming one long list (the simulations of a NeuronIO file), so that
  // memory does not grow with it. When `stream_list_key` is set, each dict
  // that is an item of a list stored under this key (the str/bytes key right
  // below the list on the stack, as picklers write a dict entry) is passed to
  // `stream_item` as soon as it is complete (when the next item starts or the
  // items are appended), with its index in the list and `stack_value`, which
  // finds the value that follows a str/bytes `key` on the parse stack (an
  // entry, complete, of a dict whose entries are set after it is built, e.g.
  // "Params" before "Results" in the top dict). When `stream_item` returns
  // true the item is consumed: the list holds None in its place and the
  // storage of its values is reused. An item is never consumed (it stays in
  // the tree, and `stream_item` is not called) when it holds a string of
  // 64 KiB or more outside the skip keys, or when the opcodes around it are
  // not those picklers write (e.g. an opcode changes it after the next item
  // started). The file is read in one pass: the values of a consumed item that
  // memo entries hold are kept as copies where they are small (None, bools,
  // numbers, str/bytes of up to 4 KiB, globals, and tuples and objects of
  // these, e.g. numpy dtypes) and dropped otherwise. Should a GET ask for a
  // dropped value (never so in the NeuronIO files), the parse starts over
  // (after `stream_restart`): the opcodes are first scanned once (stepping over
  // strings) for the memo entries that GETs use, and an item with a value a
  // later GET uses is then not consumed. Either way num_memo_entries() counts
  // every PUT and memo_capacity() is 0. Parse errors are as without streaming.
  std::string stream_list_key;
  std::function<bool(size_t index, const PickleValue& item,
                     const std::function<std::optional<PickleValue>(
                         absl::string_view key)>& stack_value)>
      stream_item;
  // Called when a streaming parse starts over (see stream_list_key), before
  // stream_item is called again from the first item on: forget what it was
  // given.
  std::function<void()> stream_restart;
};

// The result of unpickling: owns every value. A NeuronIO file holds tens of
// millions of small values, so every value is a 16-byte node in a chunked
// vector (no reallocation copies), the parse-time memo is a vector of 4-byte
// node indices, strings of up to 8 bytes live inside their node, and longer
// strings, tuple items and converted array data live in one bump arena.
// Strings of 64 KiB or more are not copied while parsing: they are read at
// the end, and only if the result can reach them (not through a skipped key).
class Pickle {
 public:
  Pickle(Pickle&&) noexcept;
  Pickle& operator=(Pickle&&) noexcept;
  ~Pickle();

  // The unpickled object (what pickle.load returns).
  PickleValue root() const;
  // The source name given to the parser.
  const std::string& source_name() const;
  // Statistics: values created, memo entries set, the largest memo index + 1,
  // and the input bytes never read: large strings under skipped keys, and
  // large strings nothing in the result refers to (e.g. the text behind a
  // Python 3 `_codecs.encode` call, whose bytes value is read instead).
  int64_t num_nodes() const;
  int64_t num_memo_entries() const;
  int64_t memo_capacity() const;
  int64_t num_unread_bytes() const;

 private:
  friend class pickle_internal::Unpickler;
  explicit Pickle(std::unique_ptr<pickle_internal::Store> store);
  std::unique_ptr<pickle_internal::Store> store_;
};

// Unpickles `data` (the whole pickle, which must end right after its STOP
// opcode). Every problem (truncation, an unknown or unsupported opcode, a bad
// memo index, stack underflow, malformed numpy state, a global the caller
// rejected, trailing bytes) is an error reading "<source_name>: byte
// <offset>: <OPCODE>: <what was expected>" (InvalidArgument; Unimplemented
// for valid but unsupported features); no partial result is returned.
absl::StatusOr<Pickle> ParsePickle(
    absl::string_view data, absl::string_view source_name,
    const UnpickleOptions& options = UnpickleOptions());

// Unpickles the file at `path`, reading it through a 1 MiB buffer, so that
// the bytes of skipped values are never held in memory.
absl::StatusOr<Pickle> ReadPickleFile(
    const std::string& path,
    const UnpickleOptions& options = UnpickleOptions());

// Template implementation.
namespace pickle_internal {
template <typename T>
struct NumpyTypeOf;
template <>
struct NumpyTypeOf<bool> {
  static constexpr NumpyType kType = NumpyType::kBool;
};
template <>
struct NumpyTypeOf<int8_t> {
  static constexpr NumpyType kType = NumpyType::kInt8;
};
template <>
struct NumpyTypeOf<uint8_t> {
  static constexpr NumpyType kType = NumpyType::kUInt8;
};
template <>
struct NumpyTypeOf<int16_t> {
  static constexpr NumpyType kType = NumpyType::kInt16;
};
template <>
struct NumpyTypeOf<uint16_t> {
  static constexpr NumpyType kType = NumpyType::kUInt16;
};
template <>
struct NumpyTypeOf<int32_t> {
  static constexpr NumpyType kType = NumpyType::kInt32;
};
template <>
struct NumpyTypeOf<uint32_t> {
  static constexpr NumpyType kType = NumpyType::kUInt32;
};
template <>
struct NumpyTypeOf<int64_t> {
  static constexpr NumpyType kType = NumpyType::kInt64;
};
template <>
struct NumpyTypeOf<uint64_t> {
  static constexpr NumpyType kType = NumpyType::kUInt64;
};
template <>
struct NumpyTypeOf<float> {
  static constexpr NumpyType kType = NumpyType::kFloat32;
};
template <>
struct NumpyTypeOf<double> {
  static constexpr NumpyType kType = NumpyType::kFloat64;
};
}  // namespace pickle_internal

template <typename T>
absl::Span<const T> NdArray::data() const {
  const void* p = CheckedData(pickle_internal::NumpyTypeOf<T>::kType,
                              std::is_same<T, uint16_t>::value);
  return absl::Span<const T>(static_cast<const T*>(p),
                             static_cast<size_t>(num_elements_));
}

}  // namespace elm

#endif  // ELM_IO_PICKLE_H_
