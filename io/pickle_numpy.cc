// Numpy in pickles: the Unpickler members that rebuild arrays
// (multiarray._reconstruct + BUILD), dtypes (numpy.dtype + BUILD) and scalars
// (multiarray.scalar), and the numpy helpers of pickle.h (type names and
// sizes, half floats, NdArray).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "base/strings.h"
#include "glog/logging.h"
#include "io/pickle.h"
#include "io/pickle_internal.h"

namespace elm {
namespace pickle_internal {
namespace {

// Parses a numpy dtype string ("f8", "<i4", "b1", "?"); false when it is not
// one of the supported element types.
bool ParseDescr(absl::string_view descr, NumpyType* type, bool* big_endian) {
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' ||
                         descr[0] == '|' || descr[0] == '=')) {
    *big_endian = descr[0] == '>';
    descr.remove_prefix(1);
  }
  static const struct {
    const char* descr;
    NumpyType type;
  } kTypes[] = {
      {"b1", NumpyType::kBool},    {"?", NumpyType::kBool},
      {"i1", NumpyType::kInt8},    {"u1", NumpyType::kUInt8},
      {"i2", NumpyType::kInt16},   {"u2", NumpyType::kUInt16},
      {"i4", NumpyType::kInt32},   {"u4", NumpyType::kUInt32},
      {"i8", NumpyType::kInt64},   {"u8", NumpyType::kUInt64},
      {"f2", NumpyType::kFloat16}, {"f4", NumpyType::kFloat32},
      {"f8", NumpyType::kFloat64},
  };
  for (const auto& t : kTypes) {
    if (descr == t.descr) {
      *type = t.type;
      return true;
    }
  }
  return false;
}

bool IsIntegerType(NumpyType t) {
  return t != NumpyType::kFloat16 && t != NumpyType::kFloat32 &&
         t != NumpyType::kFloat64;
}

// Reads one element of `type` (native order) at `p` as double / as an
// integer.
double ElementAsDouble(NumpyType type, const char* p) {
  switch (type) {
    case NumpyType::kBool:
    case NumpyType::kUInt8:
      return static_cast<uint8_t>(*p);
    case NumpyType::kInt8:
      return static_cast<int8_t>(*p);
    case NumpyType::kInt16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case NumpyType::kUInt16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case NumpyType::kInt32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kUInt32: {
      uint32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kInt64: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case NumpyType::kUInt64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      return static_cast<double>(v);
    }
    case NumpyType::kFloat16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return HalfToDouble(v);
    }
    case NumpyType::kFloat32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
    case NumpyType::kFloat64: {
      double v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
  return 0.0;
}

// An integer element; false for uint64 values above INT64_MAX.
bool ElementAsInt64(NumpyType type, const char* p, int64_t* out) {
  switch (type) {
    case NumpyType::kInt64:
      std::memcpy(out, p, 8);
      return true;
    case NumpyType::kUInt64: {
      uint64_t v;
      std::memcpy(&v, p, 8);
      if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return false;
      }
      *out = static_cast<int64_t>(v);
      return true;
    }
    default:
      *out = static_cast<int64_t>(ElementAsDouble(type, p));
      return true;
  }
}

}  // namespace

// ---- REDUCE and its recognised callables ----

absl::StatusOr<uint32_t> Unpickler::Reconstruct(uint32_t callable,
                                                uint32_t args,
                                                const uint32_t* a, size_t n) {
  if (n < 1 || N(a[0]).kind != PickleKind::kGlobal ||
      store_->globals[N(a[0]).payload].id != GlobalId::kNdarray) {
    // A subclass of ndarray: keep it as a generic object.
    return AddObject(PickleObjectKind::kReduce, callable, args);
  }
  NdArray array;
  array.pending_data_ = kNoNode;
  array.build_offset_ = op_offset_;
  array.data_ = kEmptyData;
  if (n >= 2) {
    absl::Status s = ReadShape(a[1], "numpy _reconstruct shape", &array.shape_,
                               &array.num_elements_);
    if (!s.ok()) return s;
  }
  const uint32_t node =
      AddNode(PickleKind::kNdArray, 0, 0, store_->arrays.size());
  array.node_ = node;
  store_->arrays.push_back(std::move(array));
  return node;
}

absl::Status Unpickler::ReadShape(uint32_t tuple, absl::string_view what,
                                  std::vector<int64_t>* shape, int64_t* count) {
  if (N(tuple).kind != PickleKind::kTuple) {
    return Error(
        absl::StrCat(what, ": expected a tuple, found ", TypeOf(tuple)));
  }
  shape->clear();
  int64_t product = 1;
  for (uint32_t i = 0; i < N(tuple).size; ++i) {
    const uint32_t d = store_->TupleItems(N(tuple))[i];
    if (N(d).kind != PickleKind::kInt ||
        static_cast<int64_t>(N(d).payload) < 0) {
      return Error(absl::StrCat(what, ": dim ", i,
                                " is not a non-negative int but ",
                                store_->Value(d).DebugString()));
    }
    const int64_t dim = static_cast<int64_t>(N(d).payload);
    if (__builtin_mul_overflow(product, dim, &product) ||
        product > (int64_t{1} << 56)) {
      return Error(absl::StrCat(what, ": too many elements"));
    }
    shape->push_back(dim);
  }
  *count = product;
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> Unpickler::MakeDtype(uint32_t callable, uint32_t args,
                                              const uint32_t* a, size_t n) {
  if (n < 1) return Error(absl::StrCat(CallableName(), " without arguments"));
  absl::StatusOr<absl::string_view> descr =
      SmallString(a[0], "numpy.dtype descr");
  if (!descr.ok()) return descr.status();
  Store::Dtype dtype;
  dtype.descr = std::string(*descr);
  if (!ParseDescr(*descr, &dtype.type, &dtype.big_endian)) {
    dtype.problem = absl::StrCat("unsupported numpy dtype '", *descr, "'");
  }
  const uint32_t node = AddObject(PickleObjectKind::kReduce, callable, args);
  store_->objects.back().dtype = static_cast<int32_t>(store_->dtypes.size());
  store_->dtypes.push_back(std::move(dtype));
  return node;
}

absl::StatusOr<const Store::Dtype*> Unpickler::DtypeOf(
    uint32_t node, absl::string_view what) const {
  if (N(node).kind != PickleKind::kObject ||
      store_->objects[N(node).payload].dtype < 0) {
    return Error(
        absl::StrCat(what, ": expected a numpy.dtype, found ", TypeOf(node)));
  }
  const Store::Dtype& d =
      store_->dtypes[store_->objects[N(node).payload].dtype];
  if (!d.problem.empty()) {
    return Unsupported(absl::StrCat(what, ": ", d.problem));
  }
  return &d;
}

absl::StatusOr<uint32_t> Unpickler::MakeScalar(const uint32_t* a, size_t n) {
  if (n != 2) {
    return Error(
        absl::StrCat(CallableName(), " expects 2 arguments, found ", n));
  }
  absl::StatusOr<const Store::Dtype*> dtype = DtypeOf(a[0], "numpy scalar");
  if (!dtype.ok()) return dtype.status();
  absl::StatusOr<absl::string_view> raw =
      SmallString(a[1], "numpy scalar data");
  if (!raw.ok()) return raw.status();
  const int size = NumpyTypeSize((*dtype)->type);
  if (raw->size() != static_cast<size_t>(size)) {
    return Error(absl::StrCat(CallableName(), ": ",
                              NumpyTypeName((*dtype)->type), " needs ", size,
                              " bytes, found ", raw->size()));
  }
  char buf[8];
  std::memcpy(buf, raw->data(), size);
  if ((*dtype)->big_endian) std::reverse(buf, buf + size);
  const NumpyType type = (*dtype)->type;
  if (type == NumpyType::kBool) {
    if (static_cast<uint8_t>(buf[0]) > 1) {
      return Error(
          absl::StrCat(CallableName(), ": bool byte ",
                       static_cast<int>(static_cast<uint8_t>(buf[0]))));
    }
    return buf[0] ? kTrueNode : kFalseNode;
  }
  if (IsIntegerType(type)) {
    int64_t v;
    if (!ElementAsInt64(type, buf, &v)) {
      return Unsupported(
          absl::StrCat(CallableName(), ": uint64 value above INT64_MAX"));
    }
    return AddInt(v);
  }
  return AddFloat(ElementAsDouble(type, buf));
}

// ---- BUILD ----

absl::Status Unpickler::BuildDtype(int32_t index, uint32_t state) {
  Store::Dtype& d = store_->dtypes[index];
  if (N(state).kind != PickleKind::kTuple || N(state).size < 2) {
    return Error(
        absl::StrCat("numpy.dtype state: expected a tuple of at "
                     "least 2, found ",
                     TypeOf(state)));
  }
  const uint32_t* s = store_->TupleItems(N(state));
  absl::StatusOr<absl::string_view> order =
      SmallString(s[1], "numpy.dtype byte order");
  if (!order.ok()) return order.status();
  if (*order == ">") {
    d.big_endian = true;
  } else if (*order == "<" || *order == "|" || *order == "=") {
    d.big_endian = false;
  } else {
    return Error(
        absl::StrCat("numpy.dtype byte order: expected '<', '>', "
                     "'|' or '=', found '",
                     *order, "'"));
  }
  if (N(state).size >= 4 && d.problem.empty() &&
      (N(s[2]).kind != PickleKind::kNone ||
       N(s[3]).kind != PickleKind::kNone)) {
    d.problem =
        absl::StrCat("structured or subarray numpy dtype '", d.descr, "'");
  }
  return absl::OkStatus();
}

absl::Status Unpickler::BuildArray(NdArray& array, uint32_t state) {
  if (array.built_) return Error("the numpy array already has its data");
  if (N(state).kind != PickleKind::kTuple ||
      (N(state).size != 4 && N(state).size != 5)) {
    return Error(
        absl::StrCat("numpy array state: expected a tuple of 4 or "
                     "5, found ",
                     TypeOf(state)));
  }
  const uint32_t* s = store_->TupleItems(N(state)) + (N(state).size - 4);
  absl::Status status =
      ReadShape(s[0], "numpy array shape", &array.shape_, &array.num_elements_);
  if (!status.ok()) return status;
  absl::StatusOr<const Store::Dtype*> dtype =
      DtypeOf(s[1], "numpy array dtype");
  if (!dtype.ok()) return dtype.status();
  array.type_ = (*dtype)->type;
  array.big_endian_ = (*dtype)->big_endian;
  int64_t fortran;
  if (!IntOf(s[2], &fortran)) {
    return Error(
        absl::StrCat("numpy array is_fortran: expected a bool, "
                     "found ",
                     TypeOf(s[2])));
  }
  array.fortran_ = fortran != 0;
  array.built_ = true;
  array.build_offset_ = op_offset_;
  const uint32_t data = s[3];
  if (!IsString(data)) {
    return Unsupported(
        absl::StrCat("numpy array data: expected bytes, "
                     "found ",
                     TypeOf(data), " (object arrays are not supported)"));
  }
  const uint64_t expected =
      static_cast<uint64_t>(array.num_elements_) * NumpyTypeSize(array.type_);
  const Node& d = N(data);
  if (d.flags & kDeferred) {
    const bool bad = (d.flags & kLatin1)
                         ? (d.size < expected || d.size > 2 * expected)
                         : d.size != expected;
    if (bad) return ArraySizeError(array, d.size);
    array.pending_data_ = data;
    return absl::OkStatus();
  }
  return DecodeArray(array, store_->StringOf(d));
}

absl::Status Unpickler::ArraySizeError(const NdArray& array,
                                       uint64_t found) const {
  return ErrorAt(
      array.build_offset_, "BUILD",
      absl::StrCat("numpy array data: ", array.Description(), " needs ",
                   array.num_elements_ * NumpyTypeSize(array.type_),
                   " bytes, found ", found));
}

absl::Status Unpickler::DecodeArray(NdArray& array, absl::string_view raw) {
  const int item = NumpyTypeSize(array.type_);
  const int64_t count = array.num_elements_;
  if (raw.size() != static_cast<uint64_t>(count) * item) {
    return ArraySizeError(array, raw.size());
  }
  if (array.type_ == NumpyType::kBool) {
    for (int64_t i = 0; i < count; ++i) {
      if (static_cast<uint8_t>(raw[i]) > 1) {
        return ErrorAt(
            array.build_offset_, "BUILD",
            absl::StrCat("numpy bool array: element ", i, " is byte ",
                         static_cast<int>(static_cast<uint8_t>(raw[i]))));
      }
    }
  }
  const bool swap = array.big_endian_ && item > 1;
  const bool reorder = array.fortran_ && array.shape_.size() >= 2 && count > 1;
  if (count == 0) {
    array.data_ = kEmptyData;
    return absl::OkStatus();
  }
  if (!swap && !reorder &&
      reinterpret_cast<uintptr_t>(raw.data()) % item == 0) {
    array.data_ = raw.data();
    return absl::OkStatus();
  }
  char* out = store_->arena.Allocate(raw.size());
  const size_t ndim = array.shape_.size();
  std::vector<int64_t> index(ndim, 0), fstride(ndim, 1);
  for (size_t k = 1; k < ndim; ++k) {
    fstride[k] = fstride[k - 1] * array.shape_[k - 1];
  }
  int64_t from = 0;  // the Fortran-order position of `index`
  for (int64_t c = 0; c < count; ++c) {
    const char* src = raw.data() + (reorder ? from : c) * item;
    char* dst = out + c * item;
    if (swap) {
      for (int b = 0; b < item; ++b) dst[b] = src[item - 1 - b];
    } else {
      std::memcpy(dst, src, item);
    }
    if (reorder) {  // next C-order index
      for (size_t k = ndim; k-- > 0;) {
        from += fstride[k];
        if (++index[k] < array.shape_[k]) break;
        from -= fstride[k] * array.shape_[k];
        index[k] = 0;
      }
    }
  }
  array.data_ = out;
  return absl::OkStatus();
}

}  // namespace pickle_internal

// ---- Numpy helpers ----

absl::string_view NumpyTypeName(NumpyType type) {
  switch (type) {
    case NumpyType::kBool:
      return "bool";
    case NumpyType::kInt8:
      return "int8";
    case NumpyType::kUInt8:
      return "uint8";
    case NumpyType::kInt16:
      return "int16";
    case NumpyType::kUInt16:
      return "uint16";
    case NumpyType::kInt32:
      return "int32";
    case NumpyType::kUInt32:
      return "uint32";
    case NumpyType::kInt64:
      return "int64";
    case NumpyType::kUInt64:
      return "uint64";
    case NumpyType::kFloat16:
      return "float16";
    case NumpyType::kFloat32:
      return "float32";
    case NumpyType::kFloat64:
      return "float64";
  }
  return "?";
}

int NumpyTypeSize(NumpyType type) {
  switch (type) {
    case NumpyType::kBool:
    case NumpyType::kInt8:
    case NumpyType::kUInt8:
      return 1;
    case NumpyType::kInt16:
    case NumpyType::kUInt16:
    case NumpyType::kFloat16:
      return 2;
    case NumpyType::kInt32:
    case NumpyType::kUInt32:
    case NumpyType::kFloat32:
      return 4;
    case NumpyType::kInt64:
    case NumpyType::kUInt64:
    case NumpyType::kFloat64:
      return 8;
  }
  return 1;
}

double HalfToDouble(uint16_t bits) {
  const int sign = bits >> 15;
  const int exponent = (bits >> 10) & 0x1F;
  const int mantissa = bits & 0x3FF;
  double magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude = mantissa == 0 ? std::numeric_limits<double>::infinity()
                              : std::numeric_limits<double>::quiet_NaN();
  } else {
    magnitude =
        std::ldexp(static_cast<double>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -magnitude : magnitude;
}

const void* NdArray::CheckedData(NumpyType expected, bool half_ok) const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  CHECK(type_ == expected || (half_ok && type_ == NumpyType::kFloat16))
      << "data<" << NumpyTypeName(expected) << ">() on " << Description();
  return data_;
}

std::vector<double> NdArray::ToDoubles() const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  std::vector<double> out(num_elements_);
  const int item = NumpyTypeSize(type_);
  for (int64_t i = 0; i < num_elements_; ++i) {
    out[i] = pickle_internal::ElementAsDouble(type_, data_ + i * item);
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> NdArray::ToInt64s() const {
  CHECK(!skipped_) << "the data of " << Description() << " were skipped";
  if (!pickle_internal::IsIntegerType(type_)) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer array, found ", Description()));
  }
  std::vector<int64_t> out(num_elements_);
  const int item = NumpyTypeSize(type_);
  for (int64_t i = 0; i < num_elements_; ++i) {
    if (!pickle_internal::ElementAsInt64(type_, data_ + i * item, &out[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          Description(), ": element ", i, " does not fit in int64"));
    }
  }
  return out;
}

std::string NdArray::Description() const {
  return absl::StrCat("ndarray ", NumpyTypeName(type_), " ",
                      ShapeString(shape_), skipped_ ? " [data skipped]" : "");
}

}  // namespace elm
