#pragma once
// Latencies in nanoseconds, kept in log-linear buckets (HdrHistogram's idea): exact below 64 ns,
// then 32 buckets per power of two, so a percentile is within ~3% while recording a sample is
// an array increment with no allocation.
#include <array>
#include <cstddef>
#include <cstdint>

namespace bench {

class LatencyHistogram {
 public:
  void record(uint64_t ns) {
    ++buckets_[indexOf(ns)];
    ++count_;
  }
  uint64_t count() const { return count_; }
  // The value below which a fraction `p` (0..1) of the samples lie; 0 when empty.
  uint64_t percentile(double p) const;
  void clear();

 private:
  static constexpr int kSubBits = 5;
  static constexpr uint64_t kSub = 1u << kSubBits;  // buckets per power of two
  static constexpr uint64_t kExact = 2 * kSub;      // values below this have their own bucket
  static constexpr size_t kBuckets = kExact + (64 - kSubBits - 1) * kSub;

  static size_t indexOf(uint64_t v);
  static uint64_t valueOf(size_t index);  // midpoint of the bucket

  std::array<uint64_t, kBuckets> buckets_{};
  uint64_t count_ = 0;
};

}  // namespace bench
