// Numpy `.npy` files, format version 1.0, as `numpy.save` writes them and
// `numpy.load` reads them: the magic "\x93NUMPY", the version bytes 1 0, a
// little-endian uint16 header length, then the header, a Python dict literal
// such as "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
// padded with spaces and ended by '\n' so that the data starts at a multiple
// of 64 bytes, then the array's elements in C order, little-endian. This
// provides the header (`NpyHeader`), the exact file size (`NpySize`), a
// streaming writer that writes a temporary file beside the target and renames
// it over the target only when every element has been written (`NpyWriter`
// over base/files.h's AtomicFileWriter, and `WriteNpy` for an array in
// memory), and a small reader (`ReadNpy`, for
// tests and checks) of C-order little-endian files of versions 1.0 to 3.0.
// Every file problem is an absl::Status naming the file.
#ifndef ELM_IO_NPY_H_
#define ELM_IO_NPY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/files.h"

namespace elm {

// The element types written and read.
enum class NpyDtype { kFloat32, kFloat64, kInt32, kInt64, kUint8 };

// Numpy's descr string: "<f4", "<f8", "<i4", "<i8", "|u1".
const char* NpyDescr(NpyDtype dtype);
// Bytes per element.
int NpyItemSize(NpyDtype dtype);

// The dtype of a C++ element type.
template <typename T>
constexpr NpyDtype NpyDtypeOf();
template <>
constexpr NpyDtype NpyDtypeOf<float>() {
  return NpyDtype::kFloat32;
}
template <>
constexpr NpyDtype NpyDtypeOf<double>() {
  return NpyDtype::kFloat64;
}
template <>
constexpr NpyDtype NpyDtypeOf<int32_t>() {
  return NpyDtype::kInt32;
}
template <>
constexpr NpyDtype NpyDtypeOf<int64_t>() {
  return NpyDtype::kInt64;
}
template <>
constexpr NpyDtype NpyDtypeOf<uint8_t>() {
  return NpyDtype::kUint8;
}

// Python's repr of a shape tuple: "()", "(5,)", "(2, 3)", as the header's
// 'shape' entry must read: ShapeString's tuple style (base/strings.h), kept
// under this name because the .npy format fixes it, whatever messages use.
std::string NpyShapeString(absl::Span<const int64_t> shape);

// The complete version 1.0 header of a C-order array: magic, version, length
// and the padded dict; its size is a multiple of 64. Errors: a negative
// dimension, a header longer than version 1.0 allows.
absl::StatusOr<std::string> NpyHeader(NpyDtype dtype,
                                      absl::Span<const int64_t> shape);

// The bytes of the whole file (header and data). Errors: those of NpyHeader,
// and a size that does not fit in int64.
absl::StatusOr<int64_t> NpySize(NpyDtype dtype,
                                absl::Span<const int64_t> shape);

// Writes one array to `path` in pieces, atomically: the data goes to a
// temporary file in the same directory, which Commit() renames over `path`.
// A writer destroyed before Commit() removes its temporary file, so `path` is
// either untouched or complete.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<NpyWriter> w,
//                    NpyWriter::Create(path, NpyDtype::kFloat32, {n, t}));
//   RETURN_IF_ERROR(w->Append<float>(row));  // ... n·t elements in C order
//   RETURN_IF_ERROR(w->Commit());
class NpyWriter {
 public:
  // Creates the temporary file and writes the header. Errors name `path`.
  static absl::StatusOr<std::unique_ptr<NpyWriter>> Create(
      const std::string& path, NpyDtype dtype,
      const std::vector<int64_t>& shape);
  ~NpyWriter();
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  // Appends `count` elements of the writer's dtype from `data` (native byte
  // order, which must be little-endian). Error: more elements than the shape
  // holds, a write error.
  absl::Status AppendRaw(const void* data, int64_t count);
  // The same, typed: T must be the writer's dtype.
  template <typename T>
  absl::Status Append(absl::Span<const T> values) {
    if (NpyDtypeOf<T>() != dtype_) return DtypeMismatch(NpyDtypeOf<T>());
    return AppendRaw(values.data(), static_cast<int64_t>(values.size()));
  }

  // Checks that every element was written, flushes the file to disk and
  // renames it to `path`. The writer is done afterwards.
  absl::Status Commit();

  const std::string& path() const { return path_; }
  int64_t num_elements() const { return num_elements_; }
  int64_t written() const { return written_; }

 private:
  NpyWriter(std::unique_ptr<AtomicFileWriter> file, NpyDtype dtype,
            int64_t num_elements);
  absl::Status DtypeMismatch(NpyDtype given) const;

  const std::string path_;
  std::unique_ptr<AtomicFileWriter> file_;  // not open once done
  const NpyDtype dtype_;
  const int64_t num_elements_;
  int64_t written_ = 0;
};

// Writes a whole array atomically; data holds the product of `shape`
// elements.
absl::Status WriteNpyRaw(const std::string& path, NpyDtype dtype,
                         const std::vector<int64_t>& shape, const void* data);
template <typename T>
absl::Status WriteNpy(const std::string& path,
                      const std::vector<int64_t>& shape,
                      absl::Span<const T> values) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (n != static_cast<int64_t>(values.size())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "WriteNpy: ", values.size(), " values do not fill the shape ",
        NpyShapeString(shape), " of ", path));
  }
  return WriteNpyRaw(path, NpyDtypeOf<T>(), shape, values.data());
}

// An array read from a .npy file.
struct NpyArray {
  NpyDtype dtype = NpyDtype::kFloat32;
  std::vector<int64_t> shape;
  int major_version = 1;
  int64_t data_offset = 0;  // where the data starts in the file
  std::string header;       // the dict text as stored, padding included
  std::string data;         // the raw little-endian elements

  int64_t num_elements() const;
  // The elements; T must be the array's dtype (CHECKed).
  template <typename T>
  std::vector<T> values() const;
};

// Reads a .npy file (versions 1.0, 2.0, 3.0; C order; the dtypes above,
// little-endian or single-byte). Errors name the file and the problem: not
// .npy (no magic), an unsupported version, dtype or Fortran order, a header
// that is not the expected dict, a data size that does not match the shape.
absl::StatusOr<NpyArray> ReadNpy(const std::string& path);

}  // namespace elm

#endif  // ELM_IO_NPY_H_
