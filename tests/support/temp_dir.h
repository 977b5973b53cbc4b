#pragma once
// A fresh directory under $TMPDIR (or /tmp) for one test, removed with everything in it.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace duplex::test {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/duplex-test-XXXXXX";
    if (!mkdtemp(pattern.data())) std::abort();
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace duplex::test

// The hub's tests (tests/hub, tests/multiloop) live in duplex::hub::test, where `test::TempDir`
// would otherwise not find this class.
namespace duplex::hub::test {
using duplex::test::TempDir;
}  // namespace duplex::hub::test
