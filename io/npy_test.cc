// Tests of the .npy writer and reader: the header is byte for byte what
// numpy's format 1.0 prescribes (magic, version, little-endian length, the
// dict text, padding so the data starts at a multiple of 64, '\n'); arrays of
// every dtype round-trip; the streaming writer only ever leaves a complete
// file at the target; the reader accepts what numpy itself writes (the bytes
// of numpy 1.24's np.save, whose padding differs from ours, and a version 2.0
// file) and names the file and the problem on bad input.
#include "io/npy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

// The names in `dir`.
std::vector<std::string> Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A version-1.0 or 2.0 file as numpy writes it: the dict padded with spaces
// to `header_len` bytes including the final '\n'.
std::string NumpyStyleFile(int major, const std::string& dict, int header_len,
                           const std::string& data) {
  std::string out("\x93NUMPY", 6);
  out.push_back(static_cast<char>(major));
  out.push_back('\0');
  out.push_back(static_cast<char>(header_len & 0xff));
  out.push_back(static_cast<char>(header_len >> 8));
  if (major == 2) out.append(2, '\0');
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out.push_back('\n');
  return out + data;
}

TEST(NpyTest, HeaderIsExactlyNumpyFormat10) {
  absl::StatusOr<std::string> h = NpyHeader(NpyDtype::kFloat32, {2, 3});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
  ASSERT_EQ(h->size() % 64, 0u) << *h;
  ASSERT_EQ(h->size(), 128u);
  const int header_len =
      static_cast<uint8_t>((*h)[8]) | static_cast<uint8_t>((*h)[9]) << 8;
  EXPECT_EQ(10 + header_len, static_cast<int>(h->size()));
  const std::string dict =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  EXPECT_EQ(h->substr(10, dict.size()), dict);
  EXPECT_EQ(h->back(), '\n');
  // Only spaces between the dict and the '\n'.
  for (size_t i = 10 + dict.size(); i + 1 < h->size(); ++i) {
    EXPECT_EQ((*h)[i], ' ') << "at byte " << i;
  }

  // For this array the whole file is byte for byte what numpy 1.24's
  // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)) writes.
  std::string data;
  for (float v : {0.f, 1.f, 2.f, 3.f, 4.f, 5.f}) {
    data.append(reinterpret_cast<const char*>(&v), 4);
  }
  const std::string path = MakeTestDir("exact") + "/arange.npy";
  ASSERT_TRUE(
      WriteNpy<float>(path, {2, 3}, std::vector<float>{0, 1, 2, 3, 4, 5}).ok());
  EXPECT_EQ(ReadTestFile(path), NumpyStyleFile(1, dict, 118, data));
}

TEST(NpyTest, ShapesAndDescrsAsPythonWritesThem) {
  EXPECT_EQ(NpyShapeString({}), "()");
  EXPECT_EQ(NpyShapeString({5}), "(5,)");
  EXPECT_EQ(NpyShapeString({2, 3}), "(2, 3)");
  EXPECT_EQ(NpyShapeString({4, 500, 1278}), "(4, 500, 1278)");
  EXPECT_STREQ(NpyDescr(NpyDtype::kFloat32), "<f4");
  EXPECT_STREQ(NpyDescr(NpyDtype::kFloat64), "<f8");
  EXPECT_STREQ(NpyDescr(NpyDtype::kInt32), "<i4");
  EXPECT_STREQ(NpyDescr(NpyDtype::kInt64), "<i8");
  EXPECT_STREQ(NpyDescr(NpyDtype::kUint8), "|u1");
  for (auto shape : std::vector<std::vector<int64_t>>{
           {}, {7}, {8}, {123456789, 3}, {1, 2, 3, 4, 5, 6, 7, 8}}) {
    absl::StatusOr<std::string> h = NpyHeader(NpyDtype::kInt64, shape);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->size() % 64, 0u) << NpyShapeString(shape);
    EXPECT_TRUE(absl::StrContains(
        *h, absl::StrCat("'shape': ", NpyShapeString(shape), ", }")));
  }
  // The 1-element tuple needs its comma.
  EXPECT_TRUE(absl::StrContains(*NpyHeader(NpyDtype::kInt64, {8}),
                                "{'descr': '<i8', 'fortran_order': False, "
                                "'shape': (8,), }"));
  EXPECT_FALSE(NpyHeader(NpyDtype::kFloat32, {2, -1}).ok());
  EXPECT_EQ(*NpySize(NpyDtype::kFloat64, {2, 3}), 128 + 48);
  EXPECT_FALSE(
      NpySize(NpyDtype::kFloat64, {int64_t{1} << 40, int64_t{1} << 40}).ok());
}

template <typename T>
void ExpectRoundTrip(const std::string& path, const std::vector<int64_t>& shape,
                     const std::vector<T>& values) {
  SCOPED_TRACE(path);
  ASSERT_TRUE(WriteNpy<T>(path, shape, values).ok());
  absl::StatusOr<NpyArray> a = ReadNpy(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype, NpyDtypeOf<T>());
  EXPECT_EQ(a->shape, shape);
  EXPECT_EQ(a->major_version, 1);
  EXPECT_EQ(a->data_offset % 64, 0);
  EXPECT_EQ(a->values<T>(), values);
  EXPECT_EQ(static_cast<int64_t>(ReadTestFile(path).size()),
            *NpySize(NpyDtypeOf<T>(), shape));
}

TEST(NpyTest, RoundTripsEveryDtype) {
  const std::string dir = MakeTestDir("round_trip");
  ExpectRoundTrip<float>(dir + "/f4.npy", {2, 3},
                         {0.f, -1.5f, 3.25f, 1e-30f, -0.f, 7e30f});
  ExpectRoundTrip<double>(dir + "/f8.npy", {3}, {1.0 / 3, -2e300, 5e-324});
  ExpectRoundTrip<int32_t>(dir + "/i4.npy", {1, 2, 2}, {-1, 2, 1 << 30, -7});
  ExpectRoundTrip<int64_t>(dir + "/i8.npy", {2},
                           {int64_t{1} << 40, -(int64_t{1} << 62)});
  ExpectRoundTrip<uint8_t>(dir + "/u1.npy", {4}, {0, 1, 128, 255});
  ExpectRoundTrip<float>(dir + "/empty.npy", {0, 5}, {});
  ExpectRoundTrip<double>(dir + "/scalar.npy", {}, {2.5});
  // Little-endian data right after the header.
  const std::string bytes = ReadTestFile(dir + "/i4.npy");
  EXPECT_EQ(bytes.substr(128, 4), std::string("\xff\xff\xff\xff", 4));
  EXPECT_EQ(bytes.substr(132, 4), std::string("\x02\x00\x00\x00", 4));
  EXPECT_EQ(bytes.substr(136, 4), std::string("\x00\x00\x00\x40", 4));
  EXPECT_FALSE(WriteNpy<float>(dir + "/bad.npy", {2, 2}, {1.f}).ok());
}

TEST(NpyTest, StreamingWriterOnlyLeavesCompleteFiles) {
  const std::string dir = MakeTestDir("stream");
  const std::string path = dir + "/x.npy";
  WriteTestFile(path, "old");
  {
    absl::StatusOr<std::unique_ptr<NpyWriter>> w =
        NpyWriter::Create(path, NpyDtype::kFloat32, {3, 2});
    ASSERT_TRUE(w.ok()) << w.status();
    const std::vector<float> row = {1, 2};
    ASSERT_TRUE((*w)->Append<float>(row).ok());
    ASSERT_TRUE((*w)->Append<float>(row).ok());
    // Not committed yet: the old file is still there, and a temporary.
    EXPECT_EQ(ReadTestFile(path), "old");
    EXPECT_EQ(Listing(dir).size(), 2u);
    // The wrong dtype and too many elements are refused.
    const std::vector<int64_t> ints = {1, 2};
    EXPECT_FALSE((*w)->Append<int64_t>(ints).ok());
    const std::vector<float> four = {1, 2, 3, 4};
    absl::Status over = (*w)->Append<float>(four);
    EXPECT_FALSE(over.ok());
    EXPECT_TRUE(absl::StrContains(over.message(), path)) << over;
    ASSERT_TRUE((*w)->Append<float>(row).ok());
    ASSERT_TRUE((*w)->Commit().ok());
    EXPECT_FALSE((*w)->Commit().ok());
  }
  EXPECT_EQ(Listing(dir), std::vector<std::string>{"x.npy"});
  absl::StatusOr<NpyArray> a = ReadNpy(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->values<float>(), (std::vector<float>{1, 2, 1, 2, 1, 2}));

  // Abandoned (destroyed without Commit) and short (Commit before the last
  // element): the target stays as it was and no temporary is left.
  {
    auto w = NpyWriter::Create(path, NpyDtype::kFloat32, {2});
    ASSERT_TRUE(w.ok());
    const std::vector<float> one = {9};
    ASSERT_TRUE((*w)->Append<float>(one).ok());
  }
  {
    auto w = NpyWriter::Create(path, NpyDtype::kFloat32, {2});
    ASSERT_TRUE(w.ok());
    const std::vector<float> one = {9};
    ASSERT_TRUE((*w)->Append<float>(one).ok());
    absl::Status short_commit = (*w)->Commit();
    EXPECT_FALSE(short_commit.ok());
    EXPECT_TRUE(absl::StrContains(short_commit.message(), "1 of the 2"))
        << short_commit;
  }
  EXPECT_EQ(Listing(dir), std::vector<std::string>{"x.npy"});
  EXPECT_EQ(ReadNpy(path)->values<float>(),
            (std::vector<float>{1, 2, 1, 2, 1, 2}));

  absl::StatusOr<std::unique_ptr<NpyWriter>> nowhere =
      NpyWriter::Create(dir + "/no/such/dir/x.npy", NpyDtype::kFloat32, {1});
  ASSERT_FALSE(nowhere.ok());
  EXPECT_TRUE(absl::StrContains(nowhere.status().message(), "/no/such/dir"))
      << nowhere.status();
}

TEST(NpyTest, ReadsWhatNumpyWrites) {
  const std::string dir = MakeTestDir("numpy");
  // np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)) with numpy
  // 1.24, which pads the header to 128 bytes.
  std::string data;
  for (float v : {0.f, 1.f, 2.f, 3.f, 4.f, 5.f}) {
    data.append(reinterpret_cast<const char*>(&v), 4);
  }
  WriteTestFile(
      dir + "/v1.npy",
      NumpyStyleFile(
          1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 118,
          data));
  absl::StatusOr<NpyArray> a = ReadNpy(dir + "/v1.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->data_offset, 128);
  EXPECT_EQ(a->values<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5}));

  // np.lib.format.write_array(f, np.array([-1, 2**40]), version=(2, 0)).
  std::string ints;
  for (int64_t v : {int64_t{-1}, int64_t{1} << 40}) {
    ints.append(reinterpret_cast<const char*>(&v), 8);
  }
  WriteTestFile(
      dir + "/v2.npy",
      NumpyStyleFile(
          2, "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", 116,
          ints));
  a = ReadNpy(dir + "/v2.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->major_version, 2);
  EXPECT_EQ(a->values<int64_t>(), (std::vector<int64_t>{-1, int64_t{1} << 40}));
}

TEST(NpyTest, ReaderErrorsNameTheFileAndProblem) {
  const std::string dir = MakeTestDir("errors");
  auto expect_error = [&](const std::string& name, const std::string& bytes,
                          const std::string& problem) {
    SCOPED_TRACE(name);
    const std::string path = dir + "/" + name;
    WriteTestFile(path, bytes);
    absl::StatusOr<NpyArray> a = ReadNpy(path);
    ASSERT_FALSE(a.ok());
    EXPECT_TRUE(absl::StrContains(a.status().message(), path)) << a.status();
    EXPECT_TRUE(absl::StrContains(a.status().message(), problem)) << a.status();
  };
  const std::string f4 =
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string eight(8, '\0');
  expect_error("text.npy", "hello, world", "no \\x93NUMPY magic");
  expect_error("short.npy", NumpyStyleFile(1, f4, 118, std::string(7, '\0')),
               "holds 7 bytes of data");
  expect_error("long.npy", NumpyStyleFile(1, f4, 118, std::string(9, '\0')),
               "holds 9 bytes of data");
  expect_error(
      "fortran.npy",
      NumpyStyleFile(1,
                     "{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                     118, eight),
      "Fortran");
  expect_error(
      "bigendian.npy",
      NumpyStyleFile(
          1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 118,
          eight),
      "'>f4' is not supported");
  expect_error("noshape.npy",
               NumpyStyleFile(1, "{'descr': '<f4', 'fortran_order': False, }",
                              118, eight),
               "lacks one of");
  expect_error(
      "garbled.npy",
      NumpyStyleFile(1, "{'descr': '<f4', 'shape': [2], }", 118, eight),
      "'shape' is not a tuple");
  std::string v9 = NumpyStyleFile(1, f4, 118, eight);
  v9[6] = 9;
  expect_error("v9.npy", v9, "version 9.0");
  std::string cut = NumpyStyleFile(1, f4, 118, eight).substr(0, 40);
  expect_error("cut.npy", cut, "runs past the end");
  absl::StatusOr<NpyArray> missing = ReadNpy(dir + "/missing.npy");
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.status().message(), "missing.npy"));
}

}  // namespace
}  // namespace elm
