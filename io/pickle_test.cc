// Tests the pickle reader on hand-assembled pickles (every opcode family,
// numpy arrays and scalars in the Python 2 and Python 3 encodings), on every
// error path (truncation at each byte, corruption, unknown opcodes, bad memo
// indices, stack underflow), on a pickle with millions of memo entries and on
// a file with a large array under a skipped key (peak memory from
// /proc/self/status), and, when ../shared is present, on the two NeuronIO
// fixtures against the values their README and expected_stats.json state.
#include "io/pickle.h"

#include <zlib.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/peak_memory.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

constexpr char kSource[] = "test.pkl";

// Assembles pickles opcode by opcode.
class PickleBuilder {
 public:
  PickleBuilder& Op(uint8_t op) {
    out_.push_back(static_cast<char>(op));
    return *this;
  }
  PickleBuilder& Raw(absl::string_view bytes) {
    out_.append(bytes.data(), bytes.size());
    return *this;
  }
  PickleBuilder& Le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
    return *this;
  }
  PickleBuilder& Proto(int v = 2) { return Op(0x80).Le(v, 1); }
  PickleBuilder& Stop() { return Op('.'); }
  PickleBuilder& Mark() { return Op('('); }
  // The shortest encoding, as pickle writes it.
  PickleBuilder& Int(int64_t v) {
    if (v >= 0 && v < 256) return Op('K').Le(v, 1);
    if (v >= 0 && v < 65536) return Op('M').Le(v, 2);
    if (v >= std::numeric_limits<int32_t>::min() &&
        v <= std::numeric_limits<int32_t>::max()) {
      return Op('J').Le(static_cast<uint32_t>(v), 4);
    }
    return Op(0x8a).Le(8, 1).Le(static_cast<uint64_t>(v), 8);
  }
  PickleBuilder& Float(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    Op('G');
    for (int i = 7; i >= 0; --i)
      out_.push_back(static_cast<char>(bits >> (8 * i)));
    return *this;
  }
  // A Python 2 str.
  PickleBuilder& Str2(absl::string_view s) {
    if (s.size() < 256) return Op('U').Le(s.size(), 1).Raw(s);
    return Op('T').Le(s.size(), 4).Raw(s);
  }
  // A Python 3 str (UTF-8 bytes given).
  PickleBuilder& Unicode(absl::string_view utf8) {
    return Op('X').Le(utf8.size(), 4).Raw(utf8);
  }
  PickleBuilder& Global(absl::string_view module, absl::string_view name) {
    return Op('c').Raw(module).Raw("\n").Raw(name).Raw("\n");
  }
  PickleBuilder& Put(uint32_t i) {
    return i < 256 ? Op('q').Le(i, 1) : Op('r').Le(i, 4);
  }
  PickleBuilder& Get(uint32_t i) {
    return i < 256 ? Op('h').Le(i, 1) : Op('j').Le(i, 4);
  }
  PickleBuilder& Tuple(const std::vector<int64_t>& ints) {
    Mark();
    for (int64_t v : ints) Int(v);
    return Op('t');
  }
  // Python 3's bytes: _codecs.encode(<latin-1 decoded text>, 'latin1').
  PickleBuilder& Bytes3(absl::string_view raw) {
    Global("_codecs", "encode").Unicode(Latin1ToUtf8(raw)).Unicode("latin1");
    return Op(0x86).Op('R');
  }
  // numpy.dtype(descr, False, True) with BUILD state (3, order, ...).
  PickleBuilder& Dtype(absl::string_view descr, absl::string_view order,
                       bool py3) {
    Global("numpy", "dtype");
    py3 ? Unicode(descr) : Str2(descr);
    Op(0x89).Op(0x88).Op(0x87).Op('R');
    Mark().Int(3);
    py3 ? Unicode(order) : Str2(order);
    Op('N').Op('N').Op('N').Int(-1).Int(-1).Int(0).Op('t');
    return Op('b');
  }
  // A numpy array as Python 2 (py3 = false) or Python 3 writes it.
  PickleBuilder& Array(absl::string_view descr, absl::string_view order,
                       const std::vector<int64_t>& shape, absl::string_view raw,
                       bool fortran = false, bool py3 = false,
                       absl::string_view module = "numpy.core.multiarray") {
    Global(module, "_reconstruct").Global("numpy", "ndarray");
    Int(0).Op(0x85);
    py3 ? Bytes3("b") : Str2("b");
    Op(0x87).Op('R');
    Mark().Int(1).Tuple(shape).Dtype(descr, order, py3);
    Op(fortran ? 0x88 : 0x89);
    py3 ? Bytes3(raw) : Str2(raw);
    return Op('t').Op('b');
  }
  // numpy.core.multiarray.scalar(dtype, raw).
  PickleBuilder& Scalar(absl::string_view descr, absl::string_view order,
                        absl::string_view raw, bool py3 = false) {
    Global("numpy.core.multiarray", "scalar").Dtype(descr, order, py3);
    py3 ? Bytes3(raw) : Str2(raw);
    return Op(0x86).Op('R');
  }

  static std::string Latin1ToUtf8(absl::string_view raw) {
    std::string out;
    for (char c : raw) {
      const uint8_t u = static_cast<uint8_t>(c);
      if (u < 0x80) {
        out.push_back(c);
      } else {
        out.push_back(static_cast<char>(0xC0 | (u >> 6)));
        out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
      }
    }
    return out;
  }

  const std::string& bytes() const { return out_; }

 private:
  std::string out_;
};

template <typename T>
std::string RawOf(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()),
                     v.size() * sizeof(T));
}

Pickle ParseOk(const std::string& bytes,
               const UnpickleOptions& options = UnpickleOptions()) {
  absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource, options);
  EXPECT_TRUE(p.ok()) << p.status();
  if (!p.ok()) {
    // A trivial pickle, so that the caller's expectations fail cleanly.
    return *ParsePickle("N.", kSource);
  }
  return *std::move(p);
}

// Expects an error whose message starts "test.pkl: byte <offset>: " and
// contains `text`.
void ExpectErrorIn(const std::string& bytes, int64_t offset,
                   const std::string& text, absl::StatusCode code) {
  absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource);
  ASSERT_FALSE(p.ok()) << "parsed: " << p->root().DebugString();
  EXPECT_EQ(p.status().code(), code) << p.status();
  const std::string message(p.status().message());
  EXPECT_TRUE(
      absl::StartsWith(message, absl::StrCat(kSource, ": byte ", offset, ": ")))
      << message;
  EXPECT_TRUE(absl::StrContains(message, text))
      << message << "\nshould contain: " << text;
}

// The same for a string literal, which may hold NUL bytes.
template <size_t N>
void ExpectError(const char (&bytes)[N], int64_t offset,
                 const std::string& text,
                 absl::StatusCode code = absl::StatusCode::kInvalidArgument) {
  SCOPED_TRACE(text);
  ExpectErrorIn(std::string(bytes, N - 1), offset, text, code);
}

// ---- Values ----

TEST(PickleTest, NumbersAndSingletons) {
  PickleBuilder b;
  b.Proto().Mark().Op('N').Op(0x88).Op(0x89);
  b.Int(255).Int(65535).Int(-5).Int(std::numeric_limits<int32_t>::min());
  b.Op(0x8a).Le(0, 1);                                    // LONG1 0 bytes: 0
  b.Op(0x8a).Le(1, 1).Le(0xFF, 1);                        // -1
  b.Op(0x8a).Le(2, 1).Le(0x00FF, 2);                      // 255
  b.Int(std::numeric_limits<int64_t>::min());             // LONG1 8 bytes
  b.Op(0x8a).Le(9, 1).Le(uint64_t{1} << 62, 8).Le(0, 1);  // 2^62, padded
  b.Op(0x8b).Le(3, 4).Le(0x800000, 3);                    // LONG4: -2^23
  b.Float(1.5).Float(-0.0);
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  ASSERT_TRUE(t.is_tuple());
  ASSERT_EQ(t.size(), 15u);
  EXPECT_TRUE(t.item(0).is_none());
  EXPECT_TRUE(t.item(1).AsBool());
  EXPECT_FALSE(t.item(2).AsBool());
  const std::vector<int64_t> ints = {255,
                                     65535,
                                     -5,
                                     std::numeric_limits<int32_t>::min(),
                                     0,
                                     -1,
                                     255,
                                     std::numeric_limits<int64_t>::min(),
                                     int64_t{1} << 62,
                                     -(int64_t{1} << 23)};
  for (size_t i = 0; i < ints.size(); ++i) {
    EXPECT_EQ(t.item(3 + i).AsInt(), ints[i]) << i;
  }
  EXPECT_EQ(t.item(13).AsFloat(), 1.5);
  EXPECT_TRUE(std::signbit(t.item(14).AsFloat()));
}

TEST(PickleTest, TextProtocolNumbers) {
  PickleBuilder b;
  b.Mark().Op('I').Raw("-42\n").Op('I').Raw("01\n").Op('L').Raw("7L\n");
  b.Op('F').Raw("2.25\n").Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  ASSERT_EQ(p.root().size(), 4u);
  EXPECT_EQ(p.root().item(0).AsInt(), -42);
  EXPECT_TRUE(p.root().item(1).AsBool());
  EXPECT_EQ(p.root().item(2).AsInt(), 7);
  EXPECT_EQ(p.root().item(3).AsFloat(), 2.25);
}

TEST(PickleTest, Strings) {
  const std::string long_text(300, 'x');
  PickleBuilder b;
  b.Proto().Mark();
  b.Str2("abc");                                           // SHORT_BINSTRING
  b.Str2(long_text);                                       // BINSTRING
  b.Unicode("caf\xc3\xa9");                                // BINUNICODE, UTF-8
  b.Op('C').Le(3, 1).Raw(std::string("\x00\x01\x02", 3));  // SHORT_BINBYTES
  b.Op('B').Le(9, 4).Raw("123456789");                     // BINBYTES
  b.Op(0x8c).Le(2, 1).Raw("hi");                           // SHORT_BINUNICODE
  b.Op(0x8e).Le(0, 8);                                     // BINBYTES8, empty
  b.Op(0x8d).Le(1, 8).Raw("z");                            // BINUNICODE8
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  ASSERT_EQ(t.size(), 8u);
  EXPECT_TRUE(t.item(0).is_bytes());
  EXPECT_EQ(t.item(0).AsString(), "abc");
  EXPECT_EQ(t.item(1).AsString(), long_text);
  EXPECT_TRUE(t.item(2).is_str());
  EXPECT_EQ(t.item(2).AsString(), "caf\xc3\xa9");
  EXPECT_EQ(t.item(3).AsString(), absl::string_view("\x00\x01\x02", 3));
  EXPECT_EQ(t.item(4).AsString(), "123456789");
  EXPECT_EQ(t.item(5).AsString(), "hi");
  EXPECT_EQ(t.item(6).size(), 0u);
  EXPECT_EQ(t.item(7).AsString(), "z");
  EXPECT_EQ(t.item(0).TypeName(), "bytes");
  EXPECT_EQ(t.DebugString(3),
            absl::StrCat("(b'abc', b'", std::string(64, 'x'),
                         "...', 'caf\\xc3\\xa9', ... (8 in all))"));
}

TEST(PickleTest, ListsTuplesAndDicts) {
  PickleBuilder b;
  b.Proto().Op(']').Put(0);                                    // list
  b.Int(1).Op('a');                                            // APPEND
  b.Mark().Int(2).Int(3).Op('e');                              // APPENDS
  b.Op('}').Put(1);                                            // dict
  b.Str2("b").Int(10).Op('s');                                 // SETITEM
  b.Mark().Int(7).Str2("seven").Unicode("a").Op(')').Op('u');  // SETITEMS
  b.Op('a');                         // append the dict to the list
  b.Int(4).Op(0x85).Op('a');         // (4,)
  b.Int(5).Int(6).Op(0x86).Op('a');  // (5, 6)
  b.Int(7).Int(8).Int(9).Op(0x87).Op('a');
  b.Mark().Op('l').Op('a');                    // LIST: []
  b.Mark().Str2("k").Op('N').Op('d').Op('a');  // DICT: {'k': None}
  b.Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue list = p.root();
  ASSERT_TRUE(list.is_list());
  ASSERT_EQ(list.size(), 9u);
  EXPECT_EQ(list.item(2).AsInt(), 3);
  const PickleValue dict = list.item(3);
  ASSERT_TRUE(dict.is_dict());
  ASSERT_EQ(dict.size(), 3u);
  // Insertion order, keys of mixed kinds.
  EXPECT_EQ(dict.key(0).AsString(), "b");
  EXPECT_EQ(dict.key(1).AsInt(), 7);
  EXPECT_EQ(dict.key(2).AsString(), "a");
  EXPECT_EQ(dict.Find("b")->AsInt(), 10);
  EXPECT_EQ(dict.FindInt(7)->AsString(), "seven");
  EXPECT_TRUE(dict.Find("a")->is_tuple());
  EXPECT_EQ(dict.Find("a")->size(), 0u);
  EXPECT_FALSE(dict.Find("zz").has_value());
  EXPECT_FALSE(dict.FindInt(8).has_value());
  EXPECT_EQ(list.item(4).DebugString(), "(4,)");
  EXPECT_EQ(list.item(5).DebugString(), "(5, 6)");
  EXPECT_EQ(list.item(6).DebugString(), "(7, 8, 9)");
  EXPECT_EQ(list.item(7).DebugString(), "[]");
  EXPECT_EQ(list.item(8).DebugString(), "{b'k': None}");
  EXPECT_EQ(list.TypeName(), "list of 9");
}

TEST(PickleTest, MemoSharesMutableValues) {
  // l = []; d = {'x': l, 'y': l}; l.append(1) after both references exist.
  PickleBuilder b;
  b.Proto().Op('}').Put(0).Mark();
  b.Str2("x").Op(']').Put(300);  // LONG_BINPUT
  b.Str2("y").Get(300);          // LONG_BINGET
  b.Op('u');
  b.Get(0).Op('0');                   // BINGET + POP
  b.Get(300).Int(1).Op('a').Op('0');  // append through the memo
  b.Op(0x94);                         // MEMOIZE (the dict)
  b.Op('2').Op('0');                  // DUP + POP
  b.Stop();
  Pickle p = ParseOk(b.bytes());
  ASSERT_TRUE(p.root().is_dict());
  EXPECT_EQ(p.root().Find("x")->DebugString(), "[1]");
  EXPECT_EQ(p.root().Find("y")->DebugString(), "[1]");
  EXPECT_EQ(p.num_memo_entries(), 3);
  EXPECT_EQ(p.memo_capacity(), 301);
}

TEST(PickleTest, TextMemoAndPopMark) {
  PickleBuilder b;
  b.Mark().Int(1).Op('p').Raw("5\n").Op('1');  // PUT 5, POP_MARK
  b.Op('g').Raw("5\n").Stop();                 // GET 5
  Pickle p = ParseOk(b.bytes());
  EXPECT_EQ(p.root().AsInt(), 1);
}

TEST(PickleTest, GlobalsObjectsAndPersistentIds) {
  PickleBuilder b;
  b.Proto().Mark();
  b.Global("copy_reg", "_reconstructor").Mark().Global("foo", "Bar");
  b.Global("__builtin__", "object").Op('N').Op('t').Op('R');  // REDUCE
  b.Op('}').Str2("a").Int(1).Op('s').Op('b');                 // BUILD
  b.Global("foo", "Baz").Int(3).Op(0x85).Op(0x81);            // NEWOBJ
  b.Str2("storage").Str2("key").Op(0x86).Op('Q');             // BINPERSID
  b.Op('P').Raw("text-id\n");                                 // PERSID
  b.Unicode("mod.sub").Unicode("name").Op(0x93);              // STACK_GLOBAL
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  ASSERT_EQ(t.size(), 5u);
  const PickleValue reduced = t.item(0);
  ASSERT_TRUE(reduced.is_object());
  EXPECT_EQ(reduced.object_kind(), PickleObjectKind::kReduce);
  EXPECT_TRUE(reduced.callable().IsGlobal("copy_reg", "_reconstructor"));
  EXPECT_EQ(reduced.args().size(), 3u);
  EXPECT_TRUE(reduced.args().item(0).IsGlobal("foo", "Bar"));
  ASSERT_TRUE(reduced.has_state());
  EXPECT_EQ(reduced.state().Find("a")->AsInt(), 1);
  EXPECT_EQ(reduced.TypeName(), "object copy_reg._reconstructor");
  const PickleValue newobj = t.item(1);
  EXPECT_EQ(newobj.object_kind(), PickleObjectKind::kNewObj);
  EXPECT_TRUE(newobj.callable().IsGlobal("foo", "Baz"));
  EXPECT_FALSE(newobj.has_state());
  EXPECT_EQ(newobj.DebugString(), "foo.Baz(3,)");
  ASSERT_TRUE(t.item(2).is_persistent_id());
  EXPECT_EQ(t.item(2).persistent_id().DebugString(), "(b'storage', b'key')");
  EXPECT_EQ(t.item(3).persistent_id().AsString(), "text-id");
  EXPECT_EQ(t.item(4).global_module(), "mod.sub");
  EXPECT_EQ(t.item(4).global_name(), "name");
}

TEST(PickleTest, OrderedDictBecomesDict) {
  PickleBuilder b;
  b.Proto().Global("collections", "OrderedDict").Op(')').Op('R');
  b.Mark().Unicode("w").Int(1).Unicode("a").Int(2).Op('u');
  b.Op('}').Unicode("_metadata").Op('N').Op('s').Op('b');  // BUILD state
  b.Stop();
  Pickle p = ParseOk(b.bytes());
  ASSERT_TRUE(p.root().is_dict());
  EXPECT_EQ(p.root().DebugString(), "{'w': 1, 'a': 2}");
  ASSERT_TRUE(p.root().has_state());
  EXPECT_TRUE(p.root().state().Find("_metadata")->is_none());

  // OrderedDict([(k, v), ...]).
  PickleBuilder c;
  c.Proto().Global("collections", "OrderedDict");
  c.Unicode("x").Int(5).Op(0x86).Op(0x85).Op(0x85).Op('R').Stop();
  Pickle q = ParseOk(c.bytes());
  EXPECT_EQ(q.root().DebugString(), "{'x': 5}");
}

TEST(PickleTest, Python3Bytes) {
  const std::string raw(
      "\xff\x01"
      "abc\x80",
      6);
  PickleBuilder b;
  b.Proto().Mark().Bytes3(raw);
  b.Global("__builtin__", "bytes").Op(')').Op('R');  // bytes() == b''
  b.Global("_codecs", "encode").Unicode("hi").Unicode("utf-8").Op(0x86);
  b.Op('R').Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  ASSERT_EQ(p.root().size(), 3u);
  EXPECT_TRUE(p.root().item(0).is_bytes());
  EXPECT_EQ(p.root().item(0).AsString(), raw);
  EXPECT_EQ(p.root().item(1).AsString(), "");
  EXPECT_EQ(p.root().item(2).AsString(), "hi");
}

// ---- numpy ----

TEST(PickleTest, NumpyArraysPython2) {
  const std::vector<double> f64 = {1.5, -2, 3, 4, 5.25, 6};
  const std::vector<float> f32 = {0.1f, -7.5f};
  const std::vector<int64_t> i64 = {-1, int64_t{1} << 40, 3};
  const std::vector<int32_t> i32 = {-2147483647 - 1, 5};
  const std::vector<uint8_t> u8 = {0, 200, 255};
  const std::vector<uint8_t> b1 = {1, 0, 1};
  const std::vector<uint16_t> f16 = {0x3C00, 0xC000, 0x7BFF};  // 1, -2, 65504
  PickleBuilder b;
  b.Proto().Mark();
  b.Array("f8", "<", {2, 3}, RawOf(f64));
  b.Array("f4", "<", {2}, RawOf(f32));
  b.Array("i8", "<", {3}, RawOf(i64));
  b.Array("i4", "<", {1, 2}, RawOf(i32));
  b.Array("u1", "|", {3}, RawOf(u8));
  b.Array("b1", "|", {3}, RawOf(b1));
  b.Array("f2", "<", {3}, RawOf(f16));
  b.Array("f8", "<", {0}, "");
  b.Array("i8", "<", {}, RawOf(std::vector<int64_t>{42}));  // ndim 0
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  ASSERT_EQ(t.size(), 9u);
  const NdArray& a = t.item(0).array();
  EXPECT_EQ(a.type(), NumpyType::kFloat64);
  EXPECT_EQ(a.shape(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(
      std::vector<double>(a.data<double>().begin(), a.data<double>().end()),
      f64);
  EXPECT_FALSE(a.fortran_order());
  EXPECT_EQ(a.Description(), "ndarray float64 (2, 3)");
  EXPECT_EQ(t.item(1).array().data<float>()[0], 0.1f);
  EXPECT_EQ(t.item(1).array().ToDoubles()[1], -7.5);
  EXPECT_EQ(*t.item(2).array().ToInt64s(), i64);
  EXPECT_EQ(t.item(3).array().data<int32_t>()[0], -2147483647 - 1);
  EXPECT_EQ(t.item(4).array().data<uint8_t>()[1], 200);
  EXPECT_EQ(t.item(5).array().type(), NumpyType::kBool);
  EXPECT_EQ(*t.item(5).array().ToInt64s(), (std::vector<int64_t>{1, 0, 1}));
  EXPECT_TRUE(t.item(5).array().data<bool>()[0]);
  EXPECT_EQ(t.item(6).array().ToDoubles(),
            (std::vector<double>{1.0, -2.0, 65504.0}));
  EXPECT_EQ(t.item(6).array().data<uint16_t>()[0], 0x3C00);
  EXPECT_EQ(t.item(7).array().num_elements(), 0);
  EXPECT_TRUE(t.item(7).array().ToDoubles().empty());
  EXPECT_TRUE(t.item(8).array().shape().empty());
  EXPECT_EQ(t.item(8).array().num_elements(), 1);
  EXPECT_EQ(t.item(8).array().data<int64_t>()[0], 42);
  EXPECT_FALSE(t.item(1).array().ToInt64s().ok());
}

TEST(PickleTest, NumpyBigEndianAndFortranOrder) {
  // Big-endian int32 [1, -2] and float64 [0.5].
  const std::string be_i32("\x00\x00\x00\x01\xff\xff\xff\xfe", 8);
  const std::string be_f64("\x3f\xe0\x00\x00\x00\x00\x00\x00", 8);
  // A 2x3 int16 matrix [[1, 2, 3], [4, 5, 6]] stored in Fortran order.
  const std::vector<int16_t> fortran = {1, 4, 2, 5, 3, 6};
  // A 2x2x2 uint8 tensor, Fortran order: element (i, j, k) = 100i + 10j + k.
  std::vector<uint8_t> cube(8);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 2; ++j) {
      for (int k = 0; k < 2; ++k)
        cube[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
    }
  }
  PickleBuilder b;
  b.Proto().Mark();
  b.Array("i4", ">", {2}, be_i32);
  b.Array("f8", ">", {1}, be_f64);
  b.Array("i2", "<", {2, 3}, RawOf(fortran), /*fortran=*/true);
  b.Array("u1", "|", {2, 2, 2}, RawOf(cube), /*fortran=*/true);
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  EXPECT_EQ(*t.item(0).array().ToInt64s(), (std::vector<int64_t>{1, -2}));
  EXPECT_EQ(t.item(1).array().data<double>()[0], 0.5);
  const NdArray& m = t.item(2).array();
  EXPECT_TRUE(m.fortran_order());
  EXPECT_EQ(*m.ToInt64s(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(*t.item(3).array().ToInt64s(),
            (std::vector<int64_t>{0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(PickleTest, NumpyArraysPython3) {
  const std::vector<double> f64 = {-0.25, 1e300, 7};
  std::vector<uint8_t> all(256);
  for (int i = 0; i < 256; ++i) all[i] = static_cast<uint8_t>(i);
  PickleBuilder b;
  b.Proto().Mark();
  b.Array("f8", "<", {3}, RawOf(f64), false, /*py3=*/true);
  b.Array("u1", "|", {16, 16}, RawOf(all), false, true,
          "numpy._core.multiarray");
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  EXPECT_EQ(p.root().item(0).array().ToDoubles(), f64);
  const NdArray& u = p.root().item(1).array();
  EXPECT_EQ(u.shape(), (std::vector<int64_t>{16, 16}));
  EXPECT_EQ(
      std::vector<uint8_t>(u.data<uint8_t>().begin(), u.data<uint8_t>().end()),
      all);
}

TEST(PickleTest, NumpyScalars) {
  PickleBuilder b;
  b.Proto().Mark();
  b.Scalar("f8", "<", RawOf(std::vector<double>{1.625}));
  b.Scalar("i8", "<", RawOf(std::vector<int64_t>{-77}));
  b.Scalar("f2", "<", RawOf(std::vector<uint16_t>{0x3555}));  // 0.333...
  b.Scalar("b1", "|", std::string(1, '\1'));
  b.Scalar("i4", ">", std::string("\x00\x00\x01\x00", 4));  // 256
  b.Scalar("f8", "<", RawOf(std::vector<double>{-3.5}), /*py3=*/true);
  b.Op('t').Stop();
  Pickle p = ParseOk(b.bytes());
  const PickleValue t = p.root();
  EXPECT_EQ(t.item(0).AsFloat(), 1.625);
  EXPECT_EQ(t.item(1).AsInt(), -77);
  EXPECT_EQ(t.item(2).AsFloat(), 0.333251953125);
  EXPECT_TRUE(t.item(3).AsBool());
  EXPECT_EQ(t.item(4).AsInt(), 256);
  EXPECT_EQ(t.item(5).AsFloat(), -3.5);
}

TEST(PickleTest, HalfToDouble) {
  EXPECT_EQ(HalfToDouble(0x0000), 0.0);
  EXPECT_TRUE(std::signbit(HalfToDouble(0x8000)));
  EXPECT_EQ(HalfToDouble(0x3C00), 1.0);
  EXPECT_EQ(HalfToDouble(0xC000), -2.0);
  EXPECT_EQ(HalfToDouble(0x7BFF), 65504.0);
  EXPECT_EQ(HalfToDouble(0x0001), std::ldexp(1.0, -24));
  EXPECT_EQ(HalfToDouble(0x03FF), std::ldexp(1023.0, -24));
  EXPECT_EQ(HalfToDouble(0x0400), std::ldexp(1.0, -14));
  EXPECT_EQ(HalfToDouble(0x7C00), std::numeric_limits<double>::infinity());
  EXPECT_EQ(HalfToDouble(0xFC00), -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(HalfToDouble(0x7E00)));
  EXPECT_EQ(HalfToDouble(0xD4C0), -76.0);  // a NeuronIO soma voltage
}

// ---- Errors ----

TEST(PickleTest, ErrorsNameTheByteAndTheProblem) {
  ExpectError("\x80\x02\xff.", 2, "opcode 0xff: unknown opcode");
  ExpectError("\x80\x02S'a'\n.", 2, "STRING: this opcode is not supported",
              absl::StatusCode::kUnimplemented);
  ExpectError("\x80\x02h\x05.", 2, "BINGET: memo entry 5 was never stored");
  ExpectError("\x80\x02K\x01q\x00j\x07\x00\x00\x00.", 6,
              "LONG_BINGET: memo entry 7");
  ExpectError("\x80\x02q\x00.", 2, "BINPUT: stack underflow");
  ExpectError(
      "\x80\x02NR.", 3,
      "REDUCE: stack underflow: needs 2 value(s) on the stack, found 1");
  ExpectError("\x80\x02K\x01(K\x02\x86.", 7,
              "TUPLE2: stack underflow: needs 2 value(s) above the last MARK, "
              "found 1");
  ExpectError(
      "\x80\x02K\x01(K\x02"
      "e.",
      7, "APPENDS: expected a list");
  ExpectError("\x80\x02}(K\x01u.", 6, "SETITEMS: odd number of values (1)");
  ExpectError("\x80\x02K\x01t.", 4, "TUPLE: no MARK before this opcode");
  ExpectError("\x80\x02K\x01", 4, "the input ends without a STOP opcode");
  ExpectError("\x80\x02K\x01.junk", 4, "STOP: 4 bytes of trailing data");
  ExpectError("\x80\x02K\x01K\x02.", 6,
              "STOP: expected exactly one value on the stack, found 2");
  ExpectError("\x80\x02(K\x01.", 5, "STOP: 1 MARK(s) left open");
  ExpectError(
      "\x80\x02X\x05\x00\x00\x00"
      "ab.",
      2,
      "BINUNICODE: truncated input: needs 5 more bytes at byte 7, the "
      "input has 3");
  ExpectError("\x80\x02X\x05\x00", 2, "BINUNICODE: truncated input: needs 4");
  ExpectError("\x80\x02T\xff\xff\xff\xff.", 2, "BINSTRING: negative length");
  ExpectError("\x80\x02\x8a\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01.", 2,
              "LONG1: integer does not fit in 64 bits",
              absl::StatusCode::kUnimplemented);
  ExpectError("\x80\x02K\x01r\xf0\xff\xff\xff.", 4,
              "LONG_BINPUT: memo index 4294967280 is implausibly large");
  ExpectError("\x80\x02K\x01}b.", 5, "BUILD: cannot set the state of int");
  ExpectError(
      "\x80\x02"
      "cmod\n",
      2, "GLOBAL: truncated input: the input ends inside a text line");
  ExpectError("\x80\x06N.", 0, "PROTO: protocol 6",
              absl::StatusCode::kUnimplemented);
  ExpectError("\x80\x02(NR.", 4,
              "REDUCE: stack underflow: needs 2 value(s) above the last MARK, "
              "found 1");
  ExpectError("\x80\x02NK\x01R.", 5,
              "REDUCE: arguments must be a tuple, found int");
}

TEST(PickleTest, NumpyErrors) {
  {  // Data size does not match the shape.
    PickleBuilder b;
    b.Proto().Array("f8", "<", {2}, std::string(15, '\0')).Stop();
    absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::StrContains(
        p.status().message(),
        ": BUILD: numpy array data: ndarray float64 (2,) needs 16 bytes, "
        "found 15"))
        << p.status();
  }
  {  // Unsupported dtype.
    PickleBuilder b;
    b.Proto().Array("c16", "<", {1}, std::string(16, '\0')).Stop();
    absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), absl::StatusCode::kUnimplemented);
    EXPECT_TRUE(absl::StrContains(p.status().message(),
                                  "unsupported numpy dtype 'c16'"))
        << p.status();
  }
  {  // A bool array holding a 2.
    PickleBuilder b;
    b.Proto().Array("b1", "|", {2}, std::string("\x01\x02", 2)).Stop();
    absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::StrContains(p.status().message(),
                                  "numpy bool array: element 1 is byte 2"))
        << p.status();
  }
  {  // Object arrays keep a list as data.
    PickleBuilder b;
    b.Proto().Global("numpy.core.multiarray", "_reconstruct");
    b.Global("numpy", "ndarray").Int(0).Op(0x85).Str2("b").Op(0x87).Op('R');
    b.Mark().Int(1).Tuple({1}).Dtype("O8", "|", false).Op(0x89);
    b.Op(']').Op('t').Op('b').Stop();
    absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::StrContains(p.status().message(), "'O8'")) << p.status();
  }
  {  // Scalar with the wrong byte count.
    PickleBuilder b;
    b.Proto().Scalar("f8", "<", "1234").Stop();
    absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(absl::StrContains(p.status().message(),
                                  "float64 needs 8 bytes, found 4"))
        << p.status();
  }
}

TEST(PickleTest, AcceptGlobalRejects) {
  PickleBuilder b;
  b.Proto().Global("os", "system").Stop();
  UnpickleOptions options;
  options.accept_global = [](absl::string_view module, absl::string_view) {
    return module == "collections";
  };
  absl::StatusOr<Pickle> p = ParsePickle(b.bytes(), kSource, options);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(),
            "test.pkl: byte 2: GLOBAL: unsupported global os.system");
  EXPECT_TRUE(ParsePickle(b.bytes(), kSource).ok());  // accepted by default
}

// A pickle touching most opcode families and both numpy encodings.
std::string RepresentativePickle() {
  PickleBuilder b;
  b.Proto().Op('}').Put(0).Mark();
  b.Str2("ints").Mark().Int(1).Int(300).Int(70000).Int(-3).Op('l');
  b.Str2("py2").Array("f4", "<", {2}, RawOf(std::vector<float>{1.f, 2.f}));
  b.Str2("py3").Array("i2", ">", {1, 2}, std::string("\x00\x01\x00\x02", 4),
                      false, true);
  b.Unicode("scalar").Scalar("f8", "<", RawOf(std::vector<double>{0.5}));
  b.Str2("obj").Global("collections", "OrderedDict").Op(')').Op('R').Put(1);
  b.Str2("ref").Get(1);
  b.Str2("pid").Str2("s").Int(2).Op(0x86).Op('Q');
  b.Str2("f").Float(2.5).Op('u').Stop();
  return b.bytes();
}

TEST(PickleTest, TruncatedAtEveryByteIsAnError) {
  const std::string full = RepresentativePickle();
  Pickle whole = ParseOk(full);
  EXPECT_EQ(whole.root().size(), 8u);
  for (size_t n = 0; n < full.size(); ++n) {
    absl::StatusOr<Pickle> p = ParsePickle(full.substr(0, n), kSource);
    ASSERT_FALSE(p.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument)
        << p.status();
    EXPECT_TRUE(absl::StartsWith(p.status().message(), "test.pkl: byte "))
        << p.status();
  }
  // The same through a file.
  const std::string path = TestTempPath("truncated.pkl");
  for (size_t n : {size_t{0}, size_t{1}, full.size() / 2, full.size() - 1}) {
    WriteTestFile(path, full.substr(0, n));
    absl::StatusOr<Pickle> p = ReadPickleFile(path);
    ASSERT_FALSE(p.ok()) << n;
    EXPECT_TRUE(absl::StartsWith(p.status().message(), path + ": byte "))
        << p.status();
  }
  EXPECT_EQ(ReadPickleFile(TestTempPath("missing.pkl")).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PickleTest, CorruptBytesNeverCrash) {
  const std::string full = RepresentativePickle();
  std::mt19937 rng(7);
  int failures = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes = full;
    const int flips = 1 + trial % 3;
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource);
    if (p.ok()) {
      p->root().DebugString();  // every accessor path must be safe
    } else {
      ++failures;
      EXPECT_TRUE(absl::StartsWith(p.status().message(), "test.pkl: byte "))
          << p.status();
    }
  }
  EXPECT_GT(failures, 10000);
}

// ---- Memory ----

TEST(PickleTest, MillionsOfMemoEntriesStayCompact) {
  constexpr int kCount = 3000000;
  PickleBuilder b;
  b.Proto().Op(']').Put(0);
  for (int i = 1; i <= kCount; i += 1000) {
    b.Mark();
    for (int k = i; k < i + 1000 && k <= kCount; ++k) {
      b.Int(k % 200).Put(k);  // BININT1 + (LONG_)BINPUT
    }
    b.Op('e');
  }
  b.Get(kCount).Op('a').Get(255).Op('a').Stop();  // LONG_BINGET, BINGET
  const std::string bytes = b.bytes();
  const bool reset = ResetPeakRss();
  const int64_t before = PeakRss();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  ASSERT_TRUE(p.ok()) << p.status();
  const int64_t growth = PeakRss() - before;
  ASSERT_EQ(p->root().size(), static_cast<size_t>(kCount + 2));
  EXPECT_EQ(p->root().item(kCount).AsInt(), kCount % 200);
  EXPECT_EQ(p->root().item(kCount - 1).AsInt(), kCount % 200);
  EXPECT_EQ(p->root().item(kCount + 1).AsInt(), 255 % 200);
  EXPECT_EQ(p->num_memo_entries(), kCount + 1);
  std::printf(
      "%d memo entries: %.3f s, peak memory +%.1f MB (%.1f bytes per "
      "entry)%s\n",
      kCount, seconds, growth / 1e6, static_cast<double>(growth) / kCount,
      reset ? "" : " [peak not resettable]");
  if (!reset) GTEST_SKIP() << "cannot reset VmHWM via /proc/self/clear_refs";
  // A node (16 B), a memo slot (4 B) and a list slot (4 B, with vector growth
  // slack) per entry.
  EXPECT_LT(growth, int64_t{40} * kCount);
}

// Bytes [begin, begin + n) of a float64 array whose element e is e % 100.
std::string ArrayBytes(int64_t begin, int64_t n) {
  std::string out(n, '\0');
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(((begin + i) / 8) % 100);
    out[i] = reinterpret_cast<const char*>(&v)[(begin + i) % 8];
  }
  return out;
}

// Writes a pickle {'small': array, 'big': <num_bytes of float64>, 'tail': 7}
// to `path` without holding the big array in memory. py3 = true writes the
// raw bytes as _codecs.encode(<latin-1 text as BINUNICODE>, 'latin1'), where
// bytes >= 0x80 take two UTF-8 bytes.
void WriteBigArrayPickle(const std::string& path, int64_t num_bytes, bool py3) {
  constexpr int64_t kChunk = 1 << 20;
  int64_t utf8_bytes = 0;
  if (py3) {
    for (int64_t done = 0; done < num_bytes; done += kChunk) {
      for (char c : ArrayBytes(done, std::min(kChunk, num_bytes - done))) {
        utf8_bytes += static_cast<uint8_t>(c) < 0x80 ? 1 : 2;
      }
    }
  }
  std::ofstream out(path, std::ios::binary);
  PickleBuilder head;
  head.Proto().Op('}').Put(0).Mark();
  head.Str2("small").Array("f4", "<", {3}, RawOf(std::vector<float>{1, 2, 3}));
  head.Str2("big");
  head.Global("numpy.core.multiarray", "_reconstruct")
      .Global("numpy", "ndarray");
  head.Int(0).Op(0x85).Str2("b").Op(0x87).Op('R');
  head.Mark().Int(1).Tuple({num_bytes / 8}).Dtype("f8", "<", false).Op(0x89);
  if (py3) {
    head.Global("_codecs", "encode").Op('X').Le(utf8_bytes, 4);
  } else {
    head.Op('T').Le(num_bytes, 4);
  }
  out << head.bytes();
  for (int64_t done = 0; done < num_bytes; done += kChunk) {
    const std::string raw =
        ArrayBytes(done, std::min(kChunk, num_bytes - done));
    out << (py3 ? PickleBuilder::Latin1ToUtf8(raw) : raw);
  }
  PickleBuilder tail;
  if (py3) tail.Unicode("latin1").Op(0x86).Op('R');
  tail.Op('t').Op('b').Str2("tail").Int(7).Op('u').Stop();
  out << tail.bytes();
  ASSERT_TRUE(out.good());
}

TEST(PickleTest, SkipKeysNeverHoldsTheSkippedArray) {
  constexpr int64_t kBytes = int64_t{160} << 20;  // 160 MiB of float64
  const std::string path = TestTempPath("big_array.pkl");
  WriteBigArrayPickle(path, kBytes, /*py3=*/false);
  UnpickleOptions options;
  options.skip_keys = {"big"};
  const bool reset = ResetPeakRss();
  const int64_t before = PeakRss();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<Pickle> p = ReadPickleFile(path, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const int64_t peak = PeakRss();
  std::remove(path.c_str());
  ASSERT_TRUE(p.ok()) << p.status();
  const PickleValue big = *p->root().Find("big");
  ASSERT_TRUE(big.is_array());
  EXPECT_TRUE(big.array().data_skipped());
  EXPECT_EQ(big.array().shape(), (std::vector<int64_t>{kBytes / 8}));
  EXPECT_EQ(big.array().type(), NumpyType::kFloat64);
  EXPECT_EQ(big.array().Description(),
            absl::StrCat("ndarray float64 (", kBytes / 8, ",) [data skipped]"));
  EXPECT_EQ(p->num_unread_bytes(), kBytes);
  EXPECT_EQ(p->root().Find("small")->array().ToDoubles(),
            (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(p->root().Find("tail")->AsInt(), 7);
  std::printf(
      "skipped a %lld MiB array in %.3f s; peak RSS %.1f MB (+%.1f MB)"
      "%s\n",
      static_cast<long long>(kBytes >> 20), seconds, peak / 1e6,
      (peak - before) / 1e6, reset ? "" : " [peak not resettable]");
  if (!reset) GTEST_SKIP() << "cannot reset VmHWM via /proc/self/clear_refs";
  EXPECT_LT(peak - before, kBytes / 10);
}

TEST(PickleTest, SkipKeysAndDeferredStringsPython3) {
  constexpr int64_t kBytes = int64_t{3} << 20;
  const std::string path = TestTempPath("big_array_py3.pkl");
  WriteBigArrayPickle(path, kBytes, /*py3=*/true);
  // Not skipped: the deferred latin-1 text is read back and decoded.
  absl::StatusOr<Pickle> full = ReadPickleFile(path);
  ASSERT_TRUE(full.ok()) << full.status();
  const NdArray& a = full->root().Find("big")->array();
  ASSERT_FALSE(a.data_skipped());
  ASSERT_EQ(a.num_elements(), kBytes / 8);
  for (int64_t e = 0; e < a.num_elements(); ++e) {
    ASSERT_EQ(a.data<double>()[e], e % 100) << e;
  }
  // The UTF-8 text behind encode() is never read.
  EXPECT_GT(full->num_unread_bytes(), kBytes);
  // The same bytes parsed from memory agree.
  const std::string bytes = ReadTestFile(path);
  absl::StatusOr<Pickle> mem = ParsePickle(bytes, kSource);
  ASSERT_TRUE(mem.ok()) << mem.status();
  EXPECT_EQ(mem->root().Find("big")->array().ToDoubles(), a.ToDoubles());
  // Skipped.
  UnpickleOptions options;
  options.skip_keys = {"big"};
  absl::StatusOr<Pickle> skipped = ReadPickleFile(path, options);
  ASSERT_TRUE(skipped.ok()) << skipped.status();
  EXPECT_TRUE(skipped->root().Find("big")->array().data_skipped());
  EXPECT_GT(skipped->num_unread_bytes(), 2 * kBytes);
  EXPECT_EQ(skipped->root().Find("small")->array().ToDoubles(),
            (std::vector<double>{1, 2, 3}));
  // max_array_bytes skips by size instead.
  UnpickleOptions by_size;
  by_size.max_array_bytes = 1 << 20;
  absl::StatusOr<Pickle> sized = ReadPickleFile(path, by_size);
  ASSERT_TRUE(sized.ok()) << sized.status();
  EXPECT_TRUE(sized->root().Find("big")->array().data_skipped());
  EXPECT_FALSE(sized->root().Find("small")->array().data_skipped());
  std::remove(path.c_str());
}

TEST(PickleTest, LargeStringsAreReadBackWhenReachable) {
  std::string text(100000, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 7);
  PickleBuilder b;
  b.Proto().Op('}').Mark();
  b.Str2("keep").Str2(text).Put(0);
  b.Str2("skip").Str2(text + "x");
  b.Str2("again").Get(0);  // the same string under a kept key
  b.Op('u').Stop();
  UnpickleOptions options;
  options.skip_keys = {"skip", "again"};
  Pickle p = ParseOk(b.bytes(), options);
  EXPECT_EQ(p.root().Find("keep")->AsString(), text);
  EXPECT_TRUE(p.root().Find("skip")->is_skipped());
  EXPECT_EQ(p.root().Find("skip")->size(), text.size() + 1);
  EXPECT_EQ(p.root().Find("skip")->DebugString(),
            "<skipped bytes of 100001 bytes>");
  EXPECT_FALSE(p.root().Find("again")->is_skipped());  // reachable via "keep"
  EXPECT_EQ(p.num_unread_bytes(), static_cast<int64_t>(text.size() + 1));
}

// ---- NeuronIO fixtures ----

// The gunzipped contents of `path`, or "" with *error set.
std::string Gunzip(const std::string& path, std::string* error) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = "cannot open " + path;
    return "";
  }
  std::string out;
  char buffer[1 << 16];
  int n;
  while ((n = gzread(f, buffer, sizeof(buffer))) > 0) out.append(buffer, n);
  if (n < 0) *error = "gzread failed on " + path;
  gzclose(f);
  return out;
}

struct SimStats {
  int64_t ex_spikes;
  int64_t inh_spikes;
  std::vector<int64_t> seg0_first5;
  std::vector<int64_t> x_dense_sums_first5;
  std::vector<double> output_spikes;
  std::vector<double> soma_first5;
  double soma_mean;
  double soma_max;
  double target_mean;
};

// From ../shared/data/neuronio/expected_stats.json.
const SimStats kExpected[2] = {
    {49887,
     38637,
     {45, 218, 230, 247, 352},
     {125, 83, 105, 112, 104},
     {1358.0, 1366.0, 1375.0, 2648.0, 2658.0, 2680.0, 2688.0, 2698.0, 3878.0,
      3886.0, 4428.0, 4452.0, 4480.0, 5228.0, 5232.0, 5244.0, 5472.0, 5660.0,
      5700.0},
     {-76.0, -76.375, -76.5625, -76.625, -76.6875},
     -66.7578429667155,
     24.328125,
     0.07160520833333363},
    {46194,
     33496,
     {244, 374, 395, 585, 619},
     {97, 75, 91, 76, 86},
     {},
     {-76.0, -76.375, -76.5625, -76.6875, -76.6875},
     -66.47471354166667,
     -61.46875,
     0.12252864583333363},
};

// Checks one NeuronIO fixture against the expected statistics.
void CheckNeuronIo(const Pickle& p) {
  const PickleValue root = p.root();
  ASSERT_TRUE(root.is_dict());
  const std::optional<PickleValue> params = root.Find("Params");
  ASSERT_TRUE(params.has_value() && params->is_dict());
  EXPECT_EQ(params->Find("randomSeed")->AsInt(), 100520);
  EXPECT_EQ(params->Find("numSimulations")->AsInt(), 2);
  EXPECT_EQ(params->Find("totalSimDurationInSec")->AsInt(), 6);
  EXPECT_EQ(params->Find("excitatorySynapseType")->AsString(), "NMDA");
  EXPECT_EQ(params->Find("inhibitorySynapseType")->AsString(), "GABA_A");
  EXPECT_FALSE(params->Find("collectAndSaveDVTs")->AsBool());
  EXPECT_TRUE(params->Find("ISICV")->is_float());  // a numpy.float64 scalar
  const PickleValue types = *params->Find("allSegmentsType");
  ASSERT_EQ(types.size(), 639u);
  for (size_t i = 0; i < types.size(); ++i) {
    ASSERT_EQ(types.item(i).AsString(), i < 262 ? "basal" : "apical") << i;
  }
  const PickleValue sims =
      *root.Find("Results")->Find("listOfSingleSimulationDicts");
  ASSERT_EQ(sims.size(), 2u);
  for (int s = 0; s < 2; ++s) {
    SCOPED_TRACE(absl::StrCat("simulation ", s));
    const SimStats& want = kExpected[s];
    const PickleValue sim = sims.item(s);
    const PickleValue ex = *sim.Find("exInputSpikeTimes");
    const PickleValue inh = *sim.Find("inhInputSpikeTimes");
    ASSERT_EQ(ex.size(), 639u);
    ASSERT_EQ(inh.size(), 639u);
    int64_t ex_total = 0, inh_total = 0;
    for (size_t i = 0; i < ex.size(); ++i) ex_total += ex.value(i).size();
    for (size_t i = 0; i < inh.size(); ++i) inh_total += inh.value(i).size();
    EXPECT_EQ(ex_total, want.ex_spikes);
    EXPECT_EQ(inh_total, want.inh_spikes);
    const PickleValue seg0 = *ex.FindInt(0);  // numpy.int64 keys and values
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(seg0.item(k).AsInt(), want.seg0_first5[k]);
    }
    for (int seg = 0; seg < 5; ++seg) {
      std::set<int64_t> times;
      const PickleValue list = *ex.FindInt(seg);
      for (size_t k = 0; k < list.size(); ++k)
        times.insert(list.item(k).AsInt());
      EXPECT_EQ(static_cast<int64_t>(times.size()),
                want.x_dense_sums_first5[seg]);
    }
    const NdArray& out = sim.Find("outputSpikeTimes")->array();
    EXPECT_EQ(out.type(), NumpyType::kFloat16);
    EXPECT_EQ(out.ToDoubles(), want.output_spikes);
    const NdArray& soma = sim.Find("somaVoltageLowRes")->array();
    ASSERT_EQ(soma.shape(), (std::vector<int64_t>{6000}));
    const std::vector<double> v = soma.ToDoubles();
    double sum = 0, max = -1e300, target = 0;
    for (double x : v) {
      sum += x;
      max = std::max(max, x);
      target += (std::min(x, -55.0) + 67.7) * 0.1;
    }
    for (int k = 0; k < 5; ++k) EXPECT_EQ(v[k], want.soma_first5[k]);
    EXPECT_NEAR(sum / v.size(), want.soma_mean, 1e-9);
    EXPECT_EQ(max, want.soma_max);
    EXPECT_NEAR(target / v.size(), want.target_mean, 1e-9);
    EXPECT_EQ(sim.Find("recordingTimeHighRes")->array().shape(),
              (std::vector<int64_t>{48000}));
    EXPECT_EQ(sim.Find("recordingTimeLowRes")->array().data<float>()[5999],
              5999.0f);
  }
}

TEST(PickleTest, NeuronIoFixturesInBothEncodings) {
  std::string missing;
  const std::string dir = FindSharedPath("data/neuronio", &missing);
  if (dir.empty()) GTEST_SKIP() << "missing " << missing;
  std::vector<std::vector<double>> somas;
  for (const char* name :
       {"neuronio_l5pc_2sims_6s_seed100520_py2style.p.gz",
        "neuronio_l5pc_2sims_6s_seed100520_py3proto2.p.gz"}) {
    SCOPED_TRACE(name);
    std::string error;
    const std::string bytes = Gunzip(absl::StrCat(dir, "/", name), &error);
    ASSERT_TRUE(error.empty()) << error;
    // From memory.
    const auto start = std::chrono::steady_clock::now();
    absl::StatusOr<Pickle> p = ParsePickle(bytes, name);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    ASSERT_TRUE(p.ok()) << p.status();
    std::printf("%s: %zu bytes, %lld values, %lld memo entries, %.3f s\n", name,
                bytes.size(), static_cast<long long>(p->num_nodes()),
                static_cast<long long>(p->num_memo_entries()), seconds);
    CheckNeuronIo(*p);
    somas.push_back(p->root()
                        .Find("Results")
                        ->Find("listOfSingleSimulationDicts")
                        ->item(0)
                        .Find("somaVoltageHighRes")
                        ->array()
                        .ToDoubles());
    // From a file, skipping the high-resolution traces.
    const std::string path = TestTempPath("neuronio.p");
    WriteTestFile(path, bytes);
    UnpickleOptions options;
    options.skip_keys = {"somaVoltageHighRes", "nexusVoltageHighRes"};
    absl::StatusOr<Pickle> f = ReadPickleFile(path, options);
    ASSERT_TRUE(f.ok()) << f.status();
    CheckNeuronIo(*f);
    const PickleValue sim0 =
        f->root().Find("Results")->Find("listOfSingleSimulationDicts")->item(0);
    EXPECT_TRUE(sim0.Find("somaVoltageHighRes")->array().data_skipped());
    EXPECT_EQ(sim0.Find("nexusVoltageHighRes")->array().shape(),
              (std::vector<int64_t>{48000}));
    EXPECT_FALSE(sim0.Find("somaVoltageLowRes")->array().data_skipped());
    EXPECT_GE(f->num_unread_bytes(), 4 * 96000);
    std::remove(path.c_str());
  }
  ASSERT_EQ(somas.size(), 2u);
  EXPECT_EQ(somas[0], somas[1]);
}

}  // namespace
}  // namespace elm
