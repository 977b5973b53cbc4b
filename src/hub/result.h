#pragma once
// A value or an error, for code that runs on a loop thread: a failure (a full disk, a bad
// token, a malformed configuration) must come back as a value the loop can answer with, never
// as an exception unwinding the loop. The hub names its two kinds: StoreResult<T> (SQLite's
// code and words, store_result.h) and HubResult<T> (a protocol error code, hub_protocol_error.h).
#include <optional>
#include <utility>
#include <variant>

namespace duplex::hub {

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, E> v_;
};

// Success carries nothing: ok, or an error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  Result(E error) : error_(std::move(error)) {}

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const E& error() const { return *error_; }

 private:
  std::optional<E> error_;
};

}  // namespace duplex::hub
