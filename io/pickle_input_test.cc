// Tests the pickle reader's input in memory and over a file larger than its
// buffer: Ensure across refills, Skip, ReadAt and ReadLine, and Open's errors.
#include "io/pickle_input.h"

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/test_files.h"
#include "gtest/gtest.h"

namespace elm {
namespace pickle_internal {
namespace {

// 3 MiB of a pattern with a line break every 1000 bytes.
std::string Pattern() {
  std::string s(3 * kFileBufferBytes, '\0');
  for (size_t i = 0; i < s.size(); ++i) {
    s[i] = i % 1000 == 999 ? '\n' : static_cast<char>('a' + i % 26);
  }
  return s;
}

std::unique_ptr<Input> OpenFile(const std::string& contents, bool map = true) {
  const std::string path = TestTempPath("input.bin");
  WriteTestFile(path, contents);
  absl::StatusOr<std::unique_ptr<Input>> input = Input::Open(path, map);
  EXPECT_TRUE(input.ok()) << input.status();
  if (input.ok()) {
    EXPECT_EQ((*input)->mapped(), map && !contents.empty());
  }
  return input.ok() ? std::move(*input) : nullptr;
}

// The same reads give the same bytes from memory and from the file.
void ExerciseInput(Input& in, const std::string& data) {
  EXPECT_EQ(in.size(), static_cast<int64_t>(data.size()));
  ASSERT_TRUE(in.Ensure(10));
  EXPECT_EQ(std::string(in.cur(), 10), data.substr(0, 10));
  in.Advance(10);
  absl::string_view line;
  ASSERT_EQ(in.ReadLine(&line), Input::Line::kOk);
  EXPECT_EQ(line, data.substr(10, 989));
  EXPECT_EQ(in.offset(), 1000);
  // Past the first buffer.
  ASSERT_TRUE(in.Skip(kFileBufferBytes + 500));
  const int64_t at = in.offset();
  EXPECT_EQ(at, 1000 + static_cast<int64_t>(kFileBufferBytes) + 500);
  ASSERT_TRUE(in.Ensure(kFileBufferBytes));
  EXPECT_EQ(std::string(in.cur(), 100), data.substr(at, 100));
  in.Advance(100);
  // Back to bytes already passed.
  std::string back(2000, '\0');
  ASSERT_TRUE(in.ReadAt(5, back.size(), back.data()));
  EXPECT_EQ(back, data.substr(5, 2000));
  EXPECT_EQ(in.remaining(), static_cast<int64_t>(data.size()) - at - 100);
  // To the end: Ensure fails for more than is left.
  ASSERT_TRUE(in.Skip(in.remaining() - 3));
  EXPECT_FALSE(in.Ensure(4));
  ASSERT_TRUE(in.Ensure(3));
  EXPECT_TRUE(in.io_error().empty());
}

TEST(PickleInputTest, MemoryAndFileAgree) {
  const std::string data = Pattern();
  Input memory(data);
  ExerciseInput(memory, data);
  for (bool map : {true, false}) {
    SCOPED_TRACE(map ? "mapped" : "buffered");
    std::unique_ptr<Input> file = OpenFile(data, map);
    ASSERT_NE(file, nullptr);
    ExerciseInput(*file, data);
  }
}

TEST(PickleInputTest, MappedFileReleasedBehindAndReadBackWithReadAt) {
  // 4 release distances of data: reading on in small steps releases the
  // pages behind; ReadAt still gives their bytes.
  std::string data(4 * kMapReleaseBytes + 123, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 2654435761u) >> 13);
  }
  std::unique_ptr<Input> in = OpenFile(data);
  ASSERT_NE(in, nullptr);
  int64_t at = 0;
  while (in->remaining() >= 4096) {
    ASSERT_TRUE(in->Ensure(4096));
    ASSERT_EQ(std::string(in->cur(), 16), data.substr(at, 16));
    in->Advance(4096);
    at += 4096;
  }
  EXPECT_FALSE(in->Ensure(4096));
  std::string back(1000, '\0');
  ASSERT_TRUE(in->ReadAt(17, back.size(), back.data()));
  EXPECT_EQ(back, data.substr(17, 1000));
  EXPECT_TRUE(in->io_error().empty());
}

TEST(PickleInputTest, LinesTooLongOrUnterminated) {
  const std::string data = std::string(kMaxLineBytes + 1, 'x') + "\nend";
  for (bool from_file : {false, true}) {
    std::unique_ptr<Input> in =
        from_file ? OpenFile(data) : std::make_unique<Input>(data);
    ASSERT_NE(in, nullptr);
    absl::string_view line;
    EXPECT_EQ(in->ReadLine(&line), Input::Line::kTooLong) << from_file;
    ASSERT_TRUE(in->Skip(kMaxLineBytes + 2));
    EXPECT_EQ(in->ReadLine(&line), Input::Line::kTruncated) << from_file;
  }
}

TEST(PickleInputTest, OpenErrorsNameThePath) {
  const std::string missing = TestTempPath("no_such_input.pkl");
  absl::StatusOr<std::unique_ptr<Input>> in = Input::Open(missing);
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(in.status().message(), missing));
  in = Input::Open(TestTempPath(""));
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(in.status().message(), "not a regular file"));
}

}  // namespace
}  // namespace pickle_internal
}  // namespace elm
