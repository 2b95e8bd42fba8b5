// Implementation of the ELMTENSOR v1 reader and writer: a line-based parser
// that reports every malformed input as an absl::Status reading
// "<file>:<line>: <problem>", and a formatter that prints f32 with %.9g and f64
// with %.17g so that values round-trip exactly.
#include "io/elmtensor.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/files.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace elm {
namespace {

constexpr absl::string_view kMagic = "#ELMTENSOR v1";
// Guards against absurd headers (a sparse block allocates its dense size).
constexpr int64_t kMaxElements = int64_t{1} << 31;
// A sparse block's dense size is allocated whatever its nnz: 2 GiB as doubles.
constexpr int64_t kMaxSparseElements = int64_t{1} << 28;
constexpr int64_t kMaxNdim = 32;
constexpr int kValuesPerLine = 8;

bool IsIntegerDtype(absl::string_view dtype) {
  return dtype == "i64" || dtype == "bool";
}

bool ParseF32Token(absl::string_view token, double* out) {
  if (token.empty()) return false;
  const std::string t(token);  // NUL-terminated, so strto* cannot read past it
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return false;
  if (errno == ERANGE && std::isinf(v))
    return false;  // overflow, not a literal inf
  *out = static_cast<double>(v);
  return true;
}

bool ParseF64Token(absl::string_view token, double* out) {
  if (token.empty()) return false;
  const std::string t(token);  // NUL-terminated, so strto* cannot read past it
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return false;
  if (errno == ERANGE && std::isinf(v)) return false;
  *out = v;
  return true;
}

bool ParseI64Token(absl::string_view token, int64_t* out) {
  if (token.empty()) return false;
  const std::string t(token);  // NUL-terminated, so strto* cannot read past it
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(t.c_str(), &end, 10);  // NOLINT(runtime/int)
  if (end != t.c_str() + t.size() || errno == ERANGE) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

// A dim, ndim or nnz: a non-negative decimal integer.
bool ParseCount(absl::string_view token, int64_t* out) {
  if (token.empty() || !absl::ascii_isdigit(token[0])) return false;
  return ParseI64Token(token, out);
}

// Shortens `text` for an error message.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 60;
  if (text.size() <= kMax) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMax), "...'");
}

std::vector<absl::string_view> Tokenize(absl::string_view line) {
  return absl::StrSplit(line, absl::ByAnyChar(" \t\r\f\v"), absl::SkipEmpty());
}

bool IsBlockKeyword(absl::string_view token) {
  return token == "tensor" || token == "sparse" || token == "end";
}

class Parser {
 public:
  Parser(absl::string_view text, absl::string_view source)
      : text_(text), source_(source) {}

  absl::StatusOr<ElmTensorFile> Parse() {
    absl::string_view first;
    if (!NextRawLine(&first)) {
      return Error(1, absl::StrCat("file is empty; expected the first line '",
                                   kMagic, "'"));
    }
    if (absl::StripTrailingAsciiWhitespace(first) != kMagic) {
      return Error(line_number_,
                   absl::StrCat("bad header ", Quote(first),
                                "; expected the first line '", kMagic, "'"));
    }
    absl::flat_hash_map<std::string, int> first_line_of_name;
    while (true) {
      std::vector<absl::string_view> tokens;
      if (!NextContentLine(&tokens)) {
        return Error(line_number_,
                     "file ends without the 'end' line; expected a 'tensor', "
                     "'sparse' or 'end' line");
      }
      const int header_line = line_number_;
      if (tokens[0] == "end") {
        if (tokens.size() != 1) {
          return Error(header_line, "unexpected text after 'end'");
        }
        if (NextContentLine(&tokens)) {
          return Error(line_number_,
                       "unexpected content after the 'end' line; 'end' must "
                       "be the last line");
        }
        return std::move(file_);
      }
      if (tokens[0] != "tensor" && tokens[0] != "sparse") {
        return Error(header_line,
                     absl::StrCat("expected a 'tensor', 'sparse' or 'end' "
                                  "line, found ",
                                  Quote(tokens[0])));
      }
      NamedTensor tensor;
      int64_t nnz = 0;
      RETURN_IF_ERROR(ParseHeader(tokens, header_line, &tensor, &nnz));
      auto [it, inserted] =
          first_line_of_name.emplace(tensor.name, header_line);
      if (!inserted) {
        return Error(
            header_line,
            absl::StrCat("duplicate tensor name '", tensor.name,
                         "' (first defined at line ", it->second, ")"));
      }
      if (tensor.sparse) {
        RETURN_IF_ERROR(ReadSparseEntries(nnz, &tensor));
      } else {
        RETURN_IF_ERROR(ReadDenseValues(&tensor));
      }
      file_.tensors.push_back(std::move(tensor));
    }
  }

 private:
  absl::Status Error(int line, absl::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line, ": ", problem));
  }

  // Reads the next line (without its '\n'); false at the end of the text.
  bool NextRawLine(absl::string_view* line) {
    if (pos_ >= text_.size()) return false;
    const size_t newline = text_.find('\n', pos_);
    const size_t end =
        newline == absl::string_view::npos ? text_.size() : newline;
    *line = text_.substr(pos_, end - pos_);
    pos_ = end + 1;
    ++line_number_;
    return true;
  }

  // Reads up to the next line that is neither blank nor a comment and splits it
  // into tokens; comments on the way are recorded. False at the end of the
  // text.
  bool NextContentLine(std::vector<absl::string_view>* tokens) {
    absl::string_view line;
    while (NextRawLine(&line)) {
      const absl::string_view stripped =
          absl::StripLeadingAsciiWhitespace(line);
      if (!stripped.empty() && stripped[0] == '#') {
        absl::string_view comment = stripped.substr(1);
        if (!comment.empty() && comment.back() == '\r')
          comment.remove_suffix(1);
        file_.comments.emplace_back(comment);
        continue;
      }
      *tokens = Tokenize(line);
      if (!tokens->empty()) return true;
    }
    return false;
  }

  // Parses `tensor <name> <dtype> <ndim> <dims...>` or
  // `sparse <name> <dtype> <ndim> <dims...> <nnz>`.
  absl::Status ParseHeader(const std::vector<absl::string_view>& tokens,
                           int line, NamedTensor* tensor, int64_t* nnz) {
    const bool sparse = tokens[0] == "sparse";
    const std::string usage =
        sparse ? "expected 'sparse <name> <dtype> <ndim> <d0> ... <nnz>'"
               : "expected 'tensor <name> <dtype> <ndim> <d0> ...'";
    if (tokens.size() < 4) {
      return Error(line,
                   absl::StrCat("incomplete ", tokens[0], " header; ", usage));
    }
    tensor->sparse = sparse;
    tensor->name = std::string(tokens[1]);
    tensor->dtype = std::string(tokens[2]);
    if (!IsValidElmDtype(tensor->dtype)) {
      return Error(line, absl::StrCat("unknown dtype ", Quote(tokens[2]),
                                      " for tensor '", tensor->name,
                                      "'; expected f32, f64, i64 or bool"));
    }
    int64_t ndim = 0;
    if (!ParseCount(tokens[3], &ndim) || ndim > kMaxNdim) {
      return Error(line,
                   absl::StrCat("bad ndim ", Quote(tokens[3]), " for tensor '",
                                tensor->name, "'; expected an integer in [0, ",
                                kMaxNdim, "]"));
    }
    const size_t expected_tokens = 4 + ndim + (sparse ? 1 : 0);
    if (tokens.size() != expected_tokens) {
      return Error(line,
                   absl::StrCat("header of tensor '", tensor->name, "' has ",
                                tokens.size() - 4, " fields after ndim=", ndim,
                                "; expected ", ndim, " dims",
                                sparse ? " and nnz" : "", " (", usage, ")"));
    }
    int64_t count = 1;
    for (int64_t i = 0; i < ndim; ++i) {
      int64_t dim = 0;
      if (!ParseCount(tokens[4 + i], &dim)) {
        return Error(line,
                     absl::StrCat("bad dim ", i, " ", Quote(tokens[4 + i]),
                                  " of tensor '", tensor->name,
                                  "'; expected a non-negative integer"));
      }
      if (dim > 0 && count > kMaxElements / dim) {
        return Error(line, absl::StrCat("tensor '", tensor->name,
                                        "' is too large; expected at most ",
                                        kMaxElements, " elements"));
      }
      count *= dim;
      tensor->shape.push_back(dim);
    }
    // The text after this line must hold the values: at least 2 bytes (a
    // digit and a separator) per dense value, 2 per index or value of a
    // sparse entry. Checked before anything is allocated, so that a short
    // file declaring a huge shape fails at once.
    const int64_t rest = pos_ < text_.size() ? text_.size() - pos_ : 0;
    if (!sparse && count > rest / 2 + 1) {
      return Error(line,
                   absl::StrCat(Describe(*tensor), " declares ", count,
                                " values but the file has only ", rest,
                                " bytes after this line (each value takes at "
                                "least 2)"));
    }
    if (sparse && count > kMaxSparseElements) {
      return Error(line, absl::StrCat("sparse tensor '", tensor->name,
                                      "' is too large; expected a dense size "
                                      "of at most ",
                                      kMaxSparseElements, " elements"));
    }
    if (sparse) {
      if (!ParseCount(tokens.back(), nnz)) {
        return Error(line, absl::StrCat("bad nnz ", Quote(tokens.back()),
                                        " of sparse tensor '", tensor->name,
                                        "'; expected a non-negative integer"));
      }
      if (*nnz > count) {
        return Error(line, absl::StrCat("sparse tensor '", tensor->name,
                                        "' declares nnz=", *nnz,
                                        " but has only ", count, " elements"));
      }
      if (*nnz > rest / (2 * (ndim + 1)) + 1) {
        return Error(line, absl::StrCat(Describe(*tensor), " declares nnz=",
                                        *nnz, " but the file has only ", rest,
                                        " bytes after this line (each entry "
                                        "takes at least ",
                                        2 * (ndim + 1), ")"));
      }
    }
    return absl::OkStatus();
  }

  // Parses one value of `tensor`'s dtype into flat position `index`.
  absl::Status ParseValue(absl::string_view token, int line, int64_t index,
                          NamedTensor* tensor) {
    bool ok = false;
    if (tensor->dtype == "f32") {
      ok = ParseF32Token(token, &tensor->values[index]);
    } else if (tensor->dtype == "f64") {
      ok = ParseF64Token(token, &tensor->values[index]);
    } else if (tensor->dtype == "i64") {
      ok = ParseI64Token(token, &tensor->int_values[index]);
    } else {  // bool
      ok = token == "0" || token == "1";
      if (ok) tensor->int_values[index] = token == "1" ? 1 : 0;
    }
    if (ok) return absl::OkStatus();
    const char* what = tensor->dtype == "bool" ? "expected 0 or 1"
                       : IsIntegerDtype(tensor->dtype)
                           ? "expected a decimal integer"
                           : "expected a number, inf, -inf or nan";
    return Error(line,
                 absl::StrCat("bad ", tensor->dtype, " value ", Quote(token),
                              " in tensor '", tensor->name, "'; ", what));
  }

  void Allocate(NamedTensor* tensor) {
    const int64_t count = tensor->num_elements();
    if (IsIntegerDtype(tensor->dtype)) {
      tensor->int_values.assign(count, 0);
    } else {
      tensor->values.assign(count, 0.0);
    }
  }

  std::string Describe(const NamedTensor& tensor) const {
    return absl::StrCat(tensor.sparse ? "sparse tensor '" : "tensor '",
                        tensor.name, "' (", tensor.dtype, " ",
                        ShapeString(tensor.shape, ShapeStyle::kList), ")");
  }

  absl::Status ReadDenseValues(NamedTensor* tensor) {
    Allocate(tensor);
    const int64_t count = tensor->num_elements();
    int64_t have = 0;
    std::vector<absl::string_view> tokens;
    while (have < count) {
      if (!NextContentLine(&tokens)) {
        return Error(
            line_number_,
            absl::StrCat("file ends inside ", Describe(*tensor), ": found ",
                         have, " of ", count, " values; expected ",
                         count - have, " more values and then 'end'"));
      }
      if (IsBlockKeyword(tokens[0])) {
        return Error(line_number_,
                     absl::StrCat(Describe(*tensor), " needs ", count,
                                  " values but only ", have,
                                  " come before this line; expected ",
                                  count - have, " more values"));
      }
      if (static_cast<int64_t>(tokens.size()) > count - have) {
        return Error(
            line_number_,
            absl::StrCat("too many values for ", Describe(*tensor),
                         ": this line has ", tokens.size(), " values but only ",
                         count - have, " are still expected (", count,
                         " in total)"));
      }
      for (absl::string_view token : tokens) {
        RETURN_IF_ERROR(ParseValue(token, line_number_, have, tensor));
        ++have;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadSparseEntries(int64_t nnz, NamedTensor* tensor) {
    Allocate(tensor);
    const size_t ndim = tensor->shape.size();
    std::vector<bool> seen(tensor->num_elements(), false);
    std::vector<absl::string_view> tokens;
    for (int64_t entry = 0; entry < nnz; ++entry) {
      if (!NextContentLine(&tokens)) {
        return Error(
            line_number_,
            absl::StrCat("file ends inside ", Describe(*tensor), ": found ",
                         entry, " of ", nnz, " entries; expected ", nnz - entry,
                         " more entry lines and then 'end'"));
      }
      if (IsBlockKeyword(tokens[0])) {
        return Error(
            line_number_,
            absl::StrCat(Describe(*tensor), " declares nnz=", nnz, " but only ",
                         entry, " entries come before this line; expected ",
                         nnz - entry, " more entry lines"));
      }
      if (tokens.size() != ndim + 1) {
        return Error(line_number_,
                     absl::StrCat("sparse entry of tensor '", tensor->name,
                                  "' has ", tokens.size(), " fields; expected ",
                                  ndim, " indices and a value"));
      }
      int64_t flat = 0;
      for (size_t d = 0; d < ndim; ++d) {
        int64_t index = 0;
        if (!ParseCount(tokens[d], &index) || index >= tensor->shape[d]) {
          return Error(line_number_,
                       absl::StrCat("bad index ", Quote(tokens[d]), " for dim ",
                                    d, " of ", Describe(*tensor),
                                    "; expected an integer in [0, ",
                                    tensor->shape[d], ")"));
        }
        flat = flat * tensor->shape[d] + index;
      }
      if (seen[flat]) {
        return Error(line_number_,
                     absl::StrCat("duplicate entry for element ",
                                  absl::StrJoin(tokens.begin(),
                                                tokens.begin() + ndim, " "),
                                  " of ", Describe(*tensor)));
      }
      seen[flat] = true;
      RETURN_IF_ERROR(ParseValue(tokens[ndim], line_number_, flat, tensor));
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  int line_number_ = 0;
  ElmTensorFile file_;
};

// Appends one value of a validated tensor.
void AppendValue(const NamedTensor& tensor, int64_t index, std::string* out) {
  if (IsIntegerDtype(tensor.dtype)) {
    absl::StrAppend(out, tensor.int_values[index]);
    return;
  }
  const double v = tensor.values[index];
  if (std::isnan(v)) {
    out->append("nan");  // printf would write "-nan" for a negative NaN
  } else if (tensor.dtype == "f32") {
    absl::StrAppendFormat(out, "%.9g", static_cast<float>(v));
  } else {
    absl::StrAppendFormat(out, "%.17g", v);
  }
}

// True when element `index` must be listed in a sparse block (it is not +0).
bool IsListed(const NamedTensor& tensor, int64_t index) {
  if (IsIntegerDtype(tensor.dtype)) return tensor.int_values[index] != 0;
  const double v = tensor.values[index];
  return !(v == 0.0 && !std::signbit(v));
}

absl::Status ValidateForWriting(const NamedTensor& tensor) {
  const std::string who = absl::StrCat("tensor '", tensor.name, "'");
  if (tensor.name.empty()) {
    return absl::InvalidArgumentError("tensor with an empty name");
  }
  for (char c : tensor.name) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": the name contains whitespace"));
    }
  }
  if (!IsValidElmDtype(tensor.dtype)) {
    return absl::InvalidArgumentError(
        absl::StrCat(who, ": unknown dtype ", Quote(tensor.dtype),
                     "; expected f32, f64, i64 or bool"));
  }
  int64_t count = 1;
  for (int64_t dim : tensor.shape) {
    if (dim < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, ": negative dim in shape ",
                       ShapeString(tensor.shape, ShapeStyle::kList)));
    }
    count *= dim;
  }
  const bool integer = IsIntegerDtype(tensor.dtype);
  const size_t have = integer ? tensor.int_values.size() : tensor.values.size();
  const size_t other =
      integer ? tensor.values.size() : tensor.int_values.size();
  if (static_cast<int64_t>(have) != count || other != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        who, " (", tensor.dtype, " ",
        ShapeString(tensor.shape, ShapeStyle::kList), ") has ", have,
        integer ? " int_values" : " values", " and ", other,
        integer ? " values" : " int_values", "; expected ", count, " and 0"));
  }
  if (tensor.dtype == "bool") {
    for (int64_t v : tensor.int_values) {
      if (v != 0 && v != 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(who, ": bool value ", v, "; expected 0 or 1"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

const NamedTensor* ElmTensorFile::FindOrNull(absl::string_view name) const {
  for (const NamedTensor& tensor : tensors) {
    if (tensor.name == name) return &tensor;
  }
  return nullptr;
}

absl::StatusOr<const NamedTensor*> ElmTensorFile::Find(
    absl::string_view name) const {
  const NamedTensor* tensor = FindOrNull(name);
  if (tensor == nullptr) {
    return absl::NotFoundError(absl::StrCat("no tensor named '", name,
                                            "' (the file has ", tensors.size(),
                                            " tensors)"));
  }
  return tensor;
}

bool IsValidElmDtype(absl::string_view dtype) {
  return dtype == "f32" || dtype == "f64" || dtype == "i64" || dtype == "bool";
}

absl::StatusOr<ElmTensorFile> ParseElmTensorText(
    absl::string_view text, absl::string_view source_name) {
  return Parser(text, source_name).Parse();
}

absl::StatusOr<ElmTensorFile> ReadElmTensorFile(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadFileToString(path));
  return ParseElmTensorText(text, path);
}

absl::StatusOr<std::string> FormatElmTensorText(const ElmTensorFile& file) {
  std::string out = absl::StrCat(kMagic, "\n");
  for (const std::string& comment : file.comments) {
    if (comment.find_first_of("\r\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("comment ", Quote(comment), " contains a line break"));
    }
    absl::StrAppend(&out, "#", comment, "\n");
  }
  for (const NamedTensor& tensor : file.tensors) {
    RETURN_IF_ERROR(ValidateForWriting(tensor));
    const int64_t count = tensor.num_elements();
    absl::StrAppend(&out, tensor.sparse ? "sparse " : "tensor ", tensor.name,
                    " ", tensor.dtype, " ", tensor.shape.size());
    for (int64_t dim : tensor.shape) absl::StrAppend(&out, " ", dim);
    if (tensor.sparse) {
      int64_t nnz = 0;
      for (int64_t i = 0; i < count; ++i) nnz += IsListed(tensor, i) ? 1 : 0;
      absl::StrAppend(&out, " ", nnz, "\n");
      std::vector<int64_t> index(tensor.shape.size());
      for (int64_t i = 0; i < count; ++i) {
        if (!IsListed(tensor, i)) continue;
        int64_t rest = i;
        for (size_t d = tensor.shape.size(); d-- > 0;) {
          index[d] = rest % tensor.shape[d];
          rest /= tensor.shape[d];
        }
        for (int64_t k : index) absl::StrAppend(&out, k, " ");
        AppendValue(tensor, i, &out);
        out.push_back('\n');
      }
    } else {
      out.push_back('\n');
      for (int64_t i = 0; i < count; ++i) {
        AppendValue(tensor, i, &out);
        const bool line_end = (i + 1) % kValuesPerLine == 0 || i + 1 == count;
        out.push_back(line_end ? '\n' : ' ');
      }
    }
  }
  out.append("end\n");
  return out;
}

absl::Status WriteElmTensorFile(const std::string& path,
                                const ElmTensorFile& file) {
  ASSIGN_OR_RETURN(std::string text, FormatElmTensorText(file));
  return WriteFileAtomically(path, text, "ELMTENSOR file");
}

}  // namespace elm
