#pragma once
// Counts this thread's calls of operator new while an AllocationCounter lives: how tests show
// that a hot path allocates nothing once its buffers have grown.
#include <cstddef>

namespace duplex::hub::test {

class AllocationCounter {
 public:
  AllocationCounter();
  ~AllocationCounter();
  AllocationCounter(const AllocationCounter&) = delete;
  AllocationCounter& operator=(const AllocationCounter&) = delete;
  size_t count() const;
};

}  // namespace duplex::hub::test
