#pragma once
// The order of one channel's publications on this node, for the Redis engine (redis_engine.h).
// No I/O: the engine tells it what Redis said, and it says what to hand to the loops and when.
//
// Publications reach a node two ways that Redis does not order against each other: live, as
// pub/sub messages on the Subscriber's connection, and in replies on the command connection
// (a publish script's answer, a read of the stream). The feed delivers every offset once, in
// order, and puts each completion where engine.h wants it:
//   - a read's completion (top T) after every offset <= T and before any offset > T, so the
//     subscriber attached in it gets no gap and no duplicate;
//   - a publish's completion (offset N) after N was delivered (an ack means delivered here).
// Commands on one connection run in the order sent and answer in that order, so every read
// still in flight will answer a top at least as high as any offset already seen in a reply
// (`confirmedTop`): while reads are in flight, offsets up to there may be delivered, not more.
// What is missing (a pub/sub message lost while the Subscriber was down, or one still on its
// way when a reply needs it) is read from the stream: needsCatchUp() says when, and the engine
// answers with caughtUp(). When the stream no longer has it (trimmed, expired, a new epoch),
// the feed calls `gap` and goes on from what Redis has now.
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::hub {

class ChannelFeed {
 public:
  // Runs once its offset is delivered (true), or when the feed gives up on delivering the
  // offsets before it (false: a catch-up failed, the epoch changed).
  using Action = std::function<void(bool inOrder)>;
  struct Hooks {
    std::function<void(uint64_t offset, std::string_view data)> deliver;
    std::function<void(std::string_view why)> gap;  // publications were lost for good
  };
  struct Entry {
    uint64_t offset = 0;
    std::string data;
  };

  explicit ChannelFeed(Hooks hooks) : hooks_(std::move(hooks)) {}

  // A pub/sub message.
  void live(std::string_view epoch, uint64_t offset, std::string_view data);
  // A publish script stored `offset` (not a duplicate): `then` runs once it is delivered.
  void stored(std::string_view epoch, uint64_t offset, std::string data, Action then);
  // A read was sent on the command connection; then exactly one of readAnswered / readFailed.
  void readIssued() { ++readsInFlight_; }
  void readAnswered(std::string_view epoch, uint64_t top, Action then);
  void readFailed();

  // Whether offsets are missing that the stream should have: the engine then reads it after
  // delivered() (catchUpIssued), and answers caughtUp or catchUpFailed.
  bool needsCatchUp() const;
  bool catchUpInFlight() const { return catchUpInFlight_; }
  void catchUpIssued() { catchUpInFlight_ = true; }
  // The stream after delivered(): `recovered` false when it no longer reaches back there (or
  // `epoch` is not the feed's); `entries` are consecutive from delivered() + 1 when recovered.
  void caughtUp(std::string_view epoch, uint64_t top, bool recovered, std::vector<Entry> entries);
  // No answer (Redis down): completions waiting for missing offsets run with inOrder false.
  void catchUpFailed();
  // After the Subscriber was down: messages may have been lost, read the stream from here.
  void resync() { resyncWanted_ = known_; }

  uint64_t delivered() const { return delivered_; }
  bool known() const { return known_; }
  const std::string& epoch() const { return epoch_; }
  bool idle() const { return readsInFlight_ == 0 && waiting_.empty() && !catchUpInFlight_; }

 private:
  // Another epoch than the one known: what was delivered belongs to a history that is gone.
  bool checkEpoch(std::string_view epoch, uint64_t restartAfter);
  void restart(uint64_t after, std::string_view why);
  void pump();
  void failWaiting();

  Hooks hooks_;
  bool known_ = false;      // delivered_ and epoch_ say where the channel is
  uint64_t delivered_ = 0;  // the last offset handed to the loops
  std::string epoch_;
  uint64_t confirmedTop_ = 0;  // the highest offset a command reply has shown
  int readsInFlight_ = 0;
  bool catchUpInFlight_ = false;
  bool resyncWanted_ = false;
  std::map<uint64_t, std::string> buffer_;   // offsets above delivered_ not yet handed over
  std::multimap<uint64_t, Action> waiting_;  // by the offset they wait for
};

}  // namespace duplex::hub
