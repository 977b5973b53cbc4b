// RESP without a network: what a command becomes on the wire, and replies parsed from bytes
// that arrive in pieces of every size.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "redis/resp.h"

namespace duplex::redis {
namespace {

using namespace std::string_literals;

std::string encode(const std::vector<std::string>& args) {
  std::string out(encodedSize(args), '\0');
  uint8_t* end = encodeCommand(args, reinterpret_cast<uint8_t*>(out.data()));
  EXPECT_EQ(end, reinterpret_cast<uint8_t*>(out.data()) + out.size());
  return out;
}

std::span<const uint8_t> bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Every reply in `wire`, fed `piece` bytes at a time.
std::vector<Reply> parse(std::string_view wire, size_t piece) {
  ReplyReader reader;
  std::vector<Reply> replies;
  for (size_t at = 0; at < wire.size(); at += piece) {
    EXPECT_TRUE(reader.feed(bytes(wire.substr(at, piece))));
    Reply reply;
    for (;;) {
      auto next = reader.next(reply);
      EXPECT_NE(next, ReplyReader::Next::Error) << reader.error();
      if (next != ReplyReader::Next::Reply) break;
      replies.push_back(std::move(reply));
    }
  }
  return replies;
}

TEST(RespEncode, ArrayOfBulkStrings) {
  EXPECT_EQ(encode({"SET", "key", "value"}), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
  EXPECT_EQ(encodeCommand({"PING"}), "*1\r\n$4\r\nPING\r\n");
}

TEST(RespEncode, BinarySafeAndEmptyArguments) {
  std::string binary("a\0\r\nb", 5);
  EXPECT_EQ(encode({"SET", binary, ""}), "*3\r\n$3\r\nSET\r\n$5\r\n" + binary + "\r\n$0\r\n\r\n");
  std::string long_(12345, 'x');
  EXPECT_EQ(encode({long_}), "*1\r\n$12345\r\n" + long_ + "\r\n");
}

TEST(RespRead, EveryReplyTypeInPiecesOfEverySize) {
  const std::string wire =
      "+OK\r\n-ERR wrong\r\n:-42\r\n$5\r\nhe\0lo\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n$1\r\nx\r\n*1\r\n+deep\r\n$-1\r\n"s;
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, wire.size()}) {
    SCOPED_TRACE("piece " + std::to_string(piece));
    std::vector<Reply> r = parse(wire, piece);
    ASSERT_EQ(r.size(), 8u);
    EXPECT_EQ(r[0].type, Reply::Type::Status);
    EXPECT_EQ(r[0].string, "OK");
    EXPECT_EQ(r[1].type, Reply::Type::Error);
    EXPECT_TRUE(r[1].isError());
    EXPECT_EQ(r[1].string, "ERR wrong");
    EXPECT_EQ(r[2].type, Reply::Type::Integer);
    EXPECT_EQ(r[2].integer, -42);
    EXPECT_EQ(r[3].type, Reply::Type::String);
    EXPECT_EQ(r[3].string, std::string("he\0lo", 5));
    EXPECT_EQ(r[4].type, Reply::Type::Nil);
    EXPECT_EQ(r[5].type, Reply::Type::Nil);  // a nil array
    EXPECT_EQ(r[6].type, Reply::Type::Array);
    EXPECT_TRUE(r[6].elements.empty());
    const Reply& nested = r[7];
    ASSERT_EQ(nested.type, Reply::Type::Array);
    ASSERT_EQ(nested.elements.size(), 3u);
    EXPECT_EQ(nested.elements[0].integer, 1);
    ASSERT_EQ(nested.elements[1].elements.size(), 2u);
    EXPECT_EQ(nested.elements[1].elements[0].string, "x");
    EXPECT_EQ(nested.elements[1].elements[1].elements[0].type, Reply::Type::Status);
    EXPECT_EQ(nested.elements[1].elements[1].elements[0].string, "deep");
    EXPECT_EQ(nested.elements[2].type, Reply::Type::Nil);
  }
}

TEST(RespRead, ReusedReplyObjectsStartClean) {
  // The reader reuses its root object: a string reply after an array must not keep elements.
  std::vector<Reply> r = parse("*2\r\n:1\r\n:2\r\n$1\r\na\r\n:7\r\n", 64);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].type, Reply::Type::String);
  EXPECT_TRUE(r[1].elements.empty());
  EXPECT_EQ(r[2].type, Reply::Type::Integer);
  EXPECT_TRUE(r[2].string.empty());
}

TEST(RespRead, OneReplyObjectHandedBackEveryTimeNeverShowsStaleParts) {
  // As the Subscriber does: the same Reply for every reply, its buffers reused.
  const std::string wire =
      "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$11\r\nhello world\r\n"
      "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$0\r\n\r\n"
      "*1\r\n*2\r\n:1\r\n:2\r\n"
      ":9\r\n"
      "*2\r\n$1\r\na\r\n*-1\r\n"
      "+OK\r\n"s;
  ReplyReader reader;
  ASSERT_TRUE(reader.feed(bytes(wire)));
  Reply reply;
  std::vector<std::string> seen;
  auto describe = [](const Reply& r, auto& self) -> std::string {
    switch (r.type) {
      case Reply::Type::Nil:
        return r.string.empty() && r.elements.empty() && r.integer == 0 ? "nil" : "dirty nil";
      case Reply::Type::Integer:
        return r.string.empty() && r.elements.empty() ? std::to_string(r.integer) : "dirty int";
      case Reply::Type::String:
      case Reply::Type::Status:
      case Reply::Type::Error:
        return r.elements.empty() && r.integer == 0 ? "'" + r.string + "'" : "dirty string";
      case Reply::Type::Array: {
        if (!r.string.empty() || r.integer != 0) return "dirty array";
        std::string text = "[";
        for (const Reply& e : r.elements) text += self(e, self) + " ";
        return text + "]";
      }
    }
    return "?";
  };
  while (reader.next(reply) == ReplyReader::Next::Reply) seen.push_back(describe(reply, describe));
  EXPECT_EQ(seen,
            (std::vector<std::string>{"['message' 'ch' 'hello world' ]", "['message' 'c' '' ]",
                                      "[[1 2 ] ]", "9", "['a' nil ]", "'OK'"}));
}

TEST(RespRead, MultiMegabyteBulkInReadSizedPieces) {
  std::string payload(6 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 131 + i / 977);
  std::string wire = "$" + std::to_string(payload.size()) + "\r\n" + payload + "\r\n:5\r\n";
  std::vector<Reply> r = parse(wire, 64 * 1024);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].string == payload);
  EXPECT_EQ(r[1].integer, 5);
}

TEST(RespRead, GarbageIsAProtocolError) {
  ReplyReader reader;
  ASSERT_TRUE(reader.feed(bytes("HTTP/1.1 400 Bad Request\r\n")));
  Reply reply;
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::Error);
  EXPECT_NE(reader.error(), "");
  reader.reset();  // a new connection starts clean
  ASSERT_TRUE(reader.feed(bytes(":1\r\n")));
  EXPECT_EQ(reader.next(reply), ReplyReader::Next::Reply);
  EXPECT_EQ(reply.integer, 1);
}

}  // namespace
}  // namespace duplex::redis
