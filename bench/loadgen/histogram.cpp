#include "histogram.h"

#include <bit>

namespace bench {

size_t LatencyHistogram::indexOf(uint64_t v) {
  if (v < kExact) return v;
  const int msb = 63 - std::countl_zero(v);  // >= kSubBits + 1
  const int shift = msb - kSubBits;
  const uint64_t top = v >> shift;  // in [kSub, 2 * kSub)
  return kExact + static_cast<size_t>(msb - kSubBits - 1) * kSub + (top - kSub);
}

uint64_t LatencyHistogram::valueOf(size_t index) {
  if (index < kExact) return index;
  const size_t k = (index - kExact) / kSub;
  const uint64_t r = (index - kExact) % kSub;
  const int shift = static_cast<int>(k) + 1;
  return ((kSub + r) << shift) + ((uint64_t{1} << shift) >> 1);
}

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(p * static_cast<double>(count_));
  if (rank >= count_) rank = count_ - 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += buckets_[i];
    if (seen > rank) return valueOf(i);
  }
  return valueOf(kBuckets - 1);
}

void LatencyHistogram::clear() {
  buckets_.fill(0);
  count_ = 0;
}

}  // namespace bench
