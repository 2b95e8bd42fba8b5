// Loading a model from a state_dict (a list of NamedTensors, as read from a
// .pt file, an ELMTENSOR file or a checkpoint) with the checks every loader
// makes: StateDictReader finds tensors by name under a prefix and remembers
// which it used, checks shapes, value counts and dtypes with errors that name
// the source and the tensor, and reports the tensors no one asked for;
// LoadParams loads every parameter of a ParamSet, all checked before any is
// written.
//
// Example (a model with parameters and a buffer "tau"):
//   StateDictReader reader(tensors, prefix, source);
//   RETURN_IF_ERROR(LoadParams(reader, &params_, [](const ParamInfo& p) {
//     return std::vector<int64_t>{p.rows, p.cols};
//   }));
//   ASSIGN_OR_RETURN(const NamedTensor* tau, reader.RequireFloating("tau",
//   {n}));
//   ...
//   return reader.CheckAllUsed(" for this model");
#ifndef ELM_AUTODIFF_STATE_DICT_H_
#define ELM_AUTODIFF_STATE_DICT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "autodiff/params.h"
#include "base/named_tensor.h"

namespace elm {

class StateDictReader {
 public:
  // `tensors` must outlive the reader. Names are looked up as prefix + name;
  // errors start with "<source>: ".
  StateDictReader(absl::Span<const NamedTensor> tensors,
                  absl::string_view prefix, absl::string_view source);

  // The tensor prefix + name, now marked used; nullptr when there is none.
  const NamedTensor* Find(absl::string_view name);

  // Find, or "<source>: missing tensor '<prefix><name>'<why>".
  absl::StatusOr<const NamedTensor*> Require(absl::string_view name,
                                             absl::string_view why = "");

  // That `t` has shape `want` and holds as many values: "... has shape (4, 4);
  // expected (16,)" or "... holds 5 values for shape (6,)".
  absl::Status CheckShape(const NamedTensor& t,
                          absl::Span<const int64_t> want) const;

  // That `t` is f32 or f64: "... has dtype i64; expected f32 or f64".
  absl::Status CheckFloating(const NamedTensor& t) const;

  // Require, CheckShape, CheckFloating.
  absl::StatusOr<const NamedTensor*> RequireFloating(
      absl::string_view name, absl::Span<const int64_t> want);

  // "<source>: tensor '<name>' <problem>" (`name` in full, with the prefix).
  absl::Status Error(absl::string_view name, absl::string_view problem) const;

  // OK when every tensor under the prefix was found; otherwise "<source>:
  // unexpected tensor '<name>'<what>" for the first one that was not.
  absl::Status CheckAllUsed(absl::string_view what = "") const;

  absl::string_view prefix() const { return prefix_; }

 private:
  absl::Span<const NamedTensor> tensors_;
  std::string prefix_;
  std::string source_;
  std::vector<bool> used_;
};

// The shape a parameter has in a state_dict (a [1, n] bias may be stored as
// (n,), a [r, c] weight as (r, c)).
using ParamShapeFn = std::function<std::vector<int64_t>(const ParamInfo&)>;

// Loads every parameter of `params` from the floating tensor named after it:
// each is required, checked for its shape (`shape_of`), dtype and value count
// before any value is written, so a failed load leaves `params` unchanged.
template <typename T>
absl::Status LoadParams(StateDictReader& reader, ParamSet<T>* params,
                        const ParamShapeFn& shape_of);

}  // namespace elm

#endif  // ELM_AUTODIFF_STATE_DICT_H_
