// Fuzz target: protocol::Connection, the RFC 6455 connection without a socket, on an arbitrary
// byte stream cut into chunks. The input is
//
//   [flags] [chunk sizes: (flags >> 4) & 7 bytes] [the stream]
//
// flags bit 0: client role (the stream is the server's, unmasked) instead of server;
//       bit 1: permessage-deflate agreed (bit 2: with context takeover both ways);
//       bit 3: the application closes (1000) after the first chunk;
// chunk size byte b: b + 1 bytes, used in turn; with no size bytes the stream is one chunk.
//
// Checked: events obey the rules (messages within maxMessageSize and, for text, valid UTF-8
// even after inflating; nothing delivered once our close frame is out; Closed only once, and
// nothing after it); what the connection sends is read back by a Receiver of the peer's role
// without a single error (masked exactly when we are the client, control payloads within 125
// bytes, at most one close frame and nothing after it, and a pong for every ping answered);
// the close code matches the named Error. Then the same stream in one chunk must give the same
// events, phase and close code (chunking invariance).
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "protocol/connection.h"
#include "protocol/frame.h"
#include "protocol/utf8.h"

namespace {

using namespace duplex::protocol;
using duplex::Opcode;
using duplex::fuzz::Input;
using duplex::fuzz::touch;

class CollectingSink final : public ConnectionSink {
 public:
  uint8_t* reserveOutput(size_t size) override {
    const size_t start = bytes.size();
    bytes.resize(start + size);
    return reinterpret_cast<uint8_t*>(bytes.data()) + start;
  }
  void maskKey(uint8_t key[4]) override {
    static constexpr uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};
    std::memcpy(key, kKey, 4);
  }
  std::string bytes;
};

struct Outcome {
  std::vector<std::string> events;
  Phase phase;
  uint16_t code;
  bool operator==(const Outcome&) const = default;
};

struct Setup {
  Role role;
  bool compression;
  bool takeover;
  bool closeFirst;
};

Outcome run(const Setup& setup, std::string_view stream, std::span<const uint8_t> sizes,
            CollectingSink& sink) {
  ConnectionLimits limits;
  limits.maxMessageSize = 4096;
  Connection c(setup.role);
  if (setup.compression) {
    PerMessageDeflateConfig config;
    config.minMessageSize = 0;
    c.enableCompression(DeflateParams{15, 15, !setup.takeover, !setup.takeover}, config);
  }
  c.open(limits);
  Outcome outcome;
  bool closed = false;
  size_t pos = 0, turn = 0;
  while (pos < stream.size()) {
    const size_t want = sizes.empty() ? stream.size() : size_t{sizes[turn++ % sizes.size()]} + 1;
    const size_t n = std::min(want, stream.size() - pos);
    const auto block = std::make_unique<uint8_t[]>(n);
    std::memcpy(block.get(), stream.data() + pos, n);
    pos += n;
    std::span<uint8_t> input(block.get(), n);
    for (;;) {
      const size_t sentBefore = sink.bytes.size();
      const ConnectionEvent e = c.receive(input, sink);
      if (e.kind == ConnectionEvent::Kind::NeedMore) {
        FUZZ_CHECK(input.empty());
        break;
      }
      FUZZ_CHECK(!closed);  // nothing after Closed
      touch(e.payload);
      switch (e.kind) {
        case ConnectionEvent::Kind::Message:
          FUZZ_CHECK(c.phase() == Phase::Open && !c.closeSent());
          FUZZ_CHECK(e.payload.size() <= limits.maxMessageSize);
          FUZZ_CHECK(e.opcode == Opcode::Text || e.opcode == Opcode::Binary);
          if (e.opcode == Opcode::Text) FUZZ_CHECK(isValidUtf8(e.payload));
          outcome.events.push_back((e.opcode == Opcode::Text ? "T" : "B") + std::string(e.payload));
          break;
        case ConnectionEvent::Kind::Ping:
          FUZZ_CHECK(c.phase() == Phase::Open && e.payload.size() <= kMaxControlPayload);
          FUZZ_CHECK(sink.bytes.size() > sentBefore);  // the pong went out
          outcome.events.push_back("i" + std::string(e.payload));
          break;
        case ConnectionEvent::Kind::Pong:
          FUZZ_CHECK(c.phase() == Phase::Open && e.payload.size() <= kMaxControlPayload);
          outcome.events.push_back("o" + std::string(e.payload));
          break;
        case ConnectionEvent::Kind::Closed:
          closed = true;
          FUZZ_CHECK(c.phase() == Phase::Closed);
          FUZZ_CHECK(c.closeSent() && c.closeReceived());
          if (c.error() != Error::None) FUZZ_CHECK(c.closeCode() == closeCodeFor(c.error()));
          outcome.events.push_back("closed");
          break;
        case ConnectionEvent::Kind::NeedMore:
          break;
      }
    }
    if (setup.closeFirst && turn <= 1) {
      c.close(sink, 1000, "bye");
      if (!closed) FUZZ_CHECK(c.phase() == Phase::Closing || c.phase() == Phase::Closed);
    }
  }
  outcome.phase = c.phase();
  outcome.code = c.closeCode();
  return outcome;
}

// What we sent, read as the peer reads it: not one violation.
void checkSent(const Setup& setup, const std::string& sent) {
  Receiver peer;
  peer.allowCompression(setup.compression);
  ReceiverConfig config;
  config.role = setup.role == Role::Server ? Role::Client : Role::Server;
  config.maxMessageSize = config.maxFrameSize = 1 << 20;
  std::string copy = sent;
  std::span<uint8_t> input(reinterpret_cast<uint8_t*>(copy.data()), copy.size());
  for (;;) {
    const Event e = peer.next(input, config);
    FUZZ_CHECK(e.kind != Event::Kind::Error);
    if (e.kind == Event::Kind::NeedMore) break;
    if (e.kind == Event::Kind::Close) {
      FUZZ_CHECK(input.empty());  // nothing after our close frame
      break;
    }
    // We only ever send pongs and a close frame here (the application sends nothing).
    FUZZ_CHECK(e.kind == Event::Kind::Pong);
  }
  FUZZ_CHECK(input.empty());  // no partial frame left behind
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t flags = in.byte();
  const Setup setup{(flags & 1) ? Role::Client : Role::Server, (flags & 2) != 0, (flags & 4) != 0,
                    (flags & 8) != 0};
  const std::string_view sizeBytes = in.take((flags >> 4) & 7);
  const std::span<const uint8_t> sizes(reinterpret_cast<const uint8_t*>(sizeBytes.data()),
                                       sizeBytes.size());
  const std::string_view stream = in.rest();

  CollectingSink chunked;
  const Outcome a = run(setup, stream, sizes, chunked);
  checkSent(setup, chunked.bytes);
  if (!setup.closeFirst) {
    CollectingSink whole;
    const Outcome b = run(setup, stream, {}, whole);
    FUZZ_CHECK(a == b);
  }
  return 0;
}
