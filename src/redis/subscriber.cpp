// Subscriber: a Link in pub/sub mode that owns the set of channels it should be subscribed to.
// Redis confirms each SUBSCRIBE and UNSUBSCRIBE channel by channel, in the order sent, so one
// FIFO of send times tracks them all: it gives the timeout, and once it empties after a
// (re)connect every wanted channel is subscribed and onUp may run.
#include <array>
#include <deque>
#include <unordered_set>

#include "net/lifeline.h"
#include "redis/link.h"
#include "redis/redis.h"

namespace duplex::redis {
namespace {

// Channels per SUBSCRIBE sent after a reconnect: one command per channel would be as correct,
// one per thousand is cheaper for Redis and keeps each command a bounded size.
constexpr size_t kChannelsPerCommand = 1000;

}  // namespace

struct Subscriber::Impl final : Link::Owner {
  Impl(net::Loop& loop, Endpoint endpoint, const Options& options)
      : link(loop, std::move(endpoint), options, *this) {
    link.start();
  }
  ~Impl() { lifeline.cut(); }

  void send(const char* verb, std::vector<std::string>& args) {
    args.insert(args.begin(), verb);
    link.send(args);
    uint64_t now = link.loop().nowMs();
    for (size_t i = 1; i < args.size(); ++i) confirmations.push_back(now);
    link.watch();
  }

  void subscribe(const std::string& channel) {
    if (!wanted.insert(channel).second || !link.ready()) return;
    std::vector<std::string> args{channel};
    send("SUBSCRIBE", args);
  }

  void unsubscribe(const std::string& channel) {
    if (wanted.erase(channel) == 0 || !link.ready()) return;
    std::vector<std::string> args{channel};
    send("UNSUBSCRIBE", args);
  }

  void linkReady() override {
    std::vector<std::string> batch;
    for (const std::string& channel : wanted) {
      batch.push_back(channel);
      if (batch.size() == kChannelsPerCommand) {
        send("SUBSCRIBE", batch);
        batch.clear();
      }
    }
    if (!batch.empty()) send("SUBSCRIBE", batch);
    if (confirmations.empty()) becomeUp();  // nothing wanted: up at once
  }

  void becomeUp() {
    up = true;
    downReported = false;
    if (onUp) onUp();
  }

  void linkReply(Reply&& reply) override {
    if (reply.isError()) {
      return link.fail("redis refused a subscription on " + link.endpoint().text() + ": " +
                       reply.string);
    }
    // An idle PING's answer: "+PONG" before the first SUBSCRIBE, ["pong", ""] in pub/sub mode.
    bool pong = (reply.type == Reply::Type::Status && reply.string == "PONG") ||
                (reply.type == Reply::Type::Array && reply.elements.size() == 2 &&
                 reply.elements[0].string == "pong");
    if (pong) {
      if (pings.empty()) return link.fail("an unasked PONG from " + link.endpoint().text());
      pings.pop_front();
      return;
    }
    if (reply.type != Reply::Type::Array || reply.elements.size() < 3 ||
        reply.elements[0].type != Reply::Type::String) {
      return link.fail("unexpected reply in pub/sub mode from " + link.endpoint().text());
    }
    const std::string& kind = reply.elements[0].string;
    if (kind == "message") {
      const std::string& channel = reply.elements[1].string;
      // Redis may still deliver a message for a channel unsubscribed a moment ago: the owner
      // asked for none after unsubscribe() returned.
      if (onMessage && wanted.count(channel)) onMessage(channel, reply.elements[2].string);
      return;
    }
    if (kind == "subscribe" || kind == "unsubscribe") {
      if (confirmations.empty()) {
        return link.fail("an unasked " + kind + " confirmation from " + link.endpoint().text());
      }
      confirmations.pop_front();
      if (confirmations.empty() && !up) becomeUp();
    }
  }

  void linkLost(const std::string& why, bool) override {
    confirmations.clear();
    pings.clear();
    bool wasUp = up;
    up = false;
    if (wasUp || !downReported) {
      downReported = true;
      if (onDown) onDown(why);
    }
  }

  bool linkSweep(uint64_t nowMs) override {
    if (!pings.empty() && nowMs - pings.front() >= link.options().commandTimeoutMs) {
      link.fail("timeout: no answer to a PING from " + link.endpoint().text() + " within " +
                std::to_string(link.options().commandTimeoutMs) + " ms");
      return false;
    }
    if (confirmations.empty()) return !pings.empty();
    if (nowMs - confirmations.front() >= link.options().commandTimeoutMs) {
      link.fail("timeout: " + link.endpoint().text() + " did not confirm a subscription within " +
                std::to_string(link.options().commandTimeoutMs) + " ms");
      return false;
    }
    return true;
  }

  void linkIdle(uint64_t nowMs) override {
    // Something awaited already has a deadline.
    if (!confirmations.empty() || !pings.empty()) return;
    link.send(std::array<std::string, 1>{"PING"});
    pings.push_back(nowMs);
    link.watch();
  }

  Link link;
  std::unordered_set<std::string> wanted;
  std::deque<uint64_t> confirmations;  // when each awaited (un)subscribe confirmation was sent
  std::deque<uint64_t> pings;          // when each awaited idle PING was sent
  bool up = false;
  bool downReported = false;
  std::function<void(std::string_view, std::string_view)> onMessage;
  std::function<void()> onUp;
  std::function<void(std::string_view)> onDown;
  net::Lifeline<Impl> lifeline{this};
};

Subscriber::Subscriber(net::Loop& loop, Endpoint endpoint, Options options)
    : impl_(std::make_unique<Impl>(loop, std::move(endpoint), options)) {}

Subscriber::~Subscriber() = default;

void Subscriber::subscribe(const std::string& channel) {
  impl_->subscribe(channel);
}

void Subscriber::unsubscribe(const std::string& channel) {
  impl_->unsubscribe(channel);
}

bool Subscriber::isConnected() const {
  return impl_->up;
}

void Subscriber::onMessage(
    std::function<void(std::string_view channel, std::string_view payload)> handler) {
  impl_->onMessage = std::move(handler);
}

void Subscriber::onUp(std::function<void()> handler) {
  impl_->onUp = std::move(handler);
}

void Subscriber::onDown(std::function<void(std::string_view why)> handler) {
  impl_->onDown = std::move(handler);
}

}  // namespace duplex::redis
