// EpochOrder: the order in which the epoch-based samplers (SHD, ListOps,
// Fashion-MNIST) visit a split's examples, as the reference's shuffled
// DataLoader does: a permutation of the examples (the identity when not
// shuffled), shuffled once at the start and again whenever fewer than a batch
// remain (the last partial batch is dropped). The shuffle is Fisher–Yates from
// its own seeded Rng (as numpy's in-place shuffle, another stream), so a seed
// gives the same batches on every platform.
//
// Example:
//   EpochOrder order(/*first=*/0, /*count=*/pool.size(), /*shuffle=*/true,
//   seed); for (int64_t i : order.Next(batch_size)) Append(pool[i], &batch);
#ifndef ELM_DATA_EPOCH_ORDER_H_
#define ELM_DATA_EPOCH_ORDER_H_

#include <cstdint>
#include <vector>

#include "absl/types/span.h"
#include "base/rng.h"

namespace elm {

class EpochOrder {
 public:
  // Visits examples first, first + 1, ..., first + count − 1 (count >= 0).
  EpochOrder(int64_t first, int64_t count, bool shuffle, uint64_t seed);

  // The example indices of the next batch, valid until the next call.
  // 1 <= batch <= count (checked).
  absl::Span<const int64_t> Next(int batch);

 private:
  void Shuffle();

  const bool shuffle_;
  Rng rng_;
  std::vector<int64_t> order_;
  size_t pos_ = 0;
};

}  // namespace elm

#endif  // ELM_DATA_EPOCH_ORDER_H_
