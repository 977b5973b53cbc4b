#pragma once
// The Redis engine's names (docs/scaling.md): per channel C, with the channel in braces (a
// Redis Cluster hash tag, so one channel's keys always share a slot; channel names cannot
// contain braces):
//   duplex:{C}:meta       hash: epoch (16 hex digits, drawn once), top (the last offset)
//   duplex:{C}:stream     stream: one entry per publication, id "<offset>-0", fields d (data),
//                         t (ms since the Unix epoch), trimmed to the history size (MAXLEN)
//   duplex:{C}:key:K      string "offset epoch": idempotency key K, expiring after the window
//   duplex:{C}:presence   hash: client id -> "expiryMs user", refreshed by the client's node
//   duplex:{C}            the pub/sub channel the nodes subscribe to
// And what goes over pub/sub: "<kind><node> <epoch> <offset> <body>", kind 'p' a publication
// (body: its data), 'b' a broadcast (body: the push as is), 'm' a marker a node sends itself to
// learn that its SUBSCRIBE is in effect (body: ignored).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::hub::redis_keys {

inline std::string base(std::string_view channel) {
  std::string key = "duplex:{";
  key.append(channel);
  key += '}';
  return key;
}
inline std::string meta(std::string_view channel) {
  return base(channel) + ":meta";
}
inline std::string stream(std::string_view channel) {
  return base(channel) + ":stream";
}
inline std::string presence(std::string_view channel) {
  return base(channel) + ":presence";
}
inline std::string idempotency(std::string_view channel, std::string_view key) {
  std::string k = base(channel) + ":key:";
  k.append(key);
  return k;
}
inline std::string pubsub(std::string_view channel) {
  return base(channel);
}
// The channel back from a pub/sub channel name; empty when it is not one of ours.
std::string_view channelOf(std::string_view pubsubChannel);

struct Message {
  char kind = 0;  // 'p', 'b' or 'm'
  std::string_view node;
  std::string_view epoch;  // "-" when none
  uint64_t offset = 0;
  std::string_view body;
};
std::string encode(char kind, std::string_view node, std::string_view epoch, uint64_t offset,
                   std::string_view body);
std::optional<Message> decode(std::string_view payload);

}  // namespace duplex::hub::redis_keys
