#pragma once
// RESP2 without I/O: commands to bytes (an array of bulk strings, binary-safe), and bytes to
// Replies through hiredis's redisReader, the only part of hiredis duplex uses. Tested on its own
// (tests/redis/test_resp.cpp); the sockets live in link.cpp.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "redis/redis.h"

struct redisReader;  // hiredis

namespace duplex::redis {

// Bytes of the RESP encoding of `args`: *N\r\n then $LEN\r\nBYTES\r\n for each.
size_t encodedSize(std::span<const std::string> args);
// Writes exactly encodedSize(args) bytes at `out`; returns the end.
uint8_t* encodeCommand(std::span<const std::string> args, uint8_t* out);
// The same, for the short commands the client sends itself (AUTH, SELECT, PING, SUBSCRIBE).
std::string encodeCommand(std::initializer_list<std::string_view> args);

// Replies out of a byte stream that arrives in pieces of any size. One reader per connection;
// a new connection needs a new reader (reset()).
class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // Hands over received bytes (copied: hiredis keeps what a reply needs until it is complete).
  // False once the stream is not RESP (error() says why); the connection is then unusable.
  bool feed(std::span<const uint8_t> bytes);
  enum class Next : uint8_t { Reply, NeedMore, Error };
  // The next complete reply, swapped into `out` (whose old storage the reader reuses).
  Next next(Reply& out);
  std::string error() const;
  // Forgets everything buffered: for a new connection.
  void reset();

 private:
  friend struct ReplyBuilder;
  redisReader* reader_ = nullptr;
  // The root of the reply being built, swapped with the caller's Reply for every reply: a
  // caller that keeps handing back the same object gets its buffers reused. hiredis builds
  // children inside it through the task's parent pointer.
  Reply root_;
};

}  // namespace duplex::redis
