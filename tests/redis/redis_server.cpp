#include "redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "net_test_util.h"

namespace duplex::test {
namespace {

bool accepts(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = loopbackAddress(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

std::string tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  return all.size() > 2000 ? all.substr(all.size() - 2000) : all;
}

}  // namespace

RedisServer::RedisServer(std::vector<std::string> extra, bool tls)
    : extra_(std::move(extra)), tls_(tls) {
  std::string pattern = (std::filesystem::temp_directory_path() / "duplex-redis-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  // A port another test took between unusedLoopbackPort() and redis-server's bind: try another.
  for (int tries = 0; tries < 3 && !running(); ++tries) {
    port_ = unusedLoopbackPort();
    start();
  }
}

RedisServer::~RedisServer() {
  kill();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string RedisServer::url(const std::string& userinfo, const std::string& path) const {
  std::string url = tls_ ? "rediss://" : "redis://";
  if (!userinfo.empty()) url += userinfo + "@";
  return url + "127.0.0.1:" + std::to_string(port_) + path;
}

bool RedisServer::start() {
  std::string port = std::to_string(port_);
  std::vector<std::string> args{"/usr/bin/redis-server",
                                "--bind",
                                "127.0.0.1",
                                "--dir",
                                dir_,
                                "--save",
                                "",
                                "--appendonly",
                                "no",
                                "--daemonize",
                                "no",
                                "--logfile",
                                dir_ + "/redis.log"};
  if (tls_) {
    args.insert(args.end(), {"--port", "0", "--tls-port", port});
  } else {
    args.insert(args.end(), {"--port", port});
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  const pid_t parent = getpid();
  int pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Dies with the test: a test killed by ctest's timeout must not leave its redis-server
    // running (as the Python suites' servers do, tests/support/servers.py).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the test died before prctl
    // What redis-server prints before it opens its log (a bad option) goes to the log too.
    int log = ::open((dir_ + "/redis.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (log >= 0) {
      dup2(log, 1);
      dup2(log, 2);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      startError_ = tail(dir_ + "/redis.log");
      return false;
    }
    if (accepts(port_)) {
      pid_ = pid;
      startError_.clear();
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  startError_ = "redis-server did not accept connections within 5 s: " + tail(dir_ + "/redis.log");
  return false;
}

void RedisServer::kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void RedisServer::pause() {
  if (pid_ > 0) ::kill(pid_, SIGSTOP);
}

void RedisServer::resume() {
  if (pid_ > 0) ::kill(pid_, SIGCONT);
}

bool RedisServer::restart() {
  kill();
  return start();
}

}  // namespace duplex::test
