#pragma once
// /readyz: whether this duplexd can do its work now, as a load balancer or orchestrator asks
// before sending traffic (/healthz only says the process answers). Ready means the store can be
// read and written: the data directory takes a small file (written, synced and removed: a full
// disk, a read-only remount or lost permissions fail here), the store's file is still the one
// in the directory (a directory removed under a running server leaves SQLite writing to an
// unlinked file), and the store answers a read and takes a write (a row of its own, through the
// storage thread as publishes go: a lock held by another process or a full disk fail there even
// when the directory still takes a small file). Each failure is one line naming the file and
// the reason, which /readyz answers with 503.
#include <functional>
#include <optional>
#include <string>

namespace duplexd {

struct Readiness {
  std::string dataDir;
  std::string storeFile;  // dataDir + "/channels.db"; empty with the Redis engine (no file)
  // Reads and writes the store and answers, on the loop, nullopt when it could or else why not.
  // Asynchronous: the store belongs to the engine's storage thread, never touched from the loop.
  using Answer = std::function<void(std::optional<std::string>)>;
  std::function<void(Answer)> checkStore;

  // The data directory and the store's file: nullopt when fine, else why not.
  std::optional<std::string> checkFiles() const;
  // All of it (checkFiles, then checkStore): `answer` gets nullopt when ready, else why not.
  void check(Answer answer) const;
};

}  // namespace duplexd
