// ShapeString and Num: see strings.h.
#include "base/strings.h"

#include <charconv>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "glog/logging.h"

namespace elm {

std::string ShapeString(absl::Span<const int64_t> shape, ShapeStyle style) {
  if (style == ShapeStyle::kList) {
    return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
  }
  return absl::StrCat("(", absl::StrJoin(shape, ", "),
                      shape.size() == 1 ? ",)" : ")");
}

std::string Num(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  const std::to_chars_result r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string Num(double v, int significant_digits) {
  CHECK_GE(significant_digits, 1);
  return absl::StrFormat("%.*g", significant_digits, v);
}

}  // namespace elm
