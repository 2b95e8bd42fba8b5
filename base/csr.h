// Sparse rows in CSR form: the one input layout that every dataset produces
// (data/dataset.h's Batch holds a CsrMatrix) and every model consumes (a
// CsrView, elm/fused_unroll.h and experiments/model_registry.h). Row r's
// nonzeros are (col[k], value[k]) for k in [row_begin[r], row_begin[r + 1]);
// for sequence batches the rows are b·T + t. CsrMatrix owns its arrays;
// CsrView points into one (or into any arrays of the same layout) and must not
// outlive them.
//
// Example:
//   CsrMatrix m;                 // 2 × 3: [[0, 1, 0], [−1, 0, 0]]
//   m.rows = 2; m.cols = 3;
//   m.row_begin = {0, 1, 2}; m.col = {1, 0}; m.value = {1.0f, -1.0f};
//   CsrView second = m.view().Rows(1, 1);  // the row [−1, 0, 0]
#ifndef ELM_BASE_CSR_H_
#define ELM_BASE_CSR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace elm {

// A non-owning view of [rows, cols] sparse rows.
struct CsrView {
  const int64_t* row_begin = nullptr;  // [rows + 1]
  const int32_t* col = nullptr;        // [nnz], indexed by row_begin
  const float* value = nullptr;        // [nnz]
  int64_t rows = 0;
  int64_t cols = 0;

  // Rows [first, first + count) (0 <= first, first + count <= rows). The
  // row_begin entries stay offsets into the same col/value arrays.
  CsrView Rows(int64_t first, int64_t count) const;
  // Writes the dense [rows, cols] matrix (row-major, zeros elsewhere; repeated
  // (row, col) entries are summed) to `out`.
  void ToDense(float* out) const;
};

// Owning [rows, cols] sparse rows.
struct CsrMatrix {
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<int64_t> row_begin;  // [rows + 1]
  std::vector<int32_t> col;        // [nnz]
  std::vector<float> value;        // [nnz]

  CsrView view() const {
    return CsrView{row_begin.data(), col.data(), value.data(), rows, cols};
  }
  void ToDense(float* out) const { view().ToDense(out); }
  // Checks the invariants: row_begin has rows + 1 entries, starts at 0, does
  // not decrease and ends at nnz; col and value have nnz entries; every col is
  // in [0, cols). On failure *why says which (for tests and readers).
  bool IsConsistent(std::string* why) const;
};

// The same shape and the same arrays (the same nonzeros in the same order).
bool operator==(const CsrMatrix& a, const CsrMatrix& b);
inline bool operator!=(const CsrMatrix& a, const CsrMatrix& b) {
  return !(a == b);
}

}  // namespace elm

#endif  // ELM_BASE_CSR_H_
