// The pickle writer of io/pickle_writer.h.
#include "io/pickle_writer.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace elm {

void PickleWriter::Le(uint64_t v, int n) {
  for (int i = 0; i < n; ++i) Op(static_cast<uint8_t>(v >> (8 * i)));
}

void PickleWriter::Str(const std::string& s) {
  if (s.size() < 256) {
    Op('U');
    Le(s.size(), 1);
  } else {
    Op('T');
    Le(s.size(), 4);
  }
  buf_ += s;
}

void PickleWriter::Int(int64_t v) {
  if (v >= 0 && v < 256) {
    Op('K');
    Le(v, 1);
  } else if (v >= 0 && v < 65536) {
    Op('M');
    Le(v, 2);
  } else if (v >= INT32_MIN && v <= INT32_MAX) {
    Op('J');
    Le(static_cast<uint32_t>(v), 4);
  } else {
    Op(0x8a);  // LONG1
    Le(8, 1);
    Le(static_cast<uint64_t>(v), 8);
  }
}

void PickleWriter::Float(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, 8);
  Op('G');  // BINFLOAT: big-endian
  for (int i = 7; i >= 0; --i) Op(static_cast<uint8_t>(bits >> (8 * i)));
}

void PickleWriter::Global(const std::string& module, const std::string& name) {
  Op('c');
  buf_ += module + "\n" + name + "\n";
}

void PickleWriter::Dtype(const std::string& descr) {
  Global("numpy", "dtype");
  Str(descr);
  Bool(false);
  Bool(true);
  Op(0x87);  // TUPLE3
  Op('R');
  Op('(');
  Int(3);
  Str("<");
  None();
  None();
  None();
  Int(-1);
  Int(-1);
  Int(0);
  Op('t');
  Op('b');
}

void PickleWriter::ArrayBegin(const std::string& descr,
                              const std::vector<int64_t>& shape) {
  Global("numpy.core.multiarray", "_reconstruct");
  Global("numpy", "ndarray");
  Int(0);
  Op(0x85);  // TUPLE1
  Str("b");
  Op(0x87);  // TUPLE3
  Op('R');
  Op('(');
  Int(1);
  Op('(');
  for (int64_t d : shape) Int(d);
  Op('t');
  Dtype(descr);
  Bool(false);  // not Fortran order
}

void PickleWriter::LargeString(int64_t n, const std::string& pattern) {
  Op('T');
  Le(n, 4);
  Flush();
  std::string chunk;
  while (chunk.size() < (1 << 20)) chunk += pattern;
  for (int64_t done = 0; done < n;) {
    const int64_t take = std::min<int64_t>(chunk.size(), n - done);
    Write(chunk.data(), take);
    done += take;
  }
}

void PickleWriter::PatternArray(const std::string& descr,
                                const std::vector<int64_t>& shape,
                                int element_bytes, const std::string& pattern) {
  int64_t n = element_bytes;
  for (int64_t d : shape) n *= d;
  ArrayBegin(descr, shape);
  LargeString(n, pattern);
  ArrayEnd();
}

uint32_t PickleWriter::Put() {
  const uint32_t i = next_memo_++;
  if (i < 256) {
    Op('q');
    Le(i, 1);
  } else {
    Op('r');
    Le(i, 4);
  }
  return i;
}

void PickleWriter::Get(uint32_t i) {
  if (i < 256) {
    Op('h');
    Le(i, 1);
  } else {
    Op('j');
    Le(i, 4);
  }
}

void PickleWriter::NumpyInt64(int64_t v) {
  if (scalar_memo_ == kNone) {
    Global("numpy.core.multiarray", "scalar");
    scalar_memo_ = Put();
    Dtype("i8");
    dtype_memo_ = Put();
  } else {
    Get(scalar_memo_);
    Get(dtype_memo_);
  }
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));
  Str(bytes);
  Put();
  Op(0x86);  // TUPLE2
  Put();
  Op('R');
  Put();
}

void PickleWriter::Write(const char* data, size_t n) {
  if (!status_.ok() || n == 0) return;
  if (file_ != nullptr) {
    status_ = file_->Append(absl::string_view(data, n));
  } else {
    out_->write(data, static_cast<std::streamsize>(n));
    if (!out_->good()) {
      status_ = absl::InternalError("pickle writer: the output stream failed");
    }
  }
  written_ += static_cast<int64_t>(n);
}

void PickleWriter::Flush() {
  Write(buf_.data(), buf_.size());
  buf_.clear();
}

}  // namespace elm
