// However a valid stream is cut into reads, the same events come out.
#include <gtest/gtest.h>

#include <random>

#include "receiver_harness.h"

namespace duplex::protocol::test {
namespace {

// A stream with something of everything: all length encodings, fragments with control frames
// between them, UTF-8 split across fragments, empty frames, and a closing handshake.
struct Stream {
  std::string bytes;
  std::vector<Seen> events;
};

Stream mixedStream(Role role) {
  const Mask mask = role == Role::Server ? Mask::Yes : Mask::No;
  std::string big(70000, 'z');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>('a' + i % 26);
  const std::string mid(300, 'm');
  const std::string euro = "\xe2\x82\xac";
  Stream s;
  auto add = [&](const std::string& frame) { s.bytes += frame; };
  add(rawFrame(FIN | TEXT, "hello", mask));
  s.events.push_back(message(Opcode::Text, "hello"));
  add(rawFrame(FIN | BINARY, "", mask));
  s.events.push_back(message(Opcode::Binary, ""));
  add(rawFrame(FIN | PING, "ping!", mask));
  s.events.push_back(ping("ping!"));
  add(rawFrame(FIN | TEXT, std::string(125, 'x'), mask));
  s.events.push_back(message(Opcode::Text, std::string(125, 'x')));
  add(rawFrame(FIN | BINARY, mid, mask));
  s.events.push_back(message(Opcode::Binary, mid));
  add(rawFrame(TEXT, "euro: " + euro.substr(0, 1), mask));
  add(rawFrame(FIN | PING, "", mask));
  s.events.push_back(ping(""));
  add(rawFrame(CONT, euro.substr(1, 1), mask));
  add(rawFrame(FIN | PONG, "pong", mask));
  s.events.push_back(pong("pong"));
  add(rawFrame(CONT, "", mask));
  add(rawFrame(FIN | CONT, euro.substr(2) + mid, mask));
  s.events.push_back(message(Opcode::Text, "euro: " + euro + mid));
  add(rawFrame(FIN | TEXT, big, mask));
  s.events.push_back(message(Opcode::Text, big));
  add(rawFrame(BINARY, big.substr(0, 65536), mask));
  add(rawFrame(FIN | PING, std::string(125, 'p'), mask));
  s.events.push_back(ping(std::string(125, 'p')));
  add(rawFrame(FIN | CONT, big.substr(65536), mask));
  s.events.push_back(message(Opcode::Binary, big));
  add(rawFrame(FIN | TEXT, std::string(65535, 'q'), mask));
  s.events.push_back(message(Opcode::Text, std::string(65535, 'q')));
  add(rawFrame(FIN | TEXT, std::string(126, 'r'), mask));
  s.events.push_back(message(Opcode::Text, std::string(126, 'r')));
  add(rawFrame(FIN | CLOSE, closePayload(1000, "done"), mask));
  s.events.push_back(closeEvent(1000, "done"));
  return s;
}

class ReceiverChunking : public ::testing::TestWithParam<Role> {
 protected:
  ReceiverConfig config() const {
    ReceiverConfig c;
    c.role = GetParam();
    return c;
  }
};

TEST_P(ReceiverChunking, Whole) {
  const Stream s = mixedStream(GetParam());
  Receiver r;
  EXPECT_EQ(feedWhole(r, s.bytes, config()), s.events);
  EXPECT_EQ(r.bufferedBytes(), 0u);
}

TEST_P(ReceiverChunking, OneByteAtATime) {
  const Stream s = mixedStream(GetParam());
  Receiver r;
  EXPECT_EQ(feed(r, s.bytes, config(), [] { return 1; }), s.events);
  EXPECT_EQ(r.bufferedBytes(), 0u);
}

TEST_P(ReceiverChunking, FixedChunkSizes) {
  const Stream s = mixedStream(GetParam());
  // Sizes around the header sizes (2, 4, 6, 8, 10, 14) and odd ones that shift the mask phase.
  for (size_t size : {2, 3, 5, 7, 13, 14, 15, 127, 1500, 4096, 65536}) {
    Receiver r;
    EXPECT_EQ(feed(r, s.bytes, config(), [&] { return size; }), s.events) << size;
  }
}

TEST_P(ReceiverChunking, RandomChunkSizes) {
  const Stream s = mixedStream(GetParam());
  for (uint32_t seed : {1u, 2u, 3u, 42u, 2024u}) {
    std::mt19937 rng(seed);
    // Mostly small pieces, sometimes large ones, so both paths and their mixes are hit.
    std::uniform_int_distribution<size_t> small(1, 20), large(1, 20000);
    std::bernoulli_distribution pickLarge(0.2);
    Receiver r;
    EXPECT_EQ(feed(r, s.bytes, config(), [&] { return pickLarge(rng) ? large(rng) : small(rng); }),
              s.events)
        << "seed " << seed;
  }
}

// Every single cut point of a short stream: the stream split into exactly two reads.
TEST_P(ReceiverChunking, EveryTwoWaySplit) {
  const Mask mask = GetParam() == Role::Server ? Mask::Yes : Mask::No;
  const std::string stream = rawFrame(TEXT, "ab\xc3", mask) + rawFrame(FIN | PING, "p", mask) +
                             rawFrame(FIN | CONT, "\xa9" + std::string(200, 'c'), mask) +
                             rawFrame(FIN | CLOSE, closePayload(1001), mask);
  const std::vector<Seen> expected = {
      ping("p"), message(Opcode::Text, "ab\xc3\xa9" + std::string(200, 'c')), closeEvent(1001)};
  for (size_t cut = 1; cut < stream.size(); ++cut) {
    Receiver r;
    bool first = true;
    EXPECT_EQ(feed(r, stream, config(),
                   [&] {
                     const size_t n = first ? cut : stream.size();
                     first = false;
                     return n;
                   }),
              expected)
        << "cut at " << cut;
  }
}

INSTANTIATE_TEST_SUITE_P(BothRoles, ReceiverChunking, ::testing::Values(Role::Server, Role::Client),
                         [](const ::testing::TestParamInfo<Role>& p) {
                           return p.param == Role::Server ? std::string("Server")
                                                          : std::string("Client");
                         });

}  // namespace
}  // namespace duplex::protocol::test
