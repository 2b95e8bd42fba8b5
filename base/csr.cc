// Sparse rows in CSR form: see csr.h.
#include "base/csr.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace elm {

CsrView CsrView::Rows(int64_t first, int64_t count) const {
  CHECK_GE(first, 0);
  CHECK_GE(count, 0);
  CHECK_LE(first + count, rows);
  return CsrView{row_begin + first, col, value, count, cols};
}

void CsrView::ToDense(float* out) const {
  std::fill(out, out + rows * cols, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = row_begin[r]; k < row_begin[r + 1]; ++k) {
      out[r * cols + col[k]] += value[k];
    }
  }
}

bool operator==(const CsrMatrix& a, const CsrMatrix& b) {
  return a.rows == b.rows && a.cols == b.cols && a.row_begin == b.row_begin &&
         a.col == b.col && a.value == b.value;
}

bool CsrMatrix::IsConsistent(std::string* why) const {
  if (rows < 0 || cols < 0) {
    *why = absl::StrCat("negative shape [", rows, ", ", cols, "]");
    return false;
  }
  if (static_cast<int64_t>(row_begin.size()) != rows + 1) {
    *why = absl::StrCat("row_begin has ", row_begin.size(),
                        " entries; expected ", rows + 1);
    return false;
  }
  if (row_begin.front() != 0 ||
      row_begin.back() != static_cast<int64_t>(col.size()) ||
      col.size() != value.size()) {
    *why = "row_begin does not span col/value, or they differ in length";
    return false;
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (row_begin[r] > row_begin[r + 1]) {
      *why = absl::StrCat("row_begin decreases at row ", r);
      return false;
    }
  }
  for (size_t k = 0; k < col.size(); ++k) {
    if (col[k] < 0 || col[k] >= cols) {
      *why = absl::StrCat("col ", col[k], " at nonzero ", k, " outside [0, ",
                          cols, ")");
      return false;
    }
  }
  return true;
}

}  // namespace elm
