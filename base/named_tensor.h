// NamedTensor: a named, dtype-tagged, row-major tensor of exact values, the
// exchange form between the weight and golden-vector readers (io/elmtensor.h,
// io/pt_reader.h), checkpoints and models. Values are held as double (f32,
// f64) or int64 (i64, bool), so a file's values round-trip exactly.
#ifndef ELM_BASE_NAMED_TENSOR_H_
#define ELM_BASE_NAMED_TENSOR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace elm {

// One named tensor.
struct NamedTensor {
  std::string name;
  // "f32", "f64", "i64" or "bool".
  std::string dtype;
  // Dims, outermost first; empty for a scalar (ndim 0). A dim may be 0.
  std::vector<int64_t> shape;
  // Row-major values for f32 and f64 (exact; f32 values are floats widened to
  // double). Empty for i64 and bool.
  std::vector<double> values;
  // Row-major values for i64 and bool (bool is 0 or 1). Empty for f32 and f64.
  std::vector<int64_t> int_values;
  // True when the tensor was read from (or is to be written as) a `sparse`
  // block. The values above are dense either way.
  bool sparse = false;

  // Product of the dims (1 for a scalar).
  int64_t num_elements() const;
  // True for f32 and f64.
  bool is_floating() const;
};

}  // namespace elm

#endif  // ELM_BASE_NAMED_TENSOR_H_
