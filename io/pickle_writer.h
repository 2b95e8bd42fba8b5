// PickleWriter: a small streaming writer of protocol-2 pickles in the Python 2
// cPickle encoding (str as SHORT_BINSTRING / BINSTRING, numpy arrays as
// `numpy.core.multiarray._reconstruct` + BUILD, numpy.int64 scalars as
// `numpy.core.multiarray.scalar(dtype('i8'), <8 bytes>)`), the encoding of the
// released NeuronIO files. Opcodes are buffered (1 MiB) and streamed to a
// std::ostream or an AtomicFileWriter (base/files.h), and large strings are
// written in chunks, so a file of gigabytes never sits in memory. The caller
// composes the opcodes (io/neuronio_pickle_writer.h writes whole NeuronIO
// files; io/neuronio_test_files.h writes malformed ones); the writer checks
// nothing about their order.
#ifndef ELM_IO_PICKLE_WRITER_H_
#define ELM_IO_PICKLE_WRITER_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "base/files.h"

namespace elm {

class PickleWriter {
 public:
  explicit PickleWriter(std::ostream* out) : out_(out) {}
  explicit PickleWriter(AtomicFileWriter* out) : file_(out) {}
  // Flushes what is buffered (errors go to status()).
  ~PickleWriter() { Flush(); }
  PickleWriter(const PickleWriter&) = delete;
  PickleWriter& operator=(const PickleWriter&) = delete;

  void Op(uint8_t op) {
    if (buf_.size() >= kFlushBytes) Flush();
    buf_.push_back(static_cast<char>(op));
  }
  // `v` as n little-endian bytes.
  void Le(uint64_t v, int n);
  // PROTO 2.
  void Proto2() {
    Op(0x80);
    Le(2, 1);
  }
  void Str(const std::string& s);
  void Int(int64_t v);
  void Float(double v);
  void Bool(bool v) { Op(v ? 0x88 : 0x89); }
  void None() { Op('N'); }
  void Global(const std::string& module, const std::string& name);
  // {  ...key value pairs...  }
  void DictBegin() {
    Op('}');
    Op('(');
  }
  void DictEnd() { Op('u'); }
  void ListBegin() {
    Op(']');
    Op('(');
  }
  void ListEnd() { Op('e'); }
  // STOP.
  void Stop() { Op('.'); }
  // numpy.dtype(descr, False, True) with its BUILD state (3, '<', None, None,
  // None, -1, -1, 0), as numpy pickles it.
  void Dtype(const std::string& descr);
  // numpy.ndarray of `descr` and `shape`, raw data given or streamed between
  // ArrayBegin and ArrayEnd.
  void ArrayBegin(const std::string& descr, const std::vector<int64_t>& shape);
  void ArrayEnd() {
    Op('t');
    Op('b');
  }
  template <typename T>
  void Array(const std::string& descr, const std::vector<T>& values) {
    ArrayBegin(descr, {static_cast<int64_t>(values.size())});
    Str(std::string(reinterpret_cast<const char*>(values.data()),
                    values.size() * sizeof(T)));
    ArrayEnd();
  }
  // A BINSTRING of n bytes (n < 2^32), streamed in chunks of the repeated
  // `pattern`.
  void LargeString(int64_t n, const std::string& pattern);
  // An array of `descr` and `shape` whose raw data (`element_bytes` per
  // element) is the repeated `pattern`, streamed.
  void PatternArray(const std::string& descr, const std::vector<int64_t>& shape,
                    int element_bytes, const std::string& pattern);
  // Memoizes the top of the stack (BINPUT / LONG_BINPUT); returns the index.
  uint32_t Put();
  void Get(uint32_t i);
  // A numpy.int64 scalar as Python 2 cPickle writes it (the Kaggle files'
  // spike times and segment keys): scalar(dtype('i8'), <8 bytes>), with the
  // callable and the dtype memoized once and every intermediate memoized.
  void NumpyInt64(int64_t v);
  // Writes what is buffered.
  void Flush();

  // Bytes handed to the output so far.
  int64_t bytes_written() const { return written_; }
  // The first write error, naming the output; OK while none happened.
  const absl::Status& status() const { return status_; }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;
  static constexpr uint32_t kNone = ~uint32_t{0};
  void Write(const char* data, size_t n);

  std::ostream* out_ = nullptr;
  AtomicFileWriter* file_ = nullptr;
  std::string buf_;
  int64_t written_ = 0;
  absl::Status status_;
  uint32_t next_memo_ = 0;
  uint32_t scalar_memo_ = kNone;
  uint32_t dtype_memo_ = kNone;
};

}  // namespace elm

#endif  // ELM_IO_PICKLE_WRITER_H_
