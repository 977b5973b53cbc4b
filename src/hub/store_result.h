#pragma once
// Errors as values for the history store. The store runs on duplexd's loop thread, so a failed
// write (disk full, read-only file, a lock held by another process) must come back as a value
// the loop can turn into an "unavailable" reply, never as an exception unwinding the loop.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace duplex::hub {

struct StoreError {
  int code = 0;  // SQLite's extended result code: SQLITE_FULL, SQLITE_READONLY, ...
  std::string
      message;  // what we were doing, then SQLite's own words: "append: database or disk is full"
};

template <class T>
class [[nodiscard]] StoreResult {
 public:
  StoreResult(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  StoreResult(StoreError error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const StoreError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, StoreError> v_;
};

template <>
class [[nodiscard]] StoreResult<void> {
 public:
  StoreResult() = default;
  StoreResult(StoreError error) : error_(std::move(error)) {}

  bool ok() const { return !error_; }
  explicit operator bool() const { return ok(); }
  const StoreError& error() const { return *error_; }

 private:
  std::optional<StoreError> error_;
};

}  // namespace duplex::hub
