// The .npy writer and reader: see npy.h.
#include "io/npy.h"

#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "glog/logging.h"

namespace elm {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the .npy writer stores native little-endian elements");

constexpr char kMagic[] = "\x93NUMPY";
constexpr int kMagicSize = 6;
constexpr int kAlignment = 64;

absl::Status FileError(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(
      absl::StrCat(".npy file '", path, "': ", what));
}

// a · b, or false when it overflows int64.
bool MultiplyOk(int64_t a, int64_t b, int64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

absl::StatusOr<int64_t> NumElements(absl::Span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "negative dimension in the .npy shape ", NpyShapeString(shape)));
    }
    if (!MultiplyOk(n, d, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the .npy shape ", NpyShapeString(shape), " has too many elements"));
    }
  }
  return n;
}

// ---- Parsing the header dict ----

// A parser of the dict literal numpy writes: string keys, and values that are
// strings, True/False or tuples of integers.
class HeaderParser {
 public:
  explicit HeaderParser(absl::string_view text) : text_(text) {}

  absl::Status Parse(std::string* descr, bool* fortran_order,
                     std::vector<int64_t>* shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    SkipSpace();
    if (!Consume('{')) return Error("does not start with '{'");
    while (true) {
      SkipSpace();
      if (Consume('}')) break;
      std::string key;
      if (!ParseString(&key)) return Error("expected a quoted key");
      SkipSpace();
      if (!Consume(':'))
        return Error(absl::StrCat("expected ':' after '", key, "'"));
      SkipSpace();
      if (key == "descr") {
        if (!ParseString(descr)) return Error("'descr' is not a string");
        have_descr = true;
      } else if (key == "fortran_order") {
        if (ConsumeWord("True")) {
          *fortran_order = true;
        } else if (ConsumeWord("False")) {
          *fortran_order = false;
        } else {
          return Error("'fortran_order' is not True or False");
        }
        have_order = true;
      } else if (key == "shape") {
        if (!ParseShape(shape))
          return Error("'shape' is not a tuple of integers");
        have_shape = true;
      } else {
        return Error(absl::StrCat("unexpected key '", key, "'"));
      }
      SkipSpace();
      if (Consume(',')) continue;
      SkipSpace();
      if (Consume('}')) break;
      return Error("expected ',' or '}'");
    }
    SkipSpace();
    if (pos_ != text_.size()) return Error("has text after the closing '}'");
    if (!have_descr || !have_order || !have_shape) {
      return Error("lacks one of 'descr', 'fortran_order' and 'shape'");
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("header dict ", what, " (at character ", pos_, " of \"",
                     absl::StripTrailingAsciiWhitespace(text_), "\")"));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool ConsumeWord(absl::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool ParseString(std::string* out) {
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return false;
    }
    const char quote = text_[pos_];
    const size_t end = text_.find(quote, pos_ + 1);
    if (end == absl::string_view::npos) return false;
    *out = std::string(text_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return true;
  }
  bool ParseShape(std::vector<int64_t>* shape) {
    shape->clear();
    if (!Consume('(')) return false;
    while (true) {
      SkipSpace();
      if (Consume(')')) return true;
      size_t end = pos_;
      while (end < text_.size() && absl::ascii_isdigit(text_[end])) ++end;
      int64_t d;
      if (end == pos_ ||
          !absl::SimpleAtoi(text_.substr(pos_, end - pos_), &d)) {
        return false;
      }
      pos_ = end;
      // Python 2 numpy wrote long dimensions as "3L".
      Consume('L');
      shape->push_back(d);
      SkipSpace();
      if (Consume(')')) return true;
      if (!Consume(',')) return false;
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
};

bool DtypeFromDescr(absl::string_view descr, NpyDtype* dtype) {
  for (NpyDtype d : {NpyDtype::kFloat32, NpyDtype::kFloat64, NpyDtype::kInt32,
                     NpyDtype::kInt64, NpyDtype::kUint8}) {
    if (descr == NpyDescr(d) ||
        (d == NpyDtype::kUint8 && (descr == "<u1" || descr == "u1"))) {
      *dtype = d;
      return true;
    }
  }
  return false;
}

}  // namespace

const char* NpyDescr(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat32:
      return "<f4";
    case NpyDtype::kFloat64:
      return "<f8";
    case NpyDtype::kInt32:
      return "<i4";
    case NpyDtype::kInt64:
      return "<i8";
    case NpyDtype::kUint8:
      return "|u1";
  }
  return "?";
}

int NpyItemSize(NpyDtype dtype) {
  switch (dtype) {
    case NpyDtype::kFloat32:
    case NpyDtype::kInt32:
      return 4;
    case NpyDtype::kFloat64:
    case NpyDtype::kInt64:
      return 8;
    case NpyDtype::kUint8:
      return 1;
  }
  return 0;
}

std::string NpyShapeString(absl::Span<const int64_t> shape) {
  return ShapeString(shape, ShapeStyle::kTuple);
}

absl::StatusOr<std::string> NpyHeader(NpyDtype dtype,
                                      absl::Span<const int64_t> shape) {
  absl::StatusOr<int64_t> n = NumElements(shape);
  if (!n.ok()) return n.status();
  std::string dict = absl::StrCat(
      "{'descr': '", NpyDescr(dtype),
      "', 'fortran_order': False, 'shape': ", NpyShapeString(shape), ", }");
  // magic (6) + version (2) + length (2) + dict + padding + '\n'.
  const size_t unpadded = kMagicSize + 4 + dict.size() + 1;
  dict.append((kAlignment - unpadded % kAlignment) % kAlignment, ' ');
  dict.push_back('\n');
  if (dict.size() > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the .npy header of shape ", NpyShapeString(shape),
                     " is longer than format version 1.0 allows"));
  }
  std::string header(kMagic, kMagicSize);
  header.push_back('\x01');
  header.push_back('\x00');
  header.push_back(static_cast<char>(dict.size() & 0xff));
  header.push_back(static_cast<char>(dict.size() >> 8));
  header += dict;
  return header;
}

absl::StatusOr<int64_t> NpySize(NpyDtype dtype,
                                absl::Span<const int64_t> shape) {
  absl::StatusOr<std::string> header = NpyHeader(dtype, shape);
  if (!header.ok()) return header.status();
  const int64_t n = *NumElements(shape);
  int64_t bytes;
  if (!MultiplyOk(n, NpyItemSize(dtype), &bytes) ||
      __builtin_add_overflow(bytes, static_cast<int64_t>(header->size()),
                             &bytes)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a .npy file of shape ", NpyShapeString(shape), " is too large"));
  }
  return bytes;
}

// ---- NpyWriter ----

NpyWriter::NpyWriter(std::unique_ptr<AtomicFileWriter> file, NpyDtype dtype,
                     int64_t num_elements)
    : path_(file->path()),
      file_(std::move(file)),
      dtype_(dtype),
      num_elements_(num_elements) {}

NpyWriter::~NpyWriter() = default;  // an uncommitted file is abandoned

absl::StatusOr<std::unique_ptr<NpyWriter>> NpyWriter::Create(
    const std::string& path, NpyDtype dtype,
    const std::vector<int64_t>& shape) {
  absl::StatusOr<std::string> header = NpyHeader(dtype, shape);
  if (!header.ok()) {
    return FileError(path, header.status().message());
  }
  absl::StatusOr<std::unique_ptr<AtomicFileWriter>> file =
      AtomicFileWriter::Create(path, ".npy file");
  if (!file.ok()) return file.status();
  if (absl::Status st = (*file)->Append(*header); !st.ok()) return st;
  return std::unique_ptr<NpyWriter>(
      new NpyWriter(std::move(*file), dtype, *NumElements(shape)));
}

absl::Status NpyWriter::DtypeMismatch(NpyDtype given) const {
  return absl::InvalidArgumentError(
      absl::StrCat(".npy file '", path_, "': appending ", NpyDescr(given),
                   " values to an array of ", NpyDescr(dtype_)));
}

absl::Status NpyWriter::AppendRaw(const void* data, int64_t count) {
  if (!file_->is_open()) {
    return absl::FailedPreconditionError(absl::StrCat(
        ".npy file '", path_, "': append after Commit() or a failed write"));
  }
  if (count < 0 || count > num_elements_ - written_) {
    return absl::InvalidArgumentError(
        absl::StrCat(".npy file '", path_, "': appending ", count,
                     " elements to the ", written_, " written exceeds the ",
                     num_elements_, " elements of the shape"));
  }
  if (count == 0) return absl::OkStatus();
  const size_t size = NpyItemSize(dtype_);
  RETURN_IF_ERROR(file_->Append(absl::string_view(
      static_cast<const char*>(data), static_cast<size_t>(count) * size)));
  written_ += count;
  return absl::OkStatus();
}

absl::Status NpyWriter::Commit() {
  if (!file_->is_open()) {
    return absl::FailedPreconditionError(absl::StrCat(
        ".npy file '", path_, "': Commit() after Commit() or a failed write"));
  }
  if (written_ != num_elements_) {
    file_->Abandon();
    return absl::InvalidArgumentError(
        absl::StrCat(".npy file '", path_, "': only ", written_, " of the ",
                     num_elements_, " elements were written; not saved"));
  }
  return file_->Commit();
}

absl::Status WriteNpyRaw(const std::string& path, NpyDtype dtype,
                         const std::vector<int64_t>& shape, const void* data) {
  absl::StatusOr<std::unique_ptr<NpyWriter>> writer =
      NpyWriter::Create(path, dtype, shape);
  if (!writer.ok()) return writer.status();
  absl::Status st = (*writer)->AppendRaw(data, (*writer)->num_elements());
  if (!st.ok()) return st;
  return (*writer)->Commit();
}

// ---- Reading ----

int64_t NpyArray::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

template <typename T>
std::vector<T> NpyArray::values() const {
  CHECK(NpyDtypeOf<T>() == dtype)
      << "NpyArray::values: the array holds " << NpyDescr(dtype);
  std::vector<T> out(data.size() / sizeof(T));
  if (!out.empty())
    std::memcpy(out.data(), data.data(), out.size() * sizeof(T));
  return out;
}

template std::vector<float> NpyArray::values<float>() const;
template std::vector<double> NpyArray::values<double>() const;
template std::vector<int32_t> NpyArray::values<int32_t>() const;
template std::vector<int64_t> NpyArray::values<int64_t>() const;
template std::vector<uint8_t> NpyArray::values<uint8_t>() const;

absl::StatusOr<NpyArray> ReadNpy(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes,
                   ReadFileToString(path, ".npy file"));
  if (bytes.size() < 10 || bytes.compare(0, kMagicSize, kMagic) != 0) {
    return FileError(path, "not a .npy file (no \\x93NUMPY magic)");
  }
  NpyArray array;
  array.major_version = static_cast<uint8_t>(bytes[6]);
  const int minor = static_cast<uint8_t>(bytes[7]);
  auto byte = [&](int i) -> uint64_t { return static_cast<uint8_t>(bytes[i]); };
  uint64_t header_len;
  if (array.major_version == 1 && minor == 0) {
    header_len = byte(8) | byte(9) << 8;
    array.data_offset = 10;
  } else if ((array.major_version == 2 || array.major_version == 3) &&
             minor == 0 && bytes.size() >= 12) {
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    array.data_offset = 12;
  } else {
    return FileError(path, absl::StrCat("format version ", array.major_version,
                                        ".", minor, " is not supported"));
  }
  if (header_len > bytes.size() - array.data_offset) {
    return FileError(path, absl::StrCat("the header length ", header_len,
                                        " runs past the end of the file (",
                                        bytes.size(), " bytes)"));
  }
  array.header = bytes.substr(array.data_offset, header_len);
  array.data_offset += header_len;
  std::string descr;
  bool fortran_order = false;
  absl::Status st =
      HeaderParser(array.header).Parse(&descr, &fortran_order, &array.shape);
  if (!st.ok()) return FileError(path, st.message());
  if (!DtypeFromDescr(descr, &array.dtype)) {
    return FileError(path, absl::StrCat("dtype '", descr,
                                        "' is not supported (only <f4, <f8, "
                                        "<i4, <i8 and |u1)"));
  }
  if (fortran_order) {
    return FileError(path, "Fortran-order arrays are not supported");
  }
  absl::StatusOr<int64_t> n = NumElements(array.shape);
  int64_t want;
  if (!n.ok() || !MultiplyOk(*n, NpyItemSize(array.dtype), &want)) {
    return FileError(path,
                     absl::StrCat("the shape ", NpyShapeString(array.shape),
                                  " is not valid"));
  }
  const int64_t have = static_cast<int64_t>(bytes.size()) - array.data_offset;
  if (have != want) {
    return FileError(
        path,
        absl::StrCat("holds ", have, " bytes of data; ", descr, " of shape ",
                     NpyShapeString(array.shape), " needs ", want));
  }
  array.data = bytes.substr(array.data_offset);
  return array;
}

}  // namespace elm
