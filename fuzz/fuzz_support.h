#pragma once
// What the fuzz targets share: an invariant check that holds in every build (assert() vanishes
// under NDEBUG, and the replay tests in tests/fuzz build RelWithDebInfo), and a reader that
// takes a target's parameters (role, limits, chunk sizes) from the front of the fuzz input, so
// that libFuzzer mutates them along with the bytes under test.
//
// Each target is one LLVMFuzzerTestOneInput. clang builds it with libFuzzer (fuzz/build);
// tests/fuzz builds the same file with g++, renaming the entry point, to replay the corpora.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

// On failure: say which invariant broke, then abort, which libFuzzer reports as a crash (with
// the input saved) and gtest as a dead test.
#define FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::duplex::fuzz::checkFailed(#cond, __FILE__, __LINE__))

namespace duplex::fuzz {

[[noreturn]] inline void checkFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::fflush(stderr);
  std::abort();
}

// Bytes from the front of the input; 0 once it is exhausted, so every input is a valid one.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  uint8_t byte() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  // Up to `n` bytes, as a view into the input.
  std::string_view take(size_t n) {
    if (n > size_) n = size_;
    std::string_view s(reinterpret_cast<const char*>(data_), n);
    data_ += n;
    size_ -= n;
    return s;
  }
  std::string_view rest() { return take(size_); }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
};

// Whether `inner` lies entirely within [begin, begin + size). Compared as integers: relational
// operators on pointers into different objects are unspecified.
inline bool within(std::string_view inner, const void* begin, size_t size) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto p = reinterpret_cast<uintptr_t>(inner.data());
  return inner.empty() || (p >= b && p + inner.size() <= b + size);
}
inline bool within(std::string_view inner, std::string_view outer) {
  return within(inner, outer.data(), outer.size());
}

// Whether two ranges share a byte.
inline bool overlaps(std::string_view a, const void* begin, size_t size) {
  const auto b = reinterpret_cast<uintptr_t>(begin);
  const auto p = reinterpret_cast<uintptr_t>(a.data());
  return !a.empty() && size != 0 && p < b + size && b < p + a.size();
}

// Reads every byte of `s`, so that AddressSanitizer checks the whole view is alive and in
// bounds even where the target has nothing else to do with it.
inline volatile unsigned touched = 0;  // where the sums go, so that no read is optimised away
inline void touch(std::string_view s) {
  unsigned sum = 0;
  for (char c : s) sum += static_cast<unsigned char>(c);
  touched = sum;
}

}  // namespace duplex::fuzz
