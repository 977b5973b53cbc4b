#pragma once
// Parsing the hub's client commands (docs/protocol.md, "Commands and replies"), sans-I/O: text
// in, a Command or a protocol error out. Replies and pushes are written by
// hub/hub_protocol_writer.h.
//
// One CommandParser per loop thread, reused for every command: its simdjson parser and scratch
// buffers grow to the largest command seen and are then reused, so the steady state allocates
// nothing. A parsed Command holds views into the parser, valid until its next parse().
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "hub/hub_protocol_error.h"
#include "hub/hub_protocol_writer.h"

namespace duplex::hub {

enum class Method : uint8_t {
  Connect,
  Subscribe,
  Unsubscribe,
  Publish,
  History,
  Presence,
  Ping,
  Rpc,  // answered by the application's back end (the rpc proxy, proxy_client.h)
};

// The wire name: "connect", "subscribe", ...
std::string_view methodName(Method method);

inline constexpr uint32_t kDefaultHistoryLimit = 100;
inline constexpr uint32_t kMaxHistoryLimit = 1000;
inline constexpr size_t kMaxPublishKeyBytes = 64;
inline constexpr size_t kMaxCommandBytes = 64 * 1024;  // the frame limit of docs/protocol.md

// Where a recovering client (subscribe) or a history reader stands.
struct Since {
  uint64_t offset = 0;
  std::string_view epoch;
};

// Only the fields of `method` are set; the others keep their defaults.
struct Command {
  uint64_t id = 0;  // > 0 once parsed
  Method method = Method::Ping;
  std::string_view channel;    // subscribe, unsubscribe, publish, history, presence: non-empty
  std::string_view token;      // connect: empty when the command carries none
  std::string_view key;        // publish: the idempotency key, 1..64 bytes; empty when none
  std::optional<Since> since;  // subscribe (recovery), history
  // subscribe: reply with the newest `last` stored publications (never together with `since`;
  // the hub bounds it by its maxRecovery).
  std::optional<uint64_t> last;
  uint32_t limit = kDefaultHistoryLimit;  // history: 1..kMaxHistoryLimit
  std::string_view rpcMethod;             // rpc: the back end's method name, non-empty
  // publish, rpc: the value of "data" as minified JSON text (valid JSON, any type), ready to store
  // and to forward without re-serializing. Its size is what max_data_bytes limits. An rpc
  // without data leaves it empty.
  std::string_view data;
};

enum class ParseStatus : uint8_t {
  Ok,
  // JSON, but not a valid command: answer with writeError(out, result.command.id, result.error,
  // result.message); the id is 0 when the command had no usable one. The connection stays.
  Invalid,
  // Not JSON at all (or not UTF-8): close the connection with 1007.
  NotJson,
  // Over the parser's size limit: close with 1009.
  TooLarge,
};

struct ParseResult {
  ParseStatus status = ParseStatus::Ok;
  Command command;                          // Ok: all of it; Invalid: the id to answer
  ErrorCode error = ErrorCode::BadRequest;  // Invalid: BadRequest, UnknownCommand or Internal
  std::string_view message;                 // Invalid, NotJson, TooLarge: names the field
  bool ok() const { return status == ParseStatus::Ok; }
};

class CommandParser {
 public:
  explicit CommandParser(size_t maxBytes = kMaxCommandBytes);
  ~CommandParser();
  CommandParser(const CommandParser&) = delete;
  CommandParser& operator=(const CommandParser&) = delete;

  // One WebSocket text message: {"id": N, "<method>": {params}}. Fields not in the protocol are
  // ignored; exactly one method field must be present. JSON null in an optional field counts as
  // absent.
  ParseResult parse(std::string_view text);

  // The body of a server API call, which is a command's params on their own (POST /api/publish
  // takes {"channel", "data", "key"?}). The result's command.id is 0.
  ParseResult parseParams(Method method, std::string_view text);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::hub
