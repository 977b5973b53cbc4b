#include "data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace duplexd {

std::string reasonOf(int error) {
  std::string reason = std::strerror(error);
  if (!reason.empty()) reason[0] = static_cast<char>(std::tolower(reason[0]));
  return reason;
}

bool DataDirLock::acquire(const std::string& dataDir, std::string& error) {
  std::error_code created;
  std::filesystem::create_directories(dataDir, created);
  if (created) {
    error = "cannot create the data directory " + dataDir + ": " + reasonOf(created.value());
    return false;
  }
  const std::string path = dataDir + "/duplexd.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    error = "cannot create " + path + ": " + reasonOf(errno);
    return false;
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int why = errno;
    char pid[32] = {};
    const ssize_t n = ::pread(fd_, pid, sizeof pid - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<size_t>(n)) : "";
    while (!holder.empty() && !std::isdigit(static_cast<unsigned char>(holder.back()))) {
      holder.pop_back();
    }
    error = why == EWOULDBLOCK ? dataDir + " is in use by another duplexd" +
                                     (holder.empty() ? "" : " (pid " + holder + ")") +
                                     "; stop it or give this one another --data"
                               : "cannot lock " + path + ": " + reasonOf(why);
    return false;
  }
  const std::string mine = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, mine.data(), mine.size(), 0) < 0) {
    error = "cannot write " + path + ": " + reasonOf(errno);
    return false;
  }
  return true;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays, holding no pid that counts
}

}  // namespace duplexd
