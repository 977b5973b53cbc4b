#pragma once
// One duplexd per --data directory. Two servers on one directory would both start, each with
// its own subscribers, and live messages would not cross between them while both wrote the
// same SQLite files. The first holds an flock(2) on DIR/duplexd.lock for its lifetime (the
// kernel releases it when the process ends, however it ends) and writes its pid there, so the
// second can say who has the directory.
#include <string>

namespace duplexd {

class DataDirLock {
 public:
  // Takes the lock, creating the directory and the lock file as needed. On failure returns
  // false with `error` saying why in words a person acts on: "DIR is in use by another duplexd
  // (pid 4242)", "cannot create DIR/duplexd.lock: permission denied".
  bool acquire(const std::string& dataDir, std::string& error);
  ~DataDirLock();

 private:
  int fd_ = -1;
};

// strerror's wording, lower-cased as the middle of a sentence: "permission denied".
std::string reasonOf(int error);

}  // namespace duplexd
