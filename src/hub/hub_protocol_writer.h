#pragma once
// Writing the hub's replies and pushes (docs/protocol.md). Every writer appends to a
// caller-owned string, so a loop can reuse one buffer for every message it builds, and a push is
// serialized once for all its subscribers. Strings given to the writers must be UTF-8; `data`
// arguments must be JSON text (what CommandParser or the history store hands out) and are
// copied verbatim.
//
// A result that lists publications or presence clients is written in three steps, so it can be
// built straight from the store's rows without collecting them first:
//   beginHistoryResult(out, id, position);
//   for (each row) appendPublication(out, row.offset, row.data);
//   endPublications(out);
#include <cstdint>
#include <string>
#include <string_view>

#include "hub/hub_protocol_error.h"

namespace duplex::hub {

// Whom a reply answers: a command's id over a WebSocket ({"id":N,"result":...}; errors for a
// command without a usable id go to 0), or a call of the HTTP server API, whose replies carry no
// id ({"result":...}).
class ReplyTo {
 public:
  constexpr ReplyTo(uint64_t id) : id_(id) {}  // implicit: writeError(out, cmd.id, ...)
  static constexpr ReplyTo api() { return ReplyTo(0, true); }
  constexpr uint64_t id() const { return id_; }
  constexpr bool isApi() const { return api_; }

 private:
  constexpr ReplyTo(uint64_t id, bool api) : id_(id), api_(api) {}
  uint64_t id_ = 0;
  bool api_ = false;
};

// Where a channel's stream stands: the latest offset and the epoch naming its history.
struct StreamPosition {
  uint64_t offset = 0;
  std::string_view epoch;
};

// Appends `utf8` as a JSON string literal, quotes included (RFC 8259 7): '"', '\\' and the
// control characters U+0000..U+001F are escaped, everything else is copied as it is.
void appendJsonString(std::string& out, std::string_view utf8);
void appendJsonNumber(std::string& out, uint64_t value);
void appendJsonNumber(std::string& out, int64_t value);

// {"id":N,"error":{"code":"forbidden","message":"..."}}
void writeError(std::string& out, ReplyTo to, ErrorCode code, std::string_view message);
void writeError(std::string& out, ReplyTo to, const HubError& error);

// {"id":N,"result":{}}: unsubscribe, ping.
void writeEmptyResult(std::string& out, ReplyTo to);
// {"id":N,"result":{"client":"c-5f0e2a","user":"alice","expires":1764000000}}
void writeConnectResult(std::string& out, ReplyTo to, std::string_view client,
                        std::string_view user, int64_t expires);
// {"id":N,"result":{"epoch":"...","offset":17}}: a subscribe without `since`.
void writeSubscribeResult(std::string& out, ReplyTo to, StreamPosition position);
// {"id":N,"result":{"epoch":"...","offset":20,"recovered":false}}: the client must reload.
void writeSubscribeUnrecovered(std::string& out, ReplyTo to, StreamPosition position);
// {"id":N,"result":{"epoch":"...","offset":20,"recovered":true,"publications":[ ... ]}}
void beginSubscribeRecovered(std::string& out, ReplyTo to, StreamPosition position);
// {"id":N,"result":{"epoch":"...","offset":17,"publications":[ ... ]}}: a subscribe with
// `last`, whose publications are the newest ones, oldest first.
void beginSubscribeLast(std::string& out, ReplyTo to, StreamPosition position);
// {"id":N,"result":{"epoch":"...","offset":21,"publications":[ ... ]}}
void beginHistoryResult(std::string& out, ReplyTo to, StreamPosition position);
// {"offset":18,"data":<data>}, with the comma when it is not the first.
void appendPublication(std::string& out, uint64_t offset, std::string_view data);
// Closes what beginSubscribeRecovered, beginSubscribeLast or beginHistoryResult opened.
void endPublications(std::string& out);
// {"id":N,"result":{"offset":21,"epoch":"..."}}
void writePublishResult(std::string& out, ReplyTo to, StreamPosition position);
// {"id":N,"result":{"clients":{"c-5f0e2a":{"user":"alice"}, ... }}}
void beginPresenceResult(std::string& out, ReplyTo to);
void appendPresenceClient(std::string& out, std::string_view client, std::string_view user);
void endPresenceResult(std::string& out);
// {"result":{"disconnected":N}}: POST /api/disconnect.
void writeDisconnectedResult(std::string& out, ReplyTo to, uint64_t connections);

// {"push":{"channel":"talk:main","pub":{"offset":22,"data":<data>}}}
void writePubPush(std::string& out, std::string_view channel, uint64_t offset,
                  std::string_view data);
// {"push":{"channel":"talk:main","join":{"client":"c-77aa01","user":"bob"}}}
void writeJoinPush(std::string& out, std::string_view channel, std::string_view client,
                   std::string_view user);
// {"push":{"channel":"talk:main","leave":{"client":"c-77aa01","user":"bob"}}}
void writeLeavePush(std::string& out, std::string_view channel, std::string_view client,
                    std::string_view user);
// {"push":{"disconnect":{"code":4002,"reason":"token expired"}}}: precedes a close frame with
// the same code.
void writeDisconnectPush(std::string& out, DisconnectCode code, std::string_view reason);

}  // namespace duplex::hub
