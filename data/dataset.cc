// Batch helpers: see dataset.h.
#include "data/dataset.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace elm {

const char* SplitName(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train";
    case Split::kValid:
      return "valid";
    case Split::kTest:
      return "test";
  }
  return "?";
}

void Batch::ToDense(float* out) const {
  const int64_t rows = batch * steps;
  std::fill(out, out + rows * input_dim, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = row_begin[r]; k < row_begin[r + 1]; ++k) {
      out[r * input_dim + channel[k]] += value[k];
    }
  }
}

bool Batch::IsConsistent(std::string* why) const {
  const int64_t rows = batch * steps;
  if (static_cast<int64_t>(row_begin.size()) != rows + 1) {
    *why = absl::StrCat("row_begin has ", row_begin.size(),
                        " entries; expected ", rows + 1);
    return false;
  }
  if (row_begin.front() != 0 ||
      row_begin.back() != static_cast<int64_t>(channel.size()) ||
      channel.size() != value.size()) {
    *why = "row_begin does not span channel/value, or they differ in length";
    return false;
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (row_begin[r] > row_begin[r + 1]) {
      *why = absl::StrCat("row_begin decreases at row ", r);
      return false;
    }
  }
  for (size_t k = 0; k < channel.size(); ++k) {
    if (channel[k] < 0 || channel[k] >= input_dim) {
      *why = absl::StrCat("channel ", channel[k], " at nonzero ", k,
                          " outside [0, ", input_dim, ")");
      return false;
    }
  }
  const bool per_step = !spike.empty() || !soma.empty();
  if (per_step && (static_cast<int64_t>(spike.size()) != rows ||
                   static_cast<int64_t>(soma.size()) != rows)) {
    *why = "spike/soma targets must have B·T entries";
    return false;
  }
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != batch) {
    *why = "labels must have B entries";
    return false;
  }
  return true;
}

}  // namespace elm
