// Tests streaming a list while unpickling (UnpickleOptions::stream_list_key /
// stream_item, io/pickle.h) on pickles written by io/pickle_writer.h: which
// items are handed over and when, what the tree holds afterwards (None for a
// consumed item, the item itself otherwise), that memory does not grow with
// the list, and that items a later GET uses, or that picklers never write
// that way, are left in the tree.
#include <cstdint>
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

TEST(PickleStreamTest, ItemsALaterGetUsesAreKept) {
  // numpy.int64 scalars: the callable and dtype memoized in item 0 are used
  // by every later item, so item 0 stays; the others are consumed.
  Seen seen;
  absl::StatusOr<Pickle> p =
      ParsePickle(Write(6, true, false), "s", Streaming(&seen));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(seen.indices, (std::vector<size_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Items(*p), (std::vector<int64_t>{0, -1, -1, -1, -1, -1}));
  EXPECT_EQ(p->root()
                .Find("Results")
                ->Find("items")
                ->item(0)
                .Find("v")
                ->item(99)
                .AsInt(),
            99);
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
  Seen again;
  absl::StatusOr<Pickle> q = ParsePickle(out.str(), "s", Streaming(&again));
  ASSERT_TRUE(q.ok()) << q.status();
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

}  // namespace
}  // namespace elm
