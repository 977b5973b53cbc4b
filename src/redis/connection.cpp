// Connection: commands pipelined over a Link. Replies come back in the order the commands were
// sent (RESP has no ids), so the callbacks wait in a FIFO; a reply that takes too long cannot
// be skipped, so it fails the whole connection, and every command behind it with it.
#include <array>
#include <vector>

#include "net/lifeline.h"
#include "redis/link.h"
#include "redis/redis.h"

namespace duplex::redis {
namespace {

struct Pending {
  Connection::Callback done;  // empty for an idle PING of the connection's own
  uint64_t sentMs;
};

// The callbacks of sent commands, oldest first: a vector used as a queue, whose storage stays
// (a std::deque would free and allocate a block every dozen commands).
class PendingQueue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  Pending& front() { return items_[head_]; }
  void push(Pending&& pending) { items_.push_back(std::move(pending)); }
  Pending pop() {
    Pending pending = std::move(items_[head_++]);
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= 1024 && head_ * 2 >= items_.size()) {
      // Never drained under steady load: drop the consumed half now and then.
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return pending;
  }
  std::vector<Pending> takeAll() {
    std::vector<Pending> all;
    all.swap(items_);
    all.erase(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
    return all;
  }

 private:
  std::vector<Pending> items_;
  size_t head_ = 0;
};

}  // namespace

struct Connection::Impl final : Link::Owner {
  struct Refused {
    Callback done;
    std::string why;
  };

  Impl(net::Loop& loop, Endpoint endpoint, const Options& options)
      : link(loop, std::move(endpoint), options, *this),
        downReason("not connected to " + link.endpoint().text() + " yet") {
    link.start();
  }

  ~Impl() {
    lifeline.cut();
    if (refusalTimer) link.loop().cancelTimer(refusalTimer);
    if (pending.empty() && refused.empty()) return;
    // Failed later, on the loop: never inside the destructor of the caller's object.
    link.loop().defer([refused = std::move(refused), pending = pending.takeAll()]() mutable {
      for (Refused& r : refused) r.done(Result{false, std::move(r.why), {}});
      for (Pending& p : pending)
        if (p.done) p.done(Result{false, "closed", {}});
    });
  }

  void command(std::vector<std::string>&& args, Callback&& done) {
    if (args.empty()) return refuse(std::move(done), "empty command");
    if (!link.ready()) return refuse(std::move(done), downReason);
    link.send(args);
    pending.push({std::move(done), link.loop().nowMs()});
    if (pending.size() == 1) link.watch();
  }

  // Fails a command that was never sent, at the next iteration: never inside command(), and
  // a callback that retries at once does not spin the loop.
  void refuse(Callback&& done, std::string why) {
    refused.push_back({std::move(done), std::move(why)});
    if (refusalTimer) return;
    refusalTimer = link.loop().setTimeout(0, [this] {
      refusalTimer = 0;
      runRefusals();
    });
  }

  void runRefusals() {
    // Taken out first: a callback may issue (and so refuse) more, or destroy this.
    std::vector<Refused> list;
    list.swap(refused);
    for (Refused& r : list) r.done(Result{false, std::move(r.why), {}});
  }

  void linkReady() override {
    downReported = false;
    if (onUp) onUp();
  }

  void linkReply(Reply&& reply) override {
    if (pending.empty())
      return link.fail("a reply from " + link.endpoint().text() + " came unasked");
    // Commands refused earlier in this iteration were issued before this one was answered.
    if (!refused.empty()) {
      auto alive = lifeline.handle();
      runRefusals();
      if (!alive.get()) return;
    }
    Callback done = pending.pop().done;
    if (!done) return;  // the answer to an idle PING: Redis is alive
    Result result;
    result.ok = true;
    result.reply = std::move(reply);
    done(std::move(result));
  }

  void linkLost(const std::string& why, bool wasReady) override {
    downReason = why;
    std::vector<Refused> refusedNow;
    refusedNow.swap(refused);
    std::vector<Pending> lost = pending.takeAll();
    auto alive = lifeline.handle();
    // In issue order: those refused were issued before the link became ready.
    for (Refused& r : refusedNow) r.done(Result{false, std::move(r.why), {}});
    for (Pending& p : lost)
      if (p.done) p.done(Result{false, why, {}});
    if (!alive.get()) return;
    if (wasReady || !downReported) {
      downReported = true;
      if (onDown) onDown(why);
    }
  }

  bool linkSweep(uint64_t nowMs) override {
    if (pending.empty()) return false;
    if (nowMs - pending.front().sentMs >= link.options().commandTimeoutMs) {
      link.fail("timeout: no reply from " + link.endpoint().text() + " within " +
                std::to_string(link.options().commandTimeoutMs) + " ms");
      return false;
    }
    return true;
  }

  void linkIdle(uint64_t nowMs) override {
    if (!pending.empty()) return;  // the oldest command's deadline already watches Redis
    link.send(std::array<std::string, 1>{"PING"});
    pending.push({nullptr, nowMs});  // no callback: the answer is only proof of life
    link.watch();
  }

  Link link;
  PendingQueue pending;
  std::vector<Refused> refused;
  net::Loop::TimerId refusalTimer = 0;
  std::string downReason;
  bool downReported = false;  // onDown called since the last onUp (or since the start)
  std::function<void()> onUp;
  std::function<void(std::string_view)> onDown;
  net::Lifeline<Impl> lifeline{this};
};

Connection::Connection(net::Loop& loop, Endpoint endpoint, Options options)
    : impl_(std::make_unique<Impl>(loop, std::move(endpoint), options)) {}

Connection::~Connection() = default;

void Connection::command(std::vector<std::string> args, Callback done) {
  impl_->command(std::move(args), std::move(done));
}

bool Connection::isConnected() const {
  return impl_->link.ready();
}

void Connection::onUp(std::function<void()> handler) {
  impl_->onUp = std::move(handler);
}

void Connection::onDown(std::function<void(std::string_view why)> handler) {
  impl_->onDown = std::move(handler);
}

}  // namespace duplex::redis
