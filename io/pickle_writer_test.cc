// Tests PickleWriter (io/pickle_writer.h) by reading what it writes with the
// pickle reader (io/pickle.h): every value kind, numpy arrays and scalars,
// memo references, streamed large strings, and both outputs (a stream and an
// AtomicFileWriter) with their errors.
#include "io/pickle_writer.h"

#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/files.h"
#include "base/test_files.h"
#include "gtest/gtest.h"
#include "io/pickle.h"

namespace elm {
namespace {

TEST(PickleWriterTest, ValuesReadBack) {
  std::ostringstream out;
  {
    PickleWriter w(&out);
    w.Proto2();
    w.ListBegin();
    for (int64_t v : {int64_t{0}, int64_t{255}, int64_t{256}, int64_t{65536},
                      int64_t{-7}, int64_t{1} << 40}) {
      w.Int(v);
    }
    w.Float(-2.5);
    w.Bool(true);
    w.None();
    w.Str("short");
    w.Str(std::string(300, 'x'));
    w.DictBegin();
    w.Str("k");
    w.NumpyInt64(-3);
    w.NumpyInt64(int64_t{1} << 50);  // the memoized callable and dtype again
    w.Str("v");
    w.DictEnd();
    w.Array("f4", std::vector<float>{1.5f, -2.0f});
    w.PatternArray("f2", {3, 2}, 2, std::string("\x00\xbc", 2));  // −1
    w.ListEnd();
    w.Stop();
  }
  absl::StatusOr<Pickle> p = ParsePickle(out.str(), "written");
  ASSERT_TRUE(p.ok()) << p.status();
  const PickleValue root = p->root();
  ASSERT_TRUE(root.is_list());
  ASSERT_EQ(root.size(), 14u);
  EXPECT_EQ(root.item(0).AsInt(), 0);
  EXPECT_EQ(root.item(1).AsInt(), 255);
  EXPECT_EQ(root.item(2).AsInt(), 256);
  EXPECT_EQ(root.item(3).AsInt(), 65536);
  EXPECT_EQ(root.item(4).AsInt(), -7);
  EXPECT_EQ(root.item(5).AsInt(), int64_t{1} << 40);
  EXPECT_EQ(root.item(6).AsFloat(), -2.5);
  EXPECT_TRUE(root.item(7).AsBool());
  EXPECT_TRUE(root.item(8).is_none());
  EXPECT_EQ(root.item(9).AsString(), "short");
  EXPECT_EQ(root.item(10).AsString(), std::string(300, 'x'));
  const PickleValue dict = root.item(11);
  ASSERT_TRUE(dict.is_dict());
  ASSERT_EQ(dict.size(), 2u);
  EXPECT_EQ(dict.Find("k")->AsInt(), -3);
  EXPECT_EQ(dict.key(1).AsInt(), int64_t{1} << 50);
  EXPECT_EQ(dict.value(1).AsString(), "v");
  const NdArray& f4 = root.item(12).array();
  EXPECT_EQ(f4.type(), NumpyType::kFloat32);
  EXPECT_EQ(std::vector<double>(f4.ToDoubles()),
            (std::vector<double>{1.5, -2.0}));
  const NdArray& f2 = root.item(13).array();
  EXPECT_EQ(f2.type(), NumpyType::kFloat16);
  EXPECT_EQ(f2.shape(), (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(f2.ToDoubles(), std::vector<double>(6, -1.0));
}

TEST(PickleWriterTest, StreamsLargeStringsAndFlushesAsItGoes) {
  std::ostringstream out;
  PickleWriter w(&out);
  w.Proto2();
  w.ListBegin();
  for (int i = 0; i < 400000; ++i) w.Int(70000 + i);  // ~2 MB of opcodes
  EXPECT_GE(w.bytes_written(), 1 << 20);              // flushed before the end
  w.LargeString(3 << 20, "abc");
  w.ListEnd();
  w.Stop();
  w.Flush();
  EXPECT_EQ(w.bytes_written(), static_cast<int64_t>(out.str().size()));
  absl::StatusOr<Pickle> p = ParsePickle(out.str(), "large");
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->root().size(), 400001u);
  EXPECT_EQ(p->root().item(399999).AsInt(), 70000 + 399999);
  const absl::string_view s = p->root().item(400000).AsString();
  ASSERT_EQ(s.size(), size_t{3} << 20);
  EXPECT_EQ(s.substr(0, 7), "abcabca");
  EXPECT_EQ(s.substr(s.size() - 3), "abc");  // 3 MiB is a multiple of 3
}

TEST(PickleWriterTest, WritesThroughAnAtomicFileWriter) {
  const std::string path = TestTempPath("atomic.p");
  absl::StatusOr<std::unique_ptr<AtomicFileWriter>> file =
      AtomicFileWriter::Create(path);
  ASSERT_TRUE(file.ok()) << file.status();
  {
    PickleWriter w(file->get());
    w.Proto2();
    w.Str("hello");
    w.Stop();
    w.Flush();
    ASSERT_TRUE(w.status().ok()) << w.status();
  }
  ASSERT_TRUE((*file)->Commit().ok());
  absl::StatusOr<Pickle> p = ReadPickleFile(path);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->root().AsString(), "hello");
}

TEST(PickleWriterTest, AFailedStreamIsAnError) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  PickleWriter w(&out);
  EXPECT_TRUE(w.status().ok());
  w.Proto2();
  w.Flush();
  EXPECT_FALSE(w.status().ok());
}

}  // namespace
}  // namespace elm
