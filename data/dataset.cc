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

bool operator==(const Batch& a, const Batch& b) {
  return a.batch == b.batch && a.steps == b.steps && a.inputs == b.inputs &&
         a.spike == b.spike && a.soma == b.soma && a.labels == b.labels;
}

bool Batch::IsConsistent(std::string* why) const {
  const int64_t rows = batch * steps;
  if (inputs.rows != rows) {
    *why = absl::StrCat("inputs have ", inputs.rows,
                        " rows; expected B·T = ", rows);
    return false;
  }
  if (!inputs.IsConsistent(why)) return false;
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
