#pragma once
// What the hub asks of the machinery under its channels: store and deliver publications (with
// idempotency), read history for recovery, keep presence, and subscribe this node's
// connections to channels. Like centrifugal/centrifuge's Broker and PresenceManager: the Hub
// talks only to this interface and never asks which engine it has. InProcessEngine (SQLite on a
// storage thread, pubsub::Topics for fan-out) is the first implementation; a Redis engine that
// spans nodes is meant to be the second.
//
// Threads. Every call is made on the thread of a loop (`from`, or the connection's own loop)
// and returns at once. A request that needs storage or another node completes later: its
// `done` runs on the same loop's thread, never inside the call itself (so a completion never
// re-enters the caller). Completions of one loop run in the order the engine finished the work,
// and that order is the channel's: a publication's `pub` push reaches this node's subscribers
// on a loop before any completion the engine finished after storing it, which is how a
// subscribe with recovery gets no gap and no duplicate (see read()).
//
// Lifetimes. `done` may run after the caller's connection closed: it must hold what it needs
// (a weak handle), not a raw WebSocket pointer. The engine outlives every Hub that uses it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "hub/channel_store.h"  // ChannelLimits, Position, Appended, Recovery
#include "net/loop.h"
#include "server/websocket.h"

namespace duplex::hub {

// One publish as the engine takes it: owned, since it crosses threads.
struct PublishRequest {
  std::string channel;
  std::string data;  // minified JSON, stored and pushed as is
  std::string key;   // idempotency key; empty: none
  // limits.historySize == 0: the channel keeps no history; the publication is delivered, not
  // stored, and acknowledged with offset 0.
  ChannelLimits limits;
  int64_t nowMs = 0;
};

// The transaction that stored a publication, timed on the thread that ran it (for the
// hub's commit latency histogram). Every publication of one transaction carries the same id.
struct CommitTiming {
  uint64_t id = 0;  // 0: no transaction (history-less channel)
  double seconds = 0;
};

struct PublishResult {
  bool ok = false;  // false: nothing stored or delivered; answer `unavailable`
  Appended appended;
  CommitTiming commit;
  std::string error;  // why not, for the log
};

// A read of a channel's history: its position (creating the channel's epoch when it keeps
// history), then nothing, the newest `limit`, or what came after `afterOffset` in `epoch`.
struct ReadRequest {
  enum class Mode : uint8_t { Position, Latest, Since };
  std::string channel;
  // historySize >= 1: a channel never seen is created (it gets an epoch to recover with);
  // 0: the position is only read.
  ChannelLimits limits;
  int64_t nowMs = 0;
  Mode mode = Mode::Position;
  size_t limit = 0;  // Latest and Since: at most this many publications
  uint64_t afterOffset = 0;
  std::string epoch;
  size_t maxBytes = 1'000'000;  // the publications' JSON stays within this (PublicationList)
};

struct ReadResult {
  bool ok = false;  // false: the channel could not be read or created; answer `unavailable`
  std::string error;
  Position position;
  // Since: Recovered when exactly the publications after afterOffset are in `publications`
  // (all of them unless `limited` or `overflowed`); NotRecoverable: the client must reload.
  Recovery recovery = Recovery::Recovered;
  bool limited = false;     // `limit` cut the list
  bool overflowed = false;  // `maxBytes` cut the list (Since: the oldest kept; Latest: newest)
  // The publications as the items of the protocol's JSON array, oldest first, without the
  // brackets: spliced as they are between begin...Result() and endPublications().
  std::string publications;
};

struct PresenceMember {
  std::string client;
  std::string user;
};

enum class JoinResult : uint8_t {
  Joined,
  Full,         // the channel already has `max` members: limit_exceeded
  Unavailable,  // the engine could not tell (its Redis down or silent): unavailable
};

// What a server-wide user disconnect does on one loop of a node: ends the user's connections
// there and says how many. The Hub sets it (Engine::setUserDisconnector).
using UserDisconnector = std::function<uint64_t(net::Loop& loop, const std::string& user)>;

struct DisconnectResult {
  bool ok = true;            // false: the other nodes could not be told; answer `unavailable`
  uint64_t connections = 0;  // ended on this node (all its loops), ok or not
  std::string error;         // why not, for the answer
};

class Engine {
 public:
  template <class T>
  using Done = std::function<void(T&&)>;

  virtual ~Engine() = default;

  // This node's subscriptions, on the connection's loop, at once: from attach() on, every
  // publication the engine delivers on the channel reaches `ws` (until detach() or its close):
  // each one published after the call, and, attached in a read's completion, each one stored
  // after the read (a publication already on its way when attach() is called without a read
  // may or may not arrive). False when it was already subscribed or is not open.
  virtual bool attach(WebSocket& ws, std::string_view channel) = 0;
  virtual void detach(WebSocket& ws, std::string_view channel) = 0;

  // Delivers `message` to every subscriber of the channel on this node but `except`, on every
  // loop, and stores nothing: presence pushes. Those on `from` get it during the call.
  virtual void broadcast(net::Loop& from, std::string_view channel, std::string_view message,
                         const WebSocket* except = nullptr) = 0;

  // Stores the publication (unless its channel keeps no history; a key seen within the window
  // answers the first publish's offset and is neither stored nor delivered again), delivers its
  // `pub` push to the channel's subscribers on this node, then completes: ok means stored and
  // handed to this node's subscribers on `from`. Publishes from any loops may share one commit.
  virtual void publish(net::Loop& from, PublishRequest request, Done<PublishResult> done) = 0;

  // For a channel without history, which has no read to wait for: calls done(true) on `from`
  // once a subscriber attached in `done` gets every publication made after that, from any node
  // (on one node at once, maybe during the call; over Redis once this node's SUBSCRIBE is in
  // effect). done(false): the engine cannot promise it now (answer `unavailable`).
  virtual void listen(net::Loop& from, std::string_view channel, Done<bool> done) = 0;

  // Reads history. Attaching the subscriber in `done` gives no gap and no duplicate: every
  // publication newer than the result's position.top reaches `from` after `done` runs.
  virtual void read(net::Loop& from, ReadRequest request, Done<ReadResult> done) = 0;

  // Presence: the member joins unless the channel already has `max` members (Full) or the
  // engine cannot say (Unavailable: nothing was joined, as far as the caller knows).
  virtual void join(net::Loop& from, std::string_view channel, PresenceMember member, size_t max,
                    Done<JoinResult> done) = 0;
  // Forgets the member (fire and forget; a client that was not a member is no error).
  virtual void leave(std::string_view channel, std::string_view client) = 0;
  virtual void presence(net::Loop& from, std::string_view channel,
                        Done<std::vector<PresenceMember>> done) = 0;

  // Ends the user's connections wherever the engine reaches: on every loop of this node
  // (through the UserDisconnector) and, for an engine that spans nodes, on every other node.
  // `done` on `from` counts this node's only: the others are told, none answers.
  virtual void disconnectUser(net::Loop& from, std::string user, Done<DisconnectResult> done) = 0;
  // Who ends a user's connections on a loop: the Hub, when it is made (the last one set wins).
  // Safe while the loops run.
  virtual void setUserDisconnector(UserDisconnector disconnector) = 0;

  // Housekeeping the hub calls about once a second with its clock: trimming history by size
  // and TTL, expired idempotency keys. Never blocks the caller.
  virtual void sweep(int64_t nowMs) = 0;
};

}  // namespace duplex::hub
