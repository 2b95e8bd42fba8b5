// EpochOrder: see epoch_order.h.
#include "data/epoch_order.h"

#include <utility>

#include "glog/logging.h"

namespace elm {

EpochOrder::EpochOrder(int64_t first, int64_t count, bool shuffle,
                       uint64_t seed)
    : shuffle_(shuffle), rng_(seed) {
  CHECK_GE(count, 0);
  order_.resize(count);
  for (int64_t i = 0; i < count; ++i) order_[i] = first + i;
  if (shuffle_) Shuffle();
}

absl::Span<const int64_t> EpochOrder::Next(int batch) {
  CHECK_GE(batch, 1);
  CHECK_LE(static_cast<size_t>(batch), order_.size());
  if (pos_ + batch > order_.size()) {
    pos_ = 0;
    if (shuffle_) Shuffle();
  }
  const absl::Span<const int64_t> out(order_.data() + pos_, batch);
  pos_ += batch;
  return out;
}

void EpochOrder::Shuffle() {
  for (size_t i = order_.size(); i > 1; --i) {
    std::swap(order_[i - 1], order_[rng_.UniformInt(i)]);
  }
}

}  // namespace elm
