#pragma once
// Errors as values for the history store. The store runs on duplexd's loop thread, so a failed
// write (disk full, read-only file, a lock held by another process) must come back as a value
// the loop can turn into an "unavailable" reply, never as an exception unwinding the loop.
#include <string>

#include "hub/result.h"

namespace duplex::hub {

struct StoreError {
  int code = 0;  // SQLite's extended result code: SQLITE_FULL, SQLITE_READONLY, ...
  std::string
      message;  // what we were doing, then SQLite's own words: "append: database or disk is full"
};

template <class T>
using StoreResult = Result<T, StoreError>;

}  // namespace duplex::hub
