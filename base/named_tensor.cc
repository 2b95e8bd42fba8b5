// NamedTensor: see named_tensor.h.
#include "base/named_tensor.h"

namespace elm {

int64_t NamedTensor::num_elements() const {
  int64_t count = 1;
  for (int64_t dim : shape) count *= dim;
  return count;
}

bool NamedTensor::is_floating() const {
  return dtype == "f32" || dtype == "f64";
}

}  // namespace elm
