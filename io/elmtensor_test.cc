// Tests the ELMTENSOR v1 reader and writer: hand-written files (dense, sparse,
// scalar, empty, special values), every error path, round trips, and (when
// ../shared is present) every golden file in golden/optim/ and golden/tiny/,
// plus the sparse NeuronIO input.
#include "io/elmtensor.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/shared_data.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace {

constexpr char kSource[] = "test.txt";

// The golden folder in the runfiles, or "" (with the path looked at in
// *missing).

ElmTensorFile ParseOk(const std::string& text) {
  absl::StatusOr<ElmTensorFile> file = ParseElmTensorText(text, kSource);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *std::move(file) : ElmTensorFile();
}

// Expects `text` to fail with InvalidArgument at `line` with `problem` in the
// message.
void ExpectParseError(const std::string& text, int line,
                      const std::string& problem) {
  absl::StatusOr<ElmTensorFile> file = ParseElmTensorText(text, kSource);
  ASSERT_FALSE(file.ok()) << "parsed:\n" << text;
  EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(file.status().message());
  EXPECT_TRUE(absl::StartsWith(message, absl::StrCat(kSource, ":", line, ": ")))
      << message;
  EXPECT_TRUE(absl::StrContains(message, problem))
      << message << "\nshould contain: " << problem;
}

bool SameBits(double a, double b) {
  return std::memcmp(&a, &b, sizeof(double)) == 0;
}

TEST(ElmTensorTest, ParsesDenseBlocksSplitOverLines) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "# first comment\n"
      "#second\n"
      "tensor a f64 2 2 3\n"
      "1 2\n"
      "3 4 5\n"
      "\n"
      "# a comment inside the values\n"
      "6\n"
      "tensor b f32 1 4\n"
      "0.1 -2.5 1e-3 3\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 2);
  EXPECT_EQ(file.comments,
            (std::vector<std::string>{" first comment", "second",
                                      " a comment inside the values"}));
  const NamedTensor& a = file.tensors[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.dtype, "f64");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a.values, (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(a.int_values.empty());
  EXPECT_FALSE(a.sparse);
  EXPECT_EQ(a.num_elements(), 6);
  EXPECT_TRUE(a.is_floating());
  const NamedTensor& b = file.tensors[1];
  EXPECT_EQ(b.dtype, "f32");
  ASSERT_EQ(b.values.size(), 4);
  // f32 values are the float strtof returns, widened exactly.
  EXPECT_TRUE(SameBits(b.values[0], static_cast<double>(0.1f)));
  EXPECT_NE(b.values[0], 0.1);
  EXPECT_TRUE(SameBits(b.values[2], static_cast<double>(1e-3f)));
  EXPECT_EQ(b.values[3], 3.0);
}

TEST(ElmTensorTest, ParsesF64Exactly) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "tensor x f64 1 3\n"
      "0.10000000000000001 -1.1143440212610307 4.9406564584124654e-324\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 1);
  EXPECT_TRUE(SameBits(file.tensors[0].values[0], 0.1));
  EXPECT_TRUE(SameBits(file.tensors[0].values[1], -1.1143440212610307));
  EXPECT_TRUE(SameBits(file.tensors[0].values[2],
                       std::numeric_limits<double>::denorm_min()));
}

TEST(ElmTensorTest, ParsesScalarsAndEmptyTensors) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "tensor loss f32 0 \n"  // trailing space, as in the golden files
      "2.5\n"
      "tensor empty f32 1 0\n"
      "tensor empty2 f64 3 2 0 4\n"
      "tensor ints i64 0\n"
      "-7\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 4);
  EXPECT_TRUE(file.tensors[0].shape.empty());
  EXPECT_EQ(file.tensors[0].num_elements(), 1);
  EXPECT_EQ(file.tensors[0].values, std::vector<double>{2.5});
  EXPECT_EQ(file.tensors[1].shape, std::vector<int64_t>{0});
  EXPECT_TRUE(file.tensors[1].values.empty());
  EXPECT_EQ(file.tensors[2].shape, (std::vector<int64_t>{2, 0, 4}));
  EXPECT_EQ(file.tensors[2].num_elements(), 0);
  EXPECT_TRUE(file.tensors[2].values.empty());
  EXPECT_EQ(file.tensors[3].int_values, std::vector<int64_t>{-7});
}

TEST(ElmTensorTest, ParsesInfNanAndNegativeZero) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "tensor f f32 1 5\n"
      "inf -inf nan -0 0\n"
      "tensor d f64 1 4\n"
      "inf -inf nan -0\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 2);
  for (const NamedTensor& t : file.tensors) {
    EXPECT_TRUE(std::isinf(t.values[0]) && t.values[0] > 0) << t.name;
    EXPECT_TRUE(std::isinf(t.values[1]) && t.values[1] < 0) << t.name;
    EXPECT_TRUE(std::isnan(t.values[2])) << t.name;
    EXPECT_EQ(t.values[3], 0.0) << t.name;
    EXPECT_TRUE(std::signbit(t.values[3])) << t.name;
  }
  EXPECT_FALSE(std::signbit(file.tensors[0].values[4]));
}

TEST(ElmTensorTest, ParsesIntegerAndBoolTensors) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "tensor idx i64 1 4\n"
      "0 -3 9223372036854775807 -9223372036854775808\n"
      "tensor mask bool 2 2 2\n"
      "1 0 0 1\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 2);
  EXPECT_EQ(file.tensors[0].int_values,
            (std::vector<int64_t>{0, -3, std::numeric_limits<int64_t>::max(),
                                  std::numeric_limits<int64_t>::min()}));
  EXPECT_TRUE(file.tensors[0].values.empty());
  EXPECT_FALSE(file.tensors[0].is_floating());
  EXPECT_EQ(file.tensors[1].int_values, (std::vector<int64_t>{1, 0, 0, 1}));
}

TEST(ElmTensorTest, ParsesSparseBlocks) {
  const ElmTensorFile file = ParseOk(
      "#ELMTENSOR v1\n"
      "sparse x f32 2 2 3 3\n"
      "0 1 1.5\n"
      "1 2 -1\n"
      "1 0 -0\n"
      "sparse s f64 0 1\n"
      "4.25\n"
      "sparse none i64 1 3 0\n"
      "sparse m bool 1 3 1\n"
      "2 1\n"
      "end\n");
  ASSERT_EQ(file.tensors.size(), 4);
  const NamedTensor& x = file.tensors[0];
  EXPECT_TRUE(x.sparse);
  EXPECT_EQ(x.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(x.values, (std::vector<double>{0, 1.5, 0, 0, 0, -1}));
  EXPECT_TRUE(std::signbit(x.values[3]));   // listed -0
  EXPECT_FALSE(std::signbit(x.values[0]));  // not listed: +0
  EXPECT_EQ(file.tensors[1].values, std::vector<double>{4.25});
  EXPECT_EQ(file.tensors[2].int_values, (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(file.tensors[3].int_values, (std::vector<int64_t>{0, 0, 1}));
}

TEST(ElmTensorTest, AcceptsCrLfLineEndingsAndNoFinalNewline) {
  const ElmTensorFile file =
      ParseOk("#ELMTENSOR v1\r\n# c\r\ntensor a f64 1 2\r\n1 2\r\nend");
  ASSERT_EQ(file.tensors.size(), 1);
  EXPECT_EQ(file.tensors[0].values, (std::vector<double>{1, 2}));
  EXPECT_EQ(file.comments, std::vector<std::string>{" c"});
}

TEST(ElmTensorTest, FindsTensorsByName) {
  const ElmTensorFile file =
      ParseOk("#ELMTENSOR v1\ntensor a f64 0\n1\ntensor b f64 0\n2\nend\n");
  ASSERT_NE(file.FindOrNull("b"), nullptr);
  EXPECT_EQ(file.FindOrNull("b")->values[0], 2.0);
  EXPECT_EQ(file.FindOrNull("c"), nullptr);
  absl::StatusOr<const NamedTensor*> a = file.Find("a");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)->values[0], 1.0);
  absl::StatusOr<const NamedTensor*> c = file.Find("c");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(c.status().message(), "'c'"));
}

TEST(ElmTensorTest, ReportsHeaderErrors) {
  ExpectParseError("", 1, "file is empty; expected the first line");
  ExpectParseError("#ELMTENSOR v2\nend\n", 1,
                   "bad header '#ELMTENSOR v2'; expected the first line "
                   "'#ELMTENSOR v1'");
  ExpectParseError("tensor a f64 0\n1\nend\n", 1, "bad header");
  ExpectParseError("#ELMTENSOR v1\nmatrix a f64 0\n1\nend\n", 2,
                   "expected a 'tensor', 'sparse' or 'end' line, found "
                   "'matrix'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64\nend\n", 2,
                   "incomplete tensor header");
  ExpectParseError("#ELMTENSOR v1\ntensor a f16 1 2\n1 2\nend\n", 2,
                   "unknown dtype 'f16' for tensor 'a'; expected f32, f64, "
                   "i64 or bool");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 -1\nend\n", 2, "bad ndim '-1'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 x 2\nend\n", 2, "bad ndim 'x'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 2 3\n1 2 3\nend\n", 2,
                   "has 1 fields after ndim=2; expected 2 dims");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3 4\n1 2 3\nend\n", 2,
                   "has 2 fields after ndim=1; expected 1 dims");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 2 3 -4\nend\n", 2,
                   "bad dim 1 '-4' of tensor 'a'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 2 3 2.5\nend\n", 2,
                   "bad dim 1 '2.5'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 3 100000 100000 100000\nend\n",
                   2, "tensor 'a' is too large");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 0\n1\ntensor a f64 0\n2\nend\n",
                   4, "duplicate tensor name 'a' (first defined at line 2)");
}

TEST(ElmTensorTest, RefusesShapesTheFileCannotHoldBeforeAllocating) {
  // The 50-byte file of issue 18 declared 2.5e9 bytes of values; it must fail
  // at its header, not after allocating them.
  ExpectParseError("#ELMTENSOR v1\ntensor X f32 2 1000000 1278\n1 2\nend\n", 2,
                   "tensor 'X' (f32 [1000000, 1278]) declares 1278000000 "
                   "values but the file has only 8 bytes after this line");
  ExpectParseError("#ELMTENSOR v1\nsparse X f32 2 1000 1278 1000\n0 0 1\nend\n",
                   2,
                   "sparse tensor 'X' (f32 [1000, 1278]) declares nnz=1000 but "
                   "the file has only 10 bytes after this line");
  ExpectParseError("#ELMTENSOR v1\nsparse X f32 2 1000000 1278 0\nend\n", 2,
                   "sparse tensor 'X' is too large; expected a dense size of "
                   "at most 268435456 elements");
  // The tightest files still parse: one digit and one separator per value.
  EXPECT_EQ(ParseOk("#ELMTENSOR v1\ntensor a f64 1 3\n1 2 3\nend")
                .tensors[0]
                .values.size(),
            3u);
  EXPECT_EQ(ParseOk("#ELMTENSOR v1\nsparse a f64 1 3 2\n0 1\n2 3\nend")
                .tensors[0]
                .values[2],
            3.0);
}

TEST(ElmTensorTest, ReportsValueErrors) {
  // Too few values: the next header comes early.
  ExpectParseError(
      "#ELMTENSOR v1\ntensor a f64 2 3 4\n1 2 3 4 5 6 7 8\n9 10\n"
      "tensor b f64 0\n1\nend\n",
      5,
      "tensor 'a' (f64 [3, 4]) needs 12 values but only 10 come before this "
      "line; expected 2 more values");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3\n1 2\nend\n", 4,
                   "needs 3 values but only 2 come before this line");
  // Too many values.
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3\n1 2\n3 4\nend\n", 4,
                   "too many values for tensor 'a' (f64 [3]): this line has 2 "
                   "values but only 1 are still expected (3 in total)");
  ExpectParseError("#ELMTENSOR v1\ntensor a f32 0\n1 2\nend\n", 3,
                   "too many values");
  // Bad tokens.
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 2\n1 x2\nend\n", 3,
                   "bad f64 value 'x2' in tensor 'a'; expected a number");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 2\n1 2.5.1\nend\n", 3,
                   "bad f64 value '2.5.1'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f32 1 2\n1 1e39\nend\n", 3,
                   "bad f32 value '1e39'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 1\n1e309\nend\n", 3,
                   "bad f64 value '1e309'");
  ExpectParseError("#ELMTENSOR v1\ntensor a i64 1 2\n1 1.5\nend\n", 3,
                   "bad i64 value '1.5' in tensor 'a'; expected a decimal "
                   "integer");
  ExpectParseError(
      "#ELMTENSOR v1\ntensor a i64 1 1\n9223372036854775808\nend\n", 3,
      "bad i64 value");
  ExpectParseError("#ELMTENSOR v1\ntensor a bool 1 2\n1 2\nend\n", 3,
                   "bad bool value '2' in tensor 'a'; expected 0 or 1");
}

TEST(ElmTensorTest, ReportsSparseErrors) {
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 1 3\nend\n", 2,
                   "has 1 fields after ndim=1; expected 1 dims and nnz");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 1 3 x\nend\n", 2,
                   "bad nnz 'x' of sparse tensor 'a'");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 1 3 4\nend\n", 2,
                   "declares nnz=4 but has only 3 elements");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 2 2 2 1\n0 1\nend\n", 3,
                   "sparse entry of tensor 'a' has 2 fields; expected 2 "
                   "indices and a value");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 2 2 2 1\n0 2 1.0\nend\n", 3,
                   "bad index '2' for dim 1 of sparse tensor 'a' (f64 [2, 2]); "
                   "expected an integer in [0, 2)");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 2 2 2 1\n-1 0 1.0\nend\n", 3,
                   "bad index '-1' for dim 0");
  ExpectParseError(
      "#ELMTENSOR v1\nsparse a f64 2 2 2 2\n1 1 1.0\n1 1 2.0\nend\n", 4,
      "duplicate entry for element 1 1 of sparse tensor 'a'");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 1 4 3\n0 1\n1 2\nend\n", 5,
                   "sparse tensor 'a' (f64 [4]) declares nnz=3 but only 2 "
                   "entries come before this line; expected 1 more entry "
                   "lines");
  ExpectParseError("#ELMTENSOR v1\nsparse a bool 1 4 1\n0 3\nend\n", 3,
                   "bad bool value '3'");
}

TEST(ElmTensorTest, ReportsTruncationAndMissingEnd) {
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3\n1 2 3\n", 3,
                   "file ends without the 'end' line; expected a 'tensor', "
                   "'sparse' or 'end' line");
  ExpectParseError("#ELMTENSOR v1\n", 1, "file ends without the 'end' line");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3\n1 2\n", 3,
                   "file ends inside tensor 'a' (f64 [3]): found 2 of 3 "
                   "values; expected 1 more values and then 'end'");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 1 3\n", 2,
                   "tensor 'a' (f64 [3]) declares 3 values but the file has "
                   "only 0 bytes after this line");
  ExpectParseError("#ELMTENSOR v1\nsparse a f64 1 3 2\n0 1\n# c\n", 4,
                   "file ends inside sparse tensor 'a' (f64 [3]): found 1 of 2 "
                   "entries");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 0\n1\nend\ntensor b f64 0\n", 5,
                   "unexpected content after the 'end' line");
  ExpectParseError("#ELMTENSOR v1\ntensor a f64 0\n1\nend now\n", 4,
                   "unexpected text after 'end'");
  // Comments and blank lines after 'end' are fine.
  ParseOk("#ELMTENSOR v1\ntensor a f64 0\n1\nend\n\n# trailer\n");
}

TEST(ElmTensorTest, ReportsMissingAndUnreadableFiles) {
  const std::string path = TestTempPath("does_not_exist.txt");
  absl::StatusOr<ElmTensorFile> file = ReadElmTensorFile(path);
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(file.status().message(),
                                absl::StrCat(path, ": cannot open file")))
      << file.status();

  const std::string dir = TestTempPath("");
  file = ReadElmTensorFile(dir);
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::StrContains(file.status().message(), dir)) << file.status();
}

TEST(ElmTensorTest, ReadErrorsNameTheFile) {
  const std::string path = TestTempPath("truncated.txt");
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("#ELMTENSOR v1\ntensor a f64 1 3\n1 2\n", f);
  std::fclose(f);
  absl::StatusOr<ElmTensorFile> read = ReadElmTensorFile(path);
  ASSERT_FALSE(read.ok());
  EXPECT_TRUE(absl::StartsWith(read.status().message(), path + ":3: "))
      << read.status();
}

ElmTensorFile MakeSampleFile() {
  ElmTensorFile file;
  file.comments = {" sample", "no space", ""};
  NamedTensor f32{"w.f32", "f32", {2, 5}, {}, {}};
  for (int i = 0; i < 10; ++i) {
    f32.values.push_back(static_cast<double>(
        static_cast<float>(std::sin(1.0 + i) * std::pow(10.0, i - 5))));
  }
  f32.values[3] = std::numeric_limits<double>::infinity();
  f32.values[4] = -0.0;
  f32.values[5] = static_cast<double>(std::numeric_limits<float>::denorm_min());
  f32.values[6] = static_cast<double>(std::numeric_limits<float>::max());
  file.tensors.push_back(f32);
  NamedTensor f64{"x.f64", "f64", {3, 3, 1}, {}, {}};
  for (int i = 0; i < 9; ++i) {
    f64.values.push_back(std::cos(0.3 + i) * std::pow(10.0, 3 * i - 12));
  }
  f64.values[0] = std::numeric_limits<double>::quiet_NaN();
  f64.values[1] = -std::numeric_limits<double>::infinity();
  f64.values[2] = std::numeric_limits<double>::denorm_min();
  f64.values[3] = 0.1;
  file.tensors.push_back(f64);
  file.tensors.push_back(NamedTensor{"scalar", "f64", {}, {-2.0 / 3.0}, {}});
  file.tensors.push_back(NamedTensor{"empty", "f32", {0}, {}, {}});
  file.tensors.push_back(NamedTensor{
      "idx", "i64", {3}, {}, {-5, 0, std::numeric_limits<int64_t>::max()}});
  file.tensors.push_back(NamedTensor{"mask", "bool", {2, 2}, {}, {1, 0, 0, 1}});
  NamedTensor sparse{"sp", "f64", {2, 3}, {0, 1.0 / 3.0, 0, -0.0, 0, 5}, {}};
  sparse.sparse = true;
  file.tensors.push_back(sparse);
  NamedTensor sparse_int{"spi", "i64", {4}, {}, {0, 0, -9, 0}};
  sparse_int.sparse = true;
  file.tensors.push_back(sparse_int);
  NamedTensor sparse_scalar{"sps", "f32", {}, {0.0}, {}};
  sparse_scalar.sparse = true;
  file.tensors.push_back(sparse_scalar);
  return file;
}

void ExpectSameFile(const ElmTensorFile& a, const ElmTensorFile& b) {
  EXPECT_EQ(a.comments, b.comments);
  ASSERT_EQ(a.tensors.size(), b.tensors.size());
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    const NamedTensor& x = a.tensors[t];
    const NamedTensor& y = b.tensors[t];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.dtype, y.dtype);
    EXPECT_EQ(x.shape, y.shape);
    EXPECT_EQ(x.sparse, y.sparse);
    EXPECT_EQ(x.int_values, y.int_values);
    ASSERT_EQ(x.values.size(), y.values.size());
    for (size_t i = 0; i < x.values.size(); ++i) {
      if (std::isnan(x.values[i])) {
        EXPECT_TRUE(std::isnan(y.values[i])) << i;
      } else {
        EXPECT_TRUE(SameBits(x.values[i], y.values[i]))
            << i << ": " << x.values[i] << " vs " << y.values[i];
      }
    }
  }
}

TEST(ElmTensorTest, RoundTripsThroughAFile) {
  const ElmTensorFile original = MakeSampleFile();
  const std::string path = TestTempPath("round_trip.txt");
  ASSERT_TRUE(WriteElmTensorFile(path, original).ok());
  absl::StatusOr<ElmTensorFile> read = ReadElmTensorFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectSameFile(original, *read);
}

TEST(ElmTensorTest, FormatsTheDocumentedLayout) {
  ElmTensorFile file;
  file.comments = {" hi"};
  file.tensors.push_back(
      NamedTensor{"a", "f64", {9}, {0.1, 1, 2, 3, 4, 5, 6, 7, -0.0}, {}});
  file.tensors.push_back(NamedTensor{"b", "f32", {}, {0.1f}, {}});
  NamedTensor s{"s", "f32", {2, 2}, {0, 1.5, 0, 0}, {}};
  s.sparse = true;
  file.tensors.push_back(s);
  file.tensors.push_back(NamedTensor{
      "n", "f64", {2}, {-std::numeric_limits<double>::quiet_NaN(), 1}, {}});
  absl::StatusOr<std::string> text = FormatElmTensorText(file);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "#ELMTENSOR v1\n"
            "# hi\n"
            "tensor a f64 1 9\n"
            "0.10000000000000001 1 2 3 4 5 6 7\n"
            "-0\n"
            "tensor b f32 0\n"
            "0.100000001\n"
            "sparse s f32 2 2 2 1\n"
            "0 1 1.5\n"
            "tensor n f64 1 2\n"
            "nan 1\n"
            "end\n");
}

TEST(ElmTensorTest, WriterRejectsInconsistentTensors) {
  const auto expect_error = [](const NamedTensor& tensor,
                               const std::string& problem) {
    ElmTensorFile file;
    file.tensors.push_back(tensor);
    absl::StatusOr<std::string> text = FormatElmTensorText(file);
    ASSERT_FALSE(text.ok()) << tensor.name;
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(text.status().message(), problem))
        << text.status();
  };
  expect_error(NamedTensor{"a", "f64", {3}, {1, 2}, {}},
               "tensor 'a' (f64 [3]) has 2 values and 0 int_values; expected "
               "3 and 0");
  expect_error(NamedTensor{"a", "i64", {2}, {1, 2}, {}},
               "has 0 int_values and 2 values");
  expect_error(NamedTensor{"a", "f16", {1}, {1}, {}}, "unknown dtype 'f16'");
  expect_error(NamedTensor{"a b", "f64", {1}, {1}, {}},
               "the name contains whitespace");
  expect_error(NamedTensor{"", "f64", {1}, {1}, {}}, "empty name");
  expect_error(NamedTensor{"a", "f64", {-1}, {}, {}}, "negative dim");
  expect_error(NamedTensor{"m", "bool", {2}, {}, {1, 2}},
               "tensor 'm': bool value 2; expected 0 or 1");

  ElmTensorFile file;
  file.comments = {"two\nlines"};
  EXPECT_FALSE(FormatElmTensorText(file).ok());
  const absl::Status status =
      WriteElmTensorFile(TestTempPath("no/such/dir/x.txt"), ElmTensorFile());
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(absl::StrContains(status.message(), "no/such/dir/x.txt"))
      << status;
}

// ---------------------------------------------------------------------------
// Golden files (../shared/golden, through @shared//:golden).

class ElmTensorGoldenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    dir_ = FindSharedPath("golden", &missing);
    if (dir_.empty()) GTEST_SKIP() << "missing " << missing;
  }

  ElmTensorFile Read(const std::string& relative) {
    absl::StatusOr<ElmTensorFile> file =
        ReadElmTensorFile(absl::StrCat(dir_, "/", relative));
    EXPECT_TRUE(file.ok()) << file.status();
    return file.ok() ? *std::move(file) : ElmTensorFile();
  }

  std::vector<std::string> TxtFiles(const std::string& subdir) {
    std::vector<std::string> names;
    for (const auto& entry :
         std::filesystem::directory_iterator(absl::StrCat(dir_, "/", subdir))) {
      const std::string name = entry.path().filename().string();
      if (absl::EndsWith(name, ".txt")) names.push_back(subdir + "/" + name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  std::string dir_;
};

TEST_F(ElmTensorGoldenTest, ParsesEveryOptimizerTrace) {
  const std::vector<std::string> files = TxtFiles("optim");
  EXPECT_EQ(files.size(), 5);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const ElmTensorFile file = Read(name);
    ASSERT_EQ(file.tensors.size(), 1 + 6 * 3);
    ASSERT_GE(file.comments.size(), 2);
    EXPECT_TRUE(absl::StrContains(file.comments[0], "float64"));
    const NamedTensor* initial = file.FindOrNull("param.initial");
    ASSERT_NE(initial, nullptr);
    EXPECT_EQ(initial->dtype, "f64");
    EXPECT_EQ(initial->shape, (std::vector<int64_t>{3, 4}));
    EXPECT_EQ(initial->values.size(), 12);
    for (int k = 0; k < 6; ++k) {
      const NamedTensor* lr = file.FindOrNull(absl::StrCat("step", k, ".lr"));
      ASSERT_NE(lr, nullptr) << k;
      EXPECT_TRUE(lr->shape.empty());
      EXPECT_GT(lr->values[0], 0.0);
      for (const char* what : {".grad", ".param_after"}) {
        const NamedTensor* t = file.FindOrNull(absl::StrCat("step", k, what));
        ASSERT_NE(t, nullptr) << k << what;
        EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 4}));
      }
    }
    // Round trip: formatting and re-parsing gives the same bits.
    absl::StatusOr<std::string> text = FormatElmTensorText(file);
    ASSERT_TRUE(text.ok()) << text.status();
    absl::StatusOr<ElmTensorFile> again = ParseElmTensorText(*text, name);
    ASSERT_TRUE(again.ok()) << again.status();
    ExpectSameFile(file, *again);
  }
  // A value spot check (the first entry of adam.txt's param.initial).
  const ElmTensorFile adam = Read("optim/adam.txt");
  ASSERT_NE(adam.FindOrNull("param.initial"), nullptr);
  EXPECT_TRUE(SameBits(adam.FindOrNull("param.initial")->values[0],
                       -0.1467950974849952));
}

TEST_F(ElmTensorGoldenTest, ParsesTinyModels) {
  const std::vector<std::string> files = TxtFiles("tiny");
  EXPECT_EQ(files.size(), 7);
  for (const std::string& name : files) {
    SCOPED_TRACE(name);
    const ElmTensorFile file = Read(name);
    ASSERT_NE(file.FindOrNull("input.X"), nullptr);
    EXPECT_EQ(file.FindOrNull("input.X")->shape,
              (std::vector<int64_t>{2, 30, 6}));
    ASSERT_NE(file.FindOrNull("f64.loss"), nullptr);
    EXPECT_TRUE(file.FindOrNull("f64.loss")->shape.empty());
  }

  const ElmTensorFile v1 = Read("tiny/tiny_v1.txt");
  const auto shape_of = [&v1](const std::string& name) {
    const NamedTensor* t = v1.FindOrNull(name);
    EXPECT_NE(t, nullptr) << name;
    return t == nullptr ? std::vector<int64_t>{-1} : t->shape;
  };
  EXPECT_EQ(v1.tensors.size(), 42);
  EXPECT_EQ(shape_of("param._proto_w_s"), std::vector<int64_t>{6});
  EXPECT_EQ(shape_of("param.mlp.network.0.weight"),
            (std::vector<int64_t>{8, 10}));
  EXPECT_EQ(shape_of("param.w_y.weight"), (std::vector<int64_t>{2, 4}));
  EXPECT_EQ(shape_of("f32.forward"), (std::vector<int64_t>{2, 30, 2}));
  EXPECT_EQ(shape_of("f64.grad.X"), (std::vector<int64_t>{2, 30, 6}));
  EXPECT_EQ(shape_of("f32.loss"), std::vector<int64_t>{});
  // The unused routing tensors are empty f32 tensors of shape (0).
  const NamedTensor* indices = v1.FindOrNull("param.input_to_synapse_indices");
  ASSERT_NE(indices, nullptr);
  EXPECT_EQ(indices->dtype, "f32");
  EXPECT_EQ(indices->shape, std::vector<int64_t>{0});
  EXPECT_TRUE(indices->values.empty());
  // tau_s is 5 everywhere.
  for (double v : v1.FindOrNull("param.tau_s")->values) EXPECT_EQ(v, 5.0);

  // tiny_v1_misc: the last _proto_tau_m is +inf.
  const ElmTensorFile misc = Read("tiny/tiny_v1_misc.txt");
  const NamedTensor* tau = misc.FindOrNull("param._proto_tau_m");
  ASSERT_NE(tau, nullptr);
  ASSERT_FALSE(tau->values.empty());
  EXPECT_TRUE(std::isinf(tau->values.back()) && tau->values.back() > 0);
}

TEST_F(ElmTensorGoldenTest, ParsesSparseNeuronIoInput) {
  const ElmTensorFile file = Read("trained/neuronio_input_B2_T50.txt");
  const NamedTensor* x = file.FindOrNull("X");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->sparse);
  ASSERT_EQ(x->shape, (std::vector<int64_t>{2, 50, 1278}));
  int64_t nonzeros = 0;
  int64_t mismatches = 0;
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 50; ++t) {
      for (int64_t i = 0; i < 1278; ++i) {
        const double sign = i < 639 ? 1.0 : -1.0;
        const bool on = (1009 * b + 31 * t + 17 * i + (t * i) % 13) % 89 == 0;
        const double expected = on ? sign : 0.0;
        const double got = x->values[(b * 50 + t) * 1278 + i];
        nonzeros += got != 0.0 ? 1 : 0;
        mismatches += got != expected ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(nonzeros, 1437);
  EXPECT_EQ(mismatches, 0);
}

}  // namespace
}  // namespace elm
