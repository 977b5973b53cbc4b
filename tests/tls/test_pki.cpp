#include "test_pki.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace duplex::test {
namespace {

class Pki {
 public:
  Pki() {
    std::string pattern = (std::filesystem::temp_directory_path() / "duplex-tls-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    std::string command = std::string(DUPLEX_PYTHON3) + " " + DUPLEX_PKI_SCRIPT + " " + dir_;
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  ~Pki() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace

std::string pkiFile(const std::string& name) {
  static Pki pki;
  return pki.dir() + "/" + name;
}

}  // namespace duplex::test
