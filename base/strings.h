// Text forms shared by error messages and output files: ShapeString, the
// shape of a tensor as Python prints it ("(2, 3)", "(5,)", "()") or as a list
// ("[2, 3]"), and Num, a double in the shortest form that reads back as the
// same double ("0.1", "1e+20", "nan", "inf") or to a number of significant
// digits.
#ifndef ELM_BASE_STRINGS_H_
#define ELM_BASE_STRINGS_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"

namespace elm {

enum class ShapeStyle {
  kTuple,  // "(2, 3)", "(5,)", "()": Python's tuple, as numpy and torch print
  kList,   // "[2, 3]", "[5]", "[]": the ELMTENSOR messages
};

std::string ShapeString(absl::Span<const int64_t> shape,
                        ShapeStyle style = ShapeStyle::kTuple);

// The shortest decimal form that parses back (strtod) to exactly `v`
// (std::to_chars; the digits Python's repr(float) chooses, but an integral
// value has no ".0"): "0.1", "3", "-2.5e-07", "1e+20". Not-a-number is "nan",
// the infinities "inf" and "-inf". A float widened to double prints the
// double's digits (0.1f: "0.10000000149011612").
std::string Num(double v);

// `v` rounded to `significant_digits` (>= 1) significant digits, as printf's
// %.<n>g writes it ("0.123456789", "1.5e-07"; "nan", "inf", "-inf"): for
// tables and files meant to be read by people (metrics.csv, summary.json).
std::string Num(double v, int significant_digits);

}  // namespace elm

#endif  // ELM_BASE_STRINGS_H_
