// Tests the fast path for numpy scalars (io/pickle_scalars.cc) against the
// opcodes run one by one: a streaming parse (UnpickleOptions::stream_list_key,
// where the fast path runs) and a plain parse (where it never does) of the
// same bytes give the same tree and the same memo count; where the pattern is
// broken midway (a PUT a later GET uses, another dtype, a missing opcode)
// the scalars around it still read right; runs of calls of one layout (read
// by comparing bytes) read right; and every truncation and many
// corruptions inside the fast-path region give the same error, naming the
// byte, both ways. Lists filled only by runs of int64 scalars are stored
// packed (Unpickler::PackedAppends) and read the same as the opcodes leave
// them, also where a packed list is appended to, a run is not appended, or a
// packed list is used as something else; every truncation and corruption of
// such a list gives the same result or error both ways.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "io/pickle.h"
#include "io/pickle_writer.h"

namespace elm {
namespace {

constexpr char kSource[] = "scalars.p";

std::string Le8(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

// A numpy.dtype with byte order `order` (PickleWriter::Dtype writes '<').
void DtypeWithOrder(PickleWriter& w, const std::string& descr,
                    const std::string& order) {
  w.Global("numpy", "dtype");
  w.Str(descr);
  w.Bool(false);
  w.Bool(true);
  w.Op(0x87);  // TUPLE3
  w.Op('R');
  w.Op('(');
  w.Int(3);
  w.Str(order);
  w.None();
  w.None();
  w.None();
  w.Int(-1);
  w.Int(-1);
  w.Int(0);
  w.Op('t');
  w.Op('b');
}

// What breaks the pattern at one scalar of the list.
enum class Break {
  kNone,
  kPutUsedLater,  // a later GET fetches the scalar's bytes
  kInt32,         // an int32 scalar (4 bytes)
  kNoTuple2,      // the args as MARK ... TUPLE instead of TUPLE2
};

struct Layout {
  int items = 3;
  int per_item = 50;
  bool memo_above_255 = false;  // LONG_BINGET / LONG_BINPUT everywhere
  bool binbytes = false;        // SHORT_BINBYTES instead of SHORT_BINSTRING
  bool no_puts = false;         // no PUTs inside the scalars
  bool one_dtype = false;       // ValueOf(..., true): one layout in a row
  Break brk = Break::kNone;
};
// The broken scalar: item 1, 'v' item 7.
constexpr int kBrokenItem = 1;
constexpr int kBrokenK = 7;

// Scalar k of an item's 'v' list (k = -1: its 'a'): little- or big-endian
// int64 from INT64_MIN to INT64_MAX, or float64.
struct Value {
  enum Kind { kLittle, kBig, kFloat } kind = kLittle;
  uint64_t bits = 0;
};
// With `one_dtype`: little-endian int64 only (runs of one layout).
Value ValueOf(int item, int k, bool one_dtype = false) {
  Value v;
  const int64_t small = item * 1000 + (k + 1) * 37;
  if (one_dtype) {
    v.bits = static_cast<uint64_t>(k % 3 == 2 ? -small : small * 1000003);
    return v;
  }
  switch ((item * 7 + k + 6) % 6) {
    case 0:
    case 5:
      v.bits = static_cast<uint64_t>(small);
      break;
    case 1:
      v.bits = static_cast<uint64_t>(-(item * 100000 + k + 1));
      break;
    case 2:
      v.bits = k % 2 ? uint64_t{1} << 63 : ~(uint64_t{1} << 63);
      break;
    case 3: {
      const double d = 0.25 * k - item;
      std::memcpy(&v.bits, &d, 8);
      v.kind = Value::kFloat;
      break;
    }
    case 4:
      v.bits = static_cast<uint64_t>(small);
      v.kind = Value::kBig;
      break;
  }
  return v;
}

// {'Params': {'n': 7}, 'Results': {'items': [{'a': s, 'v': [s, ...]}, ...]}}
// with numpy scalars s (ValueOf).
std::string Write(const Layout& layout) {
  std::ostringstream out;
  PickleWriter w(&out);
  w.Proto2();
  w.DictBegin();
  if (layout.memo_above_255) {
    w.Str("pad");
    w.ListBegin();
    for (int i = 0; i < 300; ++i) {
      w.Int(i);
      w.Put();
    }
    w.ListEnd();
  }
  w.Global("numpy.core.multiarray", "scalar");
  const uint32_t scalar = w.Put();
  w.Op('0');  // POP
  w.Dtype("i8");
  const uint32_t i8 = w.Put();
  w.Op('0');
  DtypeWithOrder(w, "i8", ">");
  const uint32_t i8_big = w.Put();
  w.Op('0');
  w.Dtype("f8");
  const uint32_t f8 = w.Put();
  w.Op('0');
  w.Dtype("i4");
  const uint32_t i4 = w.Put();
  w.Op('0');
  w.Str("Params");
  w.DictBegin();
  w.Str("n");
  w.Int(7);
  w.DictEnd();
  uint32_t used_later = 0;
  auto put = [&]() { return layout.no_puts ? 0u : w.Put(); };
  auto number = [&](int item, int k) {
    const bool broken = item == kBrokenItem && k == kBrokenK;
    const Value v = ValueOf(item, k, layout.one_dtype);
    uint32_t dtype = v.kind == Value::kFloat ? f8
                     : v.kind == Value::kBig ? i8_big
                                             : i8;
    std::string data = Le8(v.bits);
    if (v.kind == Value::kBig) data = std::string(data.rbegin(), data.rend());
    if (broken && layout.brk == Break::kInt32) {
      dtype = i4;
      data.resize(4);
    }
    w.Get(scalar);
    if (broken && layout.brk == Break::kNoTuple2) w.Op('(');
    w.Get(dtype);
    if (layout.binbytes) {
      w.Op('C');
      w.Le(data.size(), 1);
      for (char c : data) w.Op(static_cast<uint8_t>(c));
    } else {
      w.Str(data);
    }
    const uint32_t bytes_memo = put();
    if (broken && layout.brk == Break::kPutUsedLater) used_later = bytes_memo;
    w.Op(broken && layout.brk == Break::kNoTuple2 ? 't' : 0x86);
    put();
    w.Op('R');
    put();
  };
  w.Str("Results");
  w.DictBegin();
  w.Str("items");
  w.ListBegin();
  for (int item = 0; item < layout.items; ++item) {
    w.DictBegin();
    w.Str("a");
    number(item, -1);
    w.Str("v");
    w.ListBegin();
    for (int k = 0; k < layout.per_item; ++k) number(item, k);
    w.ListEnd();
    w.DictEnd();
  }
  w.ListEnd();
  if (layout.brk == Break::kPutUsedLater) {
    w.Str("again");
    w.Get(used_later);
  }
  w.DictEnd();
  w.DictEnd();
  w.Stop();
  w.Flush();
  return out.str();
}

// Expects the scalars of the parsed tree to be those written.
void ExpectValues(const Pickle& p, const Layout& layout) {
  const PickleValue items = p.root().Find("Results")->Find("items").value();
  ASSERT_EQ(items.size(), static_cast<size_t>(layout.items));
  for (int item = 0; item < layout.items; ++item) {
    const PickleValue v = items.item(item).Find("v").value();
    ASSERT_EQ(v.size(), static_cast<size_t>(layout.per_item));
    for (int k = -1; k < layout.per_item; ++k) {
      SCOPED_TRACE(testing::Message() << item << " " << k);
      const PickleValue got =
          k < 0 ? items.item(item).Find("a").value() : v.item(k);
      const Value want = ValueOf(item, k, layout.one_dtype);
      if (item == kBrokenItem && k == kBrokenK && layout.brk == Break::kInt32) {
        EXPECT_EQ(got.AsInt(),
                  static_cast<int32_t>(static_cast<uint32_t>(want.bits)));
      } else if (want.kind == Value::kFloat) {
        double d;
        std::memcpy(&d, &want.bits, 8);
        EXPECT_EQ(got.AsFloat(), d);
      } else {
        EXPECT_EQ(got.AsInt(), static_cast<int64_t>(want.bits));
      }
    }
  }
}

// The streamed items are left in the tree, so that it can be compared.
UnpickleOptions Streaming(int* calls) {
  UnpickleOptions options;
  options.stream_list_key = "items";
  options.stream_item = [calls](size_t, const PickleValue&, const auto&) {
    ++*calls;
    return false;
  };
  options.stream_restart = [calls] { *calls = 0; };
  return options;
}

std::string Render(const Pickle& p) {
  return p.root().DebugString(1 << 20, 64);
}

// Parses `bytes` both ways: the same tree, or the same error. With
// `fast_scalars` > 0, expects that many scalars to have taken the fast path
// (each makes at most one node instead of three).
void ExpectSameBothWays(const std::string& bytes, int fast_scalars) {
  int calls = 0;
  absl::StatusOr<Pickle> fast = ParsePickle(bytes, kSource, Streaming(&calls));
  absl::StatusOr<Pickle> plain = ParsePickle(bytes, kSource);
  ASSERT_EQ(fast.status(), plain.status());
  if (!fast.ok()) {
    EXPECT_TRUE(absl::StartsWith(fast.status().message(),
                                 std::string(kSource) + ": byte "))
        << fast.status();
    return;
  }
  EXPECT_EQ(Render(*fast), Render(*plain));
  if (fast_scalars > 0) {
    // (A corrupt file may PUT an index twice: the plain parse counts it once,
    // a streaming parse every PUT, fast or not.)
    EXPECT_EQ(fast->num_memo_entries(), plain->num_memo_entries());
    EXPECT_LE(fast->num_nodes(), plain->num_nodes() - 2 * fast_scalars);
  }
}

TEST(PickleScalarsTest, TheSameTreeAsTheOpcodesOneByOne) {
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    Layout layout;
    layout.memo_above_255 = variant == 1;
    layout.binbytes = variant == 2;
    layout.no_puts = variant == 3;
    const std::string bytes = Write(layout);
    ExpectSameBothWays(bytes, layout.items * (layout.per_item + 1));
    int calls = 0;
    absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource, Streaming(&calls));
    ASSERT_TRUE(p.ok()) << p.status();
    ExpectValues(*p, layout);
    EXPECT_EQ(calls, layout.items);
  }
}

TEST(PickleScalarsTest, PatternBrokenMidwayFallsBackForThatScalar) {
  for (Break brk : {Break::kPutUsedLater, Break::kInt32, Break::kNoTuple2}) {
    SCOPED_TRACE(static_cast<int>(brk));
    Layout layout;
    layout.brk = brk;
    const std::string bytes = Write(layout);
    ExpectSameBothWays(bytes, layout.items * (layout.per_item + 1) - 1);
    int calls = 0;
    absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource, Streaming(&calls));
    ASSERT_TRUE(p.ok()) << p.status();
    ExpectValues(*p, layout);
    if (brk == Break::kPutUsedLater) {
      EXPECT_EQ(p->root().Find("Results")->Find("again")->AsString(),
                Le8(ValueOf(kBrokenItem, kBrokenK).bits));
    }
  }
}

// Long runs of calls of one layout (read by comparing bytes), whose PUTs
// switch from BINPUT to LONG_BINPUT midway (memo index 256), with a PUT that a
// later GET uses inside a run, and truncated and corrupted inside a run.
TEST(PickleScalarsTest, RunsOfOneLayout) {
  for (Break brk : {Break::kNone, Break::kPutUsedLater}) {
    SCOPED_TRACE(static_cast<int>(brk));
    Layout layout;
    layout.one_dtype = true;
    layout.per_item = 120;
    layout.brk = brk;
    const std::string bytes = Write(layout);
    ExpectSameBothWays(bytes, layout.items * (layout.per_item + 1) -
                                  (brk == Break::kNone ? 0 : 1));
    int calls = 0;
    absl::StatusOr<Pickle> p = ParsePickle(bytes, kSource, Streaming(&calls));
    ASSERT_TRUE(p.ok()) << p.status();
    ExpectValues(*p, layout);
    // (An item with a value a later GET uses is not handed over.)
    EXPECT_EQ(calls, layout.items - (brk == Break::kNone ? 0 : 1));
    // Inside item 1's run: every truncation, and corruptions.
    const std::string key("U\x01v", 3);
    const size_t v1 = bytes.find(key, bytes.find(key) + 1);
    ASSERT_NE(v1, std::string::npos);
    for (size_t at = v1 + 300; at < v1 + 400; ++at) {
      SCOPED_TRACE(at);
      ExpectSameBothWays(bytes.substr(0, at), 0);
      std::string bad = bytes;
      bad[at] = static_cast<char>(bad[at] ^ 0x04);
      ExpectSameBothWays(bad, 0);
    }
  }
}

// The bytes of the scalars of item 1 (the fast-path region), from the bytes
// of its 'v' list to its end.
void RegionOf(const std::string& bytes, size_t* begin, size_t* end) {
  const std::string key("U\x01v", 3);
  const size_t v1 = bytes.find(key, bytes.find(key) + 1);
  ASSERT_NE(v1, std::string::npos);
  *begin = v1;
  *end = std::min(bytes.size(), v1 + 200);
}

TEST(PickleScalarsTest, TruncatedInsideTheFastPathGivesTheSameErrors) {
  for (bool long_memo : {false, true}) {
    Layout layout;
    layout.memo_above_255 = long_memo;
    const std::string bytes = Write(layout);
    size_t begin = 0, end = 0;
    RegionOf(bytes, &begin, &end);
    for (size_t n = begin; n < end; ++n) {
      SCOPED_TRACE(n);
      ExpectSameBothWays(bytes.substr(0, n), 0);
    }
  }
}

TEST(PickleScalarsTest, CorruptedInsideTheFastPathGivesTheSameResult) {
  for (bool long_memo : {false, true}) {
    Layout layout;
    layout.memo_above_255 = long_memo;
    const std::string bytes = Write(layout);
    size_t begin = 0, end = 0;
    RegionOf(bytes, &begin, &end);
    int errors = 0;
    for (size_t at = begin; at < end; ++at) {
      for (uint8_t x : {0x01, 0x10, 0x80, 0xFF}) {
        SCOPED_TRACE(testing::Message() << at << " ^ " << int{x});
        std::string bad = bytes;
        bad[at] = static_cast<char>(bad[at] ^ x);
        int calls = 0;
        absl::StatusOr<Pickle> p = ParsePickle(bad, kSource, Streaming(&calls));
        if (!p.ok()) ++errors;
        ExpectSameBothWays(bad, 0);
      }
    }
    EXPECT_GT(errors, 0);
  }
}

// A pickle of packed lists (PackedAppends) and of what undoes them:
//   {'a': [ints] in two MARK ... APPENDS batches (stays packed),
//    'u': [ints] + a str APPENDed later (unpacked),
//    'm': [int] by one APPEND (never packed),
//    't': (ints) by MARK ... TUPLE (the run stays on the stack),
//    'f': [ints, 0.5] (the run ends at a float scalar: on the stack),
//    [with `ordered_dict`: 'o': OrderedDict(<the packed list 'a'>)]}
std::string WritePacked(bool ordered_dict = false) {
  std::ostringstream out;
  PickleWriter w(&out);
  w.Proto2();
  w.DictBegin();
  w.Global("numpy.core.multiarray", "scalar");
  const uint32_t scalar = w.Put();
  w.Op('0');
  w.Dtype("i8");
  const uint32_t i8 = w.Put();
  w.Op('0');
  w.Dtype("f8");
  const uint32_t f8 = w.Put();
  w.Op('0');
  auto number = [&](uint64_t bits, uint32_t dtype) {
    w.Get(scalar);
    w.Get(dtype);
    w.Str(Le8(bits));
    w.Put();
    w.Op(0x86);  // TUPLE2
    w.Put();
    w.Op('R');
    w.Put();
  };
  auto ints = [&](int n, int64_t first) {
    for (int k = 0; k < n; ++k)
      number(static_cast<uint64_t>(first + 7 * k), i8);
  };
  w.Str("a");
  w.Op(']');
  const uint32_t a = w.Put();
  w.Op('(');
  ints(5, -3);
  w.Op('e');
  w.Op('(');
  ints(4, 1000);
  w.Op('e');
  w.Str("u");
  w.Op(']');
  const uint32_t u = w.Put();
  w.Op('(');
  ints(3, 40);
  w.Op('e');
  w.Op('0');  // POP the list: appended to below, through the memo
  w.Get(u);
  w.Str("x");
  w.Op('a');
  w.Str("m");
  w.Op(']');
  w.Put();
  ints(1, 9);
  w.Op('a');
  w.Str("t");
  w.Op('(');
  ints(3, 5);
  w.Op('t');
  w.Str("f");
  w.ListBegin();
  ints(3, 70);
  double half = 0.5;
  uint64_t bits;
  std::memcpy(&bits, &half, 8);
  number(bits, f8);
  w.ListEnd();
  if (ordered_dict) {
    w.Str("o");
    w.Global("collections", "OrderedDict");
    w.Get(a);
    w.Op(0x85);  // TUPLE1
    w.Op('R');
  }
  w.DictEnd();
  w.Stop();
  w.Flush();
  return out.str();
}

std::vector<int64_t> IntsOf(const PickleValue& v) {
  std::vector<int64_t> out;
  EXPECT_EQ(v.AppendLeadingInts(&out), v.size());
  return out;
}

TEST(PickleScalarsTest, PackedListsReadAsTheOpcodesLeaveThem) {
  const std::string bytes = WritePacked();
  ExpectSameBothWays(bytes, 0);
  int calls = 0;
  absl::StatusOr<Pickle> fast = ParsePickle(bytes, kSource, Streaming(&calls));
  absl::StatusOr<Pickle> plain = ParsePickle(bytes, kSource);
  ASSERT_TRUE(fast.ok()) << fast.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  const PickleValue a = fast->root().Find("a").value();
  const std::vector<int64_t> want_a = {-3,   4,    11,   18,  25,
                                       1000, 1007, 1014, 1021};
  ASSERT_TRUE(a.PackedInts().has_value());
  EXPECT_EQ(
      std::vector<int64_t>(a.PackedInts()->begin(), a.PackedInts()->end()),
      want_a);
  EXPECT_EQ(IntsOf(a), want_a);
  ASSERT_EQ(a.size(), want_a.size());
  for (size_t i = 0; i < want_a.size(); ++i) {
    EXPECT_TRUE(a.item(i).is_int());
    EXPECT_EQ(a.item(i).AsInt(), want_a[i]);
    EXPECT_EQ(a.item(i).AsNumber(), static_cast<double>(want_a[i]));
    EXPECT_EQ(a.item(i).TypeName(), "int");
  }
  // The plain parse stores no list packed.
  EXPECT_FALSE(plain->root().Find("a")->PackedInts().has_value());
  EXPECT_EQ(IntsOf(plain->root().Find("a").value()), want_a);
  // Appended to later: unpacked, in order.
  const PickleValue u = fast->root().Find("u").value();
  EXPECT_FALSE(u.PackedInts().has_value());
  ASSERT_EQ(u.size(), 4u);
  EXPECT_EQ(u.item(2).AsInt(), 54);
  EXPECT_EQ(u.item(3).AsString(), "x");
  for (const char* key : {"m", "t", "f"}) {
    SCOPED_TRACE(key);
    EXPECT_FALSE(fast->root().Find(key)->PackedInts().has_value());
  }
  EXPECT_EQ(fast->root().Find("t")->DebugString(), "(5, 12, 19)");
  EXPECT_EQ(fast->root().Find("f")->DebugString(), "[70, 77, 84, 0.5]");
  // Not a list: no packed ints.
  EXPECT_FALSE(fast->root().PackedInts().has_value());
  EXPECT_FALSE(a.item(0).PackedInts().has_value());
}

TEST(PickleScalarsTest, PackedListUsedAsPairsGivesTheSameError) {
  const std::string bytes = WritePacked(/*ordered_dict=*/true);
  int calls = 0;
  absl::StatusOr<Pickle> fast = ParsePickle(bytes, kSource, Streaming(&calls));
  EXPECT_FALSE(fast.ok());
  EXPECT_TRUE(absl::StrContains(fast.status().message(),
                                "item 0 is not a (key, value) pair"))
      << fast.status();
  ExpectSameBothWays(bytes, 0);
}

// Every truncation of the packed lists' bytes, and every byte of them
// corrupted four ways: the same tree or the same error both ways.
TEST(PickleScalarsTest, TruncatedOrCorruptedPackedListsGiveTheSameResult) {
  const std::string bytes = WritePacked();
  const size_t begin =
      bytes.find(std::string("U\x01"
                             "a",
                             3));
  const size_t end = bytes.find(std::string("U\x01m", 3));
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  int errors = 0;
  for (size_t at = begin; at < end; ++at) {
    SCOPED_TRACE(at);
    ExpectSameBothWays(bytes.substr(0, at), 0);
    for (uint8_t x : {0x01, 0x10, 0x80, 0xFF}) {
      SCOPED_TRACE(int{x});
      std::string bad = bytes;
      bad[at] = static_cast<char>(bad[at] ^ x);
      int calls = 0;
      if (!ParsePickle(bad, kSource, Streaming(&calls)).ok()) ++errors;
      ExpectSameBothWays(bad, 0);
    }
  }
  EXPECT_GT(errors, 0);
}

}  // namespace
}  // namespace elm
