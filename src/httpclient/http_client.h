#pragma once
// An HTTP client that lives on one net::Loop: requests are made and answered on the loop's
// thread, never block it, and need no thread of their own. It is libcurl's multi interface
// driven by the loop (curl_multi_socket_action on the loop's epoll readiness and timers), so it
// speaks HTTP/1.1 and HTTPS, keeps connections alive and reuses them (a pool per client), and
// enforces a timeout per request. The hub's proxies (src/hub/proxy_*.h) use it to ask the
// application's back end.
//
// Why libcurl and not a small client over net::Socket: a back end's answer may be chunked, the
// back end may sit behind TLS, keep-alive needs careful connection bookkeeping (a pooled
// connection the server closed meanwhile must be retried on a new one), and timeouts must cover
// connect, send and receive alike. libcurl has done all of this correctly for decades; what is ours
// is only the ~200 lines that give its sockets and timers to the loop.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

namespace duplex::net {
class Loop;
}

namespace duplex::httpclient {

struct HttpRequest {
  std::string url;   // http:// or https://
  std::string body;  // sent as POST with Content-Type: application/json
  std::vector<std::pair<std::string, std::string>> headers;  // added to the request
  uint32_t timeoutMs = 1000;  // the whole exchange: connect, send, the answer
};

// Why a request got no answer.
enum class HttpFailure : uint8_t {
  None,     // answered (any status)
  Timeout,  // timeoutMs passed
  Refused,  // nobody listens there (connection refused, host unreachable)
  Other,    // anything else (reset, bad URL, TLS); HttpAnswer::error says what
};

struct HttpAnswer {
  HttpFailure failure = HttpFailure::None;
  long status = 0;  // the HTTP status when answered
  std::string body;
  std::string error;  // for humans, when failure != None
  bool answered() const { return failure == HttpFailure::None; }
};

struct HttpClientOptions {
  // Connections kept open per host (more requests at once wait for one) and in all.
  long maxConnectionsPerHost = 32;
  long maxConnections = 64;
};

class HttpClient {
 public:
  // `loop` must outlive the client; the client is used on the loop's thread only.
  explicit HttpClient(net::Loop& loop, HttpClientOptions options = {});
  // Abandons what is in flight: those callbacks are never called.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  using Done = std::function<void(HttpAnswer&&)>;
  // POSTs `request`; `done` runs later on the loop (never inside post), exactly once, unless
  // the client is destroyed first.
  void post(HttpRequest request, Done done);

  size_t inFlight() const { return transfers_.size(); }
  // TCP connections opened so far: fewer than requests when connections are reused.
  uint64_t connectionsOpened() const { return connectionsOpened_; }

 private:
  class Watcher;
  struct Transfer;
  static int onSocket(void* easy, int fd, int what, void* self, void* watcher);
  static int onTimer(void* multi, long timeoutMs, void* self);
  void act(int fd, int flags);
  void failLater(Done done, const char* why);
  void finishDone();

  net::Loop& loop_;
  void* multi_ = nullptr;                    // CURLM*
  uint64_t timer_ = 0;                       // net::Loop::TimerId; 0: none
  std::unordered_set<Transfer*> transfers_;  // owned; freed when done or by the destructor
  std::unordered_set<Watcher*> watchers_;    // the sockets libcurl has us watch
  uint64_t connectionsOpened_ = 0;
  // Set to false by the destructor: a completion running when the client goes stops there.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace duplex::httpclient
