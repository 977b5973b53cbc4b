#include "httpclient/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>

#include <mutex>
#include <stdexcept>

#include "net/loop.h"
#include "net/pollable.h"

namespace duplex::httpclient {

namespace {

void initCurlOnce() {
  // curl_global_init is not thread-safe; loops on several threads may each make a client.
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
      throw std::runtime_error("curl_global_init failed");
    }
  });
}

CURLM* multiOf(void* multi) {
  return static_cast<CURLM*>(multi);
}

size_t appendBody(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

HttpFailure failureOf(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return HttpFailure::None;
    case CURLE_OPERATION_TIMEDOUT:
      return HttpFailure::Timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
      return HttpFailure::Refused;
    default:
      return HttpFailure::Other;
  }
}

}  // namespace

// One socket libcurl asked us to watch. The loop may still hold a readiness event for it when
// libcurl lets it go in the same iteration, so a released watcher is only marked dead and
// deleted at the end of the iteration (Loop::defer), never at once.
class HttpClient::Watcher final : public net::Pollable {
 public:
  Watcher(HttpClient& client, int fd) : client_(&client), fd_(fd) {}
  void onEvents(uint32_t events) override {
    if (!client_) return;
    int flags = 0;
    if (events & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    client_->act(fd_, flags);
  }
  void release(net::Loop& loop) {
    client_ = nullptr;
    loop.defer([this] { delete this; });
  }
  int fd() const { return fd_; }
  bool registered = false;

 private:
  HttpClient* client_;
  int fd_;
};

struct HttpClient::Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  Done done;
  std::string body;
  char error[CURL_ERROR_SIZE] = {};
  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

HttpClient::HttpClient(net::Loop& loop, HttpClientOptions options) : loop_(loop) {
  initCurlOnce();
  CURLM* multi = curl_multi_init();
  if (!multi) throw std::runtime_error("curl_multi_init failed");
  multi_ = multi;
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &HttpClient::onSocket);
  curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &HttpClient::onTimer);
  curl_multi_setopt(multi, CURLMOPT_TIMERDATA, this);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, options.maxConnectionsPerHost);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, options.maxConnections);
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, options.maxConnections);
}

HttpClient::~HttpClient() {
  *alive_ = false;
  if (timer_) loop_.cancelTimer(timer_);
  CURLM* multi = multiOf(multi_);
  // Abandon the transfers: their callbacks are not called. libcurl closes the pooled
  // connections in curl_multi_cleanup and tells onSocket, which releases their watchers.
  for (Transfer* transfer : transfers_) {
    curl_multi_remove_handle(multi, transfer->easy);
    delete transfer;
  }
  transfers_.clear();
  curl_multi_cleanup(multi);
  // Whatever libcurl did not hand back: stop watching it (it may be closed already).
  for (Watcher* watcher : watchers_) {
    if (watcher->registered) loop_.remove(watcher->fd());
    watcher->release(loop_);
  }
}

void HttpClient::post(HttpRequest request, Done done) {
  auto transfer = std::make_unique<Transfer>();
  CURL* easy = curl_easy_init();
  if (!easy) return failLater(std::move(done), "curl_easy_init failed");
  transfer->easy = easy;
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  curl_easy_setopt(easy, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeoutMs));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM: we are not its only thread
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &appendBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->body);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error);
  curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
  transfer->headers = curl_slist_append(transfer->headers, "Content-Type: application/json");
  // Without this, a body over 1 KiB waits up to a second for a "100 Continue" that many small
  // servers never send.
  transfer->headers = curl_slist_append(transfer->headers, "Expect:");
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    transfer->headers = curl_slist_append(transfer->headers, line.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, transfer->headers);
  // libcurl starts nothing here: it asks for a timer (onTimer), whose expiry starts the
  // transfer on a later turn of the loop, so `done` never runs inside post().
  if (curl_multi_add_handle(multiOf(multi_), easy) != CURLM_OK) {
    return failLater(std::move(done), "curl_multi_add_handle failed");
  }
  transfer->done = std::move(done);
  transfers_.insert(transfer.release());  // also reached through CURLOPT_PRIVATE
}

void HttpClient::failLater(Done done, const char* why) {
  // Out of memory, in effect: answered like any failure, later, as post() promises.
  loop_.defer([alive = std::weak_ptr<bool>(alive_), done = std::move(done), why] {
    auto live = alive.lock();
    if (!live || !*live) return;
    HttpAnswer answer;
    answer.failure = HttpFailure::Other;
    answer.error = why;
    done(std::move(answer));
  });
}

int HttpClient::onSocket(void*, int fd, int what, void* self, void* watcherPtr) {
  auto& client = *static_cast<HttpClient*>(self);
  auto* watcher = static_cast<Watcher*>(watcherPtr);
  if (what == CURL_POLL_REMOVE) {
    if (watcher) {
      if (watcher->registered) client.loop_.remove(fd);
      curl_multi_assign(multiOf(client.multi_), fd, nullptr);
      client.watchers_.erase(watcher);
      watcher->release(client.loop_);
    }
    return 0;
  }
  uint32_t events = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
  if (!watcher) {
    watcher = new Watcher(client, fd);
    client.watchers_.insert(watcher);
    curl_multi_assign(multiOf(client.multi_), fd, watcher);
  }
  if (watcher->registered) {
    client.loop_.modify(fd, events, watcher);
  } else {
    client.loop_.add(fd, events, watcher);
    watcher->registered = true;
  }
  return 0;
}

int HttpClient::onTimer(void*, long timeoutMs, void* self) {
  auto& client = *static_cast<HttpClient*>(self);
  if (client.timer_) client.loop_.cancelTimer(client.timer_);
  client.timer_ = 0;
  if (timeoutMs < 0) return 0;
  // Even a 0 ms timeout waits for the loop's next timer pass: libcurl must not be re-entered
  // from inside its own callback.
  client.timer_ = client.loop_.setTimeout(static_cast<uint64_t>(timeoutMs), [&client] {
    client.timer_ = 0;
    client.act(CURL_SOCKET_TIMEOUT, 0);
  });
  return 0;
}

void HttpClient::act(int fd, int flags) {
  int running = 0;
  curl_multi_socket_action(multiOf(multi_), fd, flags, &running);
  finishDone();
}

void HttpClient::finishDone() {
  std::shared_ptr<bool> alive = alive_;
  int left = 0;
  while (CURLMsg* message = curl_multi_info_read(multiOf(multi_), &left)) {
    if (message->msg != CURLMSG_DONE) continue;
    CURL* easy = message->easy_handle;
    CURLcode code = message->data.result;
    Transfer* raw = nullptr;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, &raw);
    std::unique_ptr<Transfer> transfer(raw);
    HttpAnswer answer;
    answer.failure = failureOf(code);
    long connects = 0;
    curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
    connectionsOpened_ += static_cast<uint64_t>(connects);
    if (answer.answered()) {
      curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer.status);
      answer.body = std::move(transfer->body);
    } else {
      answer.error = transfer->error[0] ? transfer->error : curl_easy_strerror(code);
    }
    curl_multi_remove_handle(multiOf(multi_), easy);
    transfers_.erase(raw);
    Done done = std::move(transfer->done);
    transfer.reset();
    done(std::move(answer));
    if (!*alive) return;  // `done` destroyed the client
  }
}

}  // namespace duplex::httpclient
