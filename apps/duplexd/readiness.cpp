#include "readiness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "data_dir_lock.h"

namespace duplexd {

std::optional<std::string> Readiness::checkFiles() const {
  const std::string probe = dataDir + "/.readyz-probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return "cannot create " + probe + ": " + reasonOf(errno);
  const bool written = ::write(fd, "ok\n", 3) == 3 && ::fsync(fd) == 0;
  const int writeError = errno;
  ::close(fd);
  ::unlink(probe.c_str());
  if (!written) return "cannot write " + probe + ": " + reasonOf(writeError);
  if (storeFile.empty()) return std::nullopt;  // the Redis engine: no file of ours
  struct stat file;
  if (::stat(storeFile.c_str(), &file) != 0) {
    return storeFile + ": " + reasonOf(errno) + " (the store's file is gone; restart duplexd)";
  }
  if (::access(storeFile.c_str(), R_OK | W_OK) != 0) return storeFile + ": " + reasonOf(errno);
  return std::nullopt;
}

void Readiness::check(Answer answer) const {
  if (auto reason = checkFiles()) return answer(std::move(reason));
  if (!checkStore) return answer(std::nullopt);
  checkStore([file = storeFile, answer = std::move(answer)](std::optional<std::string> error) {
    if (error) return answer(file.empty() ? *error : file + ": " + *error);
    answer(std::nullopt);
  });
}

}  // namespace duplexd
