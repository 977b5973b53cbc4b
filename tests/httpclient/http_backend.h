#pragma once
// tests/httpclient/http_backend.py as a child process for a test (its fixture): started, its
// port read from its first line, killed when the object goes. The test's CMakeLists defines
// DUPLEX_PYTHON3 and DUPLEX_HTTP_BACKEND.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

extern char** environ;

namespace duplex::test {

// tests/httpclient/http_backend.py, started for the test's fixture and killed after it.
class HttpBackend {
 public:
  HttpBackend() {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    const char* argv[] = {DUPLEX_PYTHON3, DUPLEX_HTTP_BACKEND, nullptr};
    if (posix_spawn(&pid_, DUPLEX_PYTHON3, &actions, nullptr, const_cast<char**>(argv), environ)) {
      throw std::runtime_error("posix_spawn");
    }
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    FILE* lines = fdopen(out[0], "r");
    if (fscanf(lines, "%d", &port_) != 1) throw std::runtime_error("the backend gave no port");
    fclose(lines);
  }
  ~HttpBackend() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
};

}  // namespace duplex::test
