#pragma once
// A redis-server of the test's own (Debian's /usr/bin/redis-server), on a free port of
// 127.0.0.1 with a temporary directory and no persistence; killed (SIGKILL) when the object
// goes, never a system service. It can be killed and started again on the same port.
#include <cstdint>
#include <string>
#include <vector>

namespace duplex::test {

class RedisServer {
 public:
  // `extra` goes after the defaults (--requirepass x, --user ...). With `tls`, the port is a
  // TLS port (--tls-port, --port 0) and `extra` should name the certificate files.
  explicit RedisServer(std::vector<std::string> extra = {}, bool tls = false);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Whether it is running (it fails to start when the option is unknown, such as --tls-port
  // in a build without TLS); startError() then holds the end of its log.
  bool running() const { return pid_ > 0; }
  const std::string& startError() const { return startError_; }

  uint16_t port() const { return port_; }
  // redis://127.0.0.1:PORT (or rediss://), with `path` appended ("/3").
  std::string url(const std::string& userinfo = "", const std::string& path = "") const;

  void kill();  // SIGKILL, and waits for it to be gone
  // SIGSTOP / SIGCONT: a Redis that hangs, its connections open, answering nothing.
  void pause();
  void resume();
  bool restart();  // on the same port; false if it did not come up

 private:
  bool start();

  std::vector<std::string> extra_;
  bool tls_;
  std::string dir_;
  uint16_t port_ = 0;
  int pid_ = -1;
  std::string startError_;
};

}  // namespace duplex::test
