// Tests streaming a list while unpickling (UnpickleOptions::stream_list_key /
// stream_item, io/pickle.h) on pickles written by io/pickle_writer.h: which
// items are handed over and when, what the tree holds afterwards (None for a
// consumed item, the item itself otherwise), that memory does not grow with
// the list, that small values of consumed items a later GET uses are copied
// (one pass), that a later GET of anything else starts the parse over (with
// the scan), after which items a later GET uses are left in the tree, as are
// items that picklers never write that way.
#include <cstdint>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "io/pickle.h"
#include "io/pickle_writer.h"

namespace elm {
namespace {

// {'Params': {'n': 7}, 'Results': {'items': [{'a': i, 'v': [i, i+1]}...]}};
// with `scalars`, the ints are numpy.int64 scalars (memoized callable and
// dtype, as cPickle writes them); `append` uses APPEND per item instead of
// one APPENDS.
std::string Write(int n, bool scalars, bool append) {
  std::ostringstream out;
  PickleWriter w(&out);
  auto num = [&](int64_t v) { scalars ? w.NumpyInt64(v) : w.Int(v); };
  w.Proto2();
  w.DictBegin();
  w.Str("Params");
  w.DictBegin();
  w.Str("n");
  w.Int(7);
  w.DictEnd();
  w.Str("Results");
  w.DictBegin();
  w.Str("items");
  if (append) {
    w.Op(']');
  } else {
    w.ListBegin();
  }
  for (int i = 0; i < n; ++i) {
    w.DictBegin();
    w.Str("a");
    num(i);
    w.Str("v");
    w.ListBegin();
    for (int k = 0; k < 100; ++k) num(i + k);
    w.ListEnd();
    w.DictEnd();
    if (append) w.Op('a');
  }
  if (!append) w.ListEnd();
  w.DictEnd();
  w.DictEnd();
  w.Stop();
  w.Flush();
  return out.str();
}

struct Seen {
  std::vector<size_t> indices;
  std::vector<int64_t> a;
  int64_t params_n = -1;
  int restarts = 0;  // stream_restart calls (what came before is forgotten)
};

UnpickleOptions Streaming(Seen* seen, bool consume = true) {
  UnpickleOptions options;
  options.stream_list_key = "items";
  options.stream_item = [seen, consume](size_t index, const PickleValue& item,
                                        const auto& stack_value) {
    seen->indices.push_back(index);
    seen->a.push_back(item.Find("a")->AsInt());
    EXPECT_TRUE(item.Find("v")->is_list());
    std::optional<PickleValue> params = stack_value("Params");
    if (params.has_value()) seen->params_n = params->Find("n")->AsInt();
    return consume;
  };
  options.stream_restart = [seen] {
    const int restarts = seen->restarts + 1;
    *seen = Seen();
    seen->restarts = restarts;
  };
  return options;
}

// The tree's items: -1 for None, else 'a'.
std::vector<int64_t> Items(const Pickle& p) {
  std::vector<int64_t> out;
  const PickleValue list = *p.root().Find("Results")->Find("items");
  for (size_t i = 0; i < list.size(); ++i) {
    out.push_back(list.item(i).is_none() ? -1
                                         : list.item(i).Find("a")->AsInt());
  }
  return out;
}

TEST(PickleStreamTest, ConsumesEachItemWhenComplete) {
  for (const bool append : {false, true}) {
    SCOPED_TRACE(append);
    const std::string bytes = Write(50, false, append);
    Seen seen;
    absl::StatusOr<Pickle> p = ParsePickle(bytes, "s", Streaming(&seen));
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(seen.indices.size(), 50u);
    for (size_t i = 0; i < 50; ++i) {
      EXPECT_EQ(seen.indices[i], i);
      EXPECT_EQ(seen.a[i], static_cast<int64_t>(i));
    }
    EXPECT_EQ(seen.params_n, 7);
    EXPECT_EQ(Items(*p), std::vector<int64_t>(50, -1));
    // The storage of consumed items is reused: far fewer values than
    // without streaming.
    absl::StatusOr<Pickle> whole = ParsePickle(bytes, "s");
    ASSERT_TRUE(whole.ok());
    EXPECT_LT(p->num_nodes() * 10, whole->num_nodes());
  }
}

TEST(PickleStreamTest, ItemsNotConsumedStayInTheTree) {
  const std::string bytes = Write(5, false, false);
  Seen seen;
  absl::StatusOr<Pickle> p =
      ParsePickle(bytes, "s", Streaming(&seen, /*consume=*/false));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(seen.indices.size(), 5u);
  EXPECT_EQ(Items(*p), (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(PickleStreamTest, ItemsWithALargeStringInAListAreKept) {
  // A string of 64 KiB or more is read at STOP: an item whose list holds
  // one (among numbers, in one APPENDS or by a later APPEND) is not handed
  // over; lists of numbers only are stepped over by the check.
  const std::string big(70000, 'x');
  std::ostringstream out;
  PickleWriter w(&out);
  w.Proto2();
  w.DictBegin();
  w.Str("items");
  w.ListBegin();
  for (int i = 0; i < 5; ++i) {
    w.DictBegin();
    w.Str("a");
    w.Int(i);
    w.Str("v");
    w.ListBegin();
    for (int k = 0; k < 10; ++k) w.Int(k);
    if (i == 2) w.Str(big);
    w.ListEnd();
    if (i == 3) {
      w.Str(big);
      w.Op('a');  // APPEND
    }
    w.DictEnd();
  }
  w.ListEnd();
  w.DictEnd();
  w.Stop();
  w.Flush();
  Seen seen;
  absl::StatusOr<Pickle> p = ParsePickle(out.str(), "s", Streaming(&seen));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(seen.indices, (std::vector<size_t>{0, 1, 4}));
  const PickleValue items = *p->root().Find("items");
  ASSERT_EQ(items.size(), 5u);
  for (int i : {2, 3}) {
    const PickleValue v = *items.item(i).Find("v");
    ASSERT_EQ(v.size(), 11u);
    EXPECT_EQ(v.item(10).AsString(), big);
  }
}

TEST(PickleStreamTest, SmallValuesALaterGetUsesAreCopied) {
  // numpy.int64 scalars: the callable and dtype memoized in item 0 are used
  // by every later item; in one pass they are copied out of item 0, which is
  // consumed like the others.
  Seen seen;
  absl::StatusOr<Pickle> p =
      ParsePickle(Write(6, true, false), "s", Streaming(&seen));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(seen.restarts, 0);
  EXPECT_EQ(seen.indices, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(seen.a, (std::vector<int64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(Items(*p), (std::vector<int64_t>{-1, -1, -1, -1, -1, -1}));
  // The same tree as without streaming where nothing is consumed.
  Seen kept;
  absl::StatusOr<Pickle> q =
      ParsePickle(Write(6, true, false), "s", Streaming(&kept, false));
  absl::StatusOr<Pickle> plain = ParsePickle(Write(6, true, false), "s");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(q->root().DebugString(1000, 10),
            plain->root().DebugString(1000, 10));
}

TEST(PickleStreamTest, ItemsALaterGetUsesAreKept) {
  // An item memoized and fetched again after the list is never consumed.
  std::ostringstream out;
  {
    PickleWriter w(&out);
    w.Proto2();
    w.ListBegin();  // [ 'items', [ {...}, {...} ], <item 1 again> ]
    w.Str("items");
    w.ListBegin();
    w.DictBegin();
    w.Str("a");
    w.Int(0);
    w.Str("v");
    w.ListBegin();
    w.ListEnd();
    w.DictEnd();
    w.Op('}');
    const uint32_t memo = w.Put();
    w.Op('(');
    w.Str("a");
    w.Int(1);
    w.Str("v");
    w.ListBegin();
    w.ListEnd();
    w.DictEnd();
    w.ListEnd();
    w.Get(memo);
    w.ListEnd();
    w.Stop();
  }
  // (A dict: not copied, so the GET starts the parse over, with the scan.)
  Seen again;
  absl::StatusOr<Pickle> q = ParsePickle(out.str(), "s", Streaming(&again));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(again.restarts, 1);
  EXPECT_EQ(again.indices, (std::vector<size_t>{0}));
  const PickleValue root = q->root();
  EXPECT_TRUE(root.item(1).item(0).is_none());
  EXPECT_EQ(root.item(1).item(1).Find("a")->AsInt(), 1);
  EXPECT_EQ(root.item(2).Find("a")->AsInt(), 1);
}

TEST(PickleStreamTest, OtherItemsAndErrorsAreAsWithoutStreaming) {
  // A list mixing dicts and ints: the dicts right after an int start over.
  std::ostringstream out;
  {
    PickleWriter w(&out);
    w.Proto2();
    w.ListBegin();
    w.Str("items");
    w.ListBegin();
    for (int i = 0; i < 4; ++i) {
      w.DictBegin();
      w.Str("a");
      w.Int(i);
      w.Str("v");
      w.ListBegin();
      w.ListEnd();
      w.DictEnd();
      if (i == 1) w.Int(-5);
    }
    w.ListEnd();
    w.ListEnd();
    w.Stop();
  }
  Seen seen;
  absl::StatusOr<Pickle> p = ParsePickle(out.str(), "s", Streaming(&seen));
  ASSERT_TRUE(p.ok()) << p.status();
  absl::StatusOr<Pickle> whole = ParsePickle(out.str(), "s");
  ASSERT_TRUE(whole.ok());
  const PickleValue items = p->root().item(1);
  ASSERT_EQ(items.size(), 5u);
  EXPECT_EQ(items.item(2).AsInt(), -5);
  for (size_t i : {0, 1, 3, 4}) {
    EXPECT_TRUE(items.item(i).is_none() ||
                items.item(i).DebugString() ==
                    whole->root().item(1).item(i).DebugString())
        << i;
  }
  // Truncated anywhere: the same error as without streaming.
  const std::string bytes = Write(8, true, false);
  for (size_t n = 0; n < bytes.size(); n += bytes.size() / 37 + 1) {
    Seen s;
    absl::StatusOr<Pickle> a =
        ParsePickle(bytes.substr(0, n), "cut", Streaming(&s));
    absl::StatusOr<Pickle> b = ParsePickle(bytes.substr(0, n), "cut");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status(), b.status()) << n;
  }
}

// {'items': [{'a': i, 'v': [], 'm': <value>}, ...] of 3 items, where item 0
// memoizes the value (written by `value`) and items 1 and 2 GET it.
std::string WriteShared(const std::function<void(PickleWriter&)>& value) {
  std::ostringstream out;
  PickleWriter w(&out);
  w.Proto2();
  w.DictBegin();
  w.Str("items");
  w.ListBegin();
  uint32_t memo = 0;
  for (int i = 0; i < 3; ++i) {
    w.DictBegin();
    w.Str("a");
    w.Int(i);
    w.Str("v");
    w.ListBegin();
    w.ListEnd();
    w.Str("m");
    if (i == 0) {
      value(w);
      memo = w.Put();
    } else {
      w.Get(memo);
    }
    w.DictEnd();
  }
  w.ListEnd();
  w.DictEnd();
  w.Stop();
  w.Flush();
  return out.str();
}

// A tuple of small values (copied when item 0 is consumed): short and longer
// str, int, float, None, True, a global, a numpy dtype with its state, a
// nested tuple.
void SmallValues(PickleWriter& w) {
  w.Op('(');
  w.Str("short");
  w.Str(std::string(40, 'x') + "a longer string, in the arena");
  w.Int(7);
  w.Float(2.5);
  w.None();
  w.Bool(true);
  w.Global("numpy", "ndarray");
  w.Dtype("i8");
  w.Op('(');
  w.Int(1);
  w.Op('(');
  w.Int(2);
  w.Int(3);
  w.Op('t');
  w.Op('t');
  w.Op('t');
}

// Streams `bytes` consuming every item; the renders of the items handed over
// (by index, after any restart) and the restarts.
struct Handed {
  std::vector<std::string> items;
  int restarts = 0;
};
absl::StatusOr<Pickle> ParseHanding(const std::string& bytes, Handed* handed) {
  UnpickleOptions options;
  options.stream_list_key = "items";
  options.stream_item = [handed](size_t index, const PickleValue& item,
                                 const auto&) {
    if (handed->items.size() <= index) handed->items.resize(index + 1);
    handed->items[index] = item.DebugString(100, 10);
    return true;
  };
  options.stream_restart = [handed] {
    handed->items.clear();
    ++handed->restarts;
  };
  return ParsePickle(bytes, "s", options);
}

// Streamed and plain: the same error, or the same items (handed over or
// left in the tree).
void ExpectSameItems(const std::string& bytes, int restarts = -1) {
  Handed handed;
  absl::StatusOr<Pickle> p = ParseHanding(bytes, &handed);
  absl::StatusOr<Pickle> plain = ParsePickle(bytes, "s");
  ASSERT_EQ(p.status(), plain.status());
  if (restarts >= 0) EXPECT_EQ(handed.restarts, restarts);
  if (!p.ok()) return;
  std::optional<PickleValue> items =
      p->root().is_dict() ? p->root().Find("items") : std::nullopt;
  std::optional<PickleValue> want =
      plain->root().is_dict() ? plain->root().Find("items") : std::nullopt;
  ASSERT_EQ(items.has_value(), want.has_value());
  if (!items.has_value() || !items->is_list()) {
    EXPECT_EQ(p->root().DebugString(100, 10),
              plain->root().DebugString(100, 10));
    return;
  }
  ASSERT_EQ(items->size(), want->size());
  for (size_t i = 0; i < items->size(); ++i) {
    SCOPED_TRACE(i);
    const std::string got = items->item(i).is_none() && i < handed.items.size()
                                ? handed.items[i]
                                : items->item(i).DebugString(100, 10);
    EXPECT_EQ(got, want->item(i).DebugString(100, 10));
  }
}

TEST(PickleStreamTest, SmallValuesOfConsumedItemsAreCopiedForLaterGets) {
  const std::string bytes = WriteShared(SmallValues);
  ExpectSameItems(bytes, /*restarts=*/0);
  Handed handed;
  ASSERT_TRUE(ParseHanding(bytes, &handed).ok());
  ASSERT_EQ(handed.items.size(), 3u);  // all three consumed, in one pass
  EXPECT_NE(handed.items[2].find("a longer string"), std::string::npos);
  EXPECT_NE(handed.items[2].find("numpy.dtype"), std::string::npos);
}

TEST(PickleStreamTest, OtherValuesALaterGetUsesStartTheParseOver) {
  const std::vector<std::function<void(PickleWriter&)>> values = {
      [](PickleWriter& w) { w.Str(std::string(5000, 'y')); },  // > 4 KiB
      [](PickleWriter& w) {                                    // a list
        w.ListBegin();
        w.Int(1);
        w.ListEnd();
      },
      [](PickleWriter& w) {  // more than 64 values
        w.Op('(');
        for (int k = 0; k < 70; ++k) w.Int(k);
        w.Op('t');
      },
  };
  for (size_t v = 0; v < values.size(); ++v) {
    SCOPED_TRACE(v);
    ExpectSameItems(WriteShared(values[v]), /*restarts=*/1);
  }
}

// Every truncation, and every byte corrupted four ways, of a file whose
// consumed item holds values later items GET: the same items or the same
// error as without streaming.
TEST(PickleStreamTest, TruncatedOrCorruptedSharedValuesGiveTheSameResult) {
  const std::string bytes = WriteShared(SmallValues);
  for (size_t at = 0; at < bytes.size(); ++at) {
    SCOPED_TRACE(at);
    ExpectSameItems(bytes.substr(0, at));
    for (uint8_t x : {0x01, 0x10, 0x80, 0xFF}) {
      SCOPED_TRACE(int{x});
      std::string bad = bytes;
      bad[at] = static_cast<char>(bad[at] ^ x);
      ExpectSameItems(bad);
    }
  }
}

// MEMOIZE stores at the number of distinct memo indices stored so far (the
// size of Python's memo dict), which a single pass does not know: found by
// //io:pickle_fuzzer, where a repeated BINPUT made the single pass store a
// MEMOIZE at index 2 and accept a GET of it that the plain parse rejects.
TEST(PickleStreamTest, MemoizeAfterARepeatedPutIsAsWithoutStreaming) {
  // {'items': [1], 'x': 'a', 'y': <GET get_index>}, 'a' PUT at 0 twice, then
  // MEMOIZE (Python: memo[1] = 'a').
  auto bytes = [](char get_index) {
    return std::string(
               "\x80\x02}(U\x05items](K\x01"
               "e"
               "U\x01xU\x01"
               "aq\x00q\x00\x94"
               "U\x01yh",
               31) +
           get_index + "u.";
  };
  ExpectSameItems(bytes('\x01'), /*restarts=*/1);
  absl::StatusOr<Pickle> good = ParsePickle(bytes('\x01'), "s");
  ASSERT_TRUE(good.ok()) << good.status();
  EXPECT_EQ(good->root().Find("y")->AsString(), "a");
  ExpectSameItems(bytes('\x02'), /*restarts=*/1);
  EXPECT_FALSE(ParsePickle(bytes('\x02'), "s").ok());
}

}  // namespace
}  // namespace elm
