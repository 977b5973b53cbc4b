// Fuzz target: protocol::Receiver on an arbitrary byte stream, cut into chunks the way reads
// cut a TCP stream. The input is
//
//   [flags] [chunk sizes: (flags >> 4) & 7 bytes] [the stream]
//
// flags bit 0: client role (frames must be unmasked) instead of server (masked);
//       bit 1: permessage-deflate negotiated (allowCompression);
//       bit 2: maxFrameSize 1000 instead of 4096 (maxMessageSize is always 4096);
// chunk size byte b: b + 1 bytes, used in turn; with no size bytes the stream is one chunk.
//
// Each chunk is copied to a heap block of exactly its size, so AddressSanitizer catches any
// read past it. Checked on every event: the input is consumed from the front and NeedMore
// means all of it; payload views lie in the consumed part of the current chunk or entirely
// outside it (the Receiver's storage: every byte is read, so a view of freed or foreign memory
// is reported); events obey RFC 6455 (control payloads <= 125 bytes, close codes valid, text
// valid UTF-8, messages within maxMessageSize); bufferedBytes() never exceeds the limits by more
// than a frame header and a control payload; an Error is sticky. Then the Receiver is reset()
// and fed the whole stream in one chunk: the events must be the same (chunking invariance,
// and reset() gives back a new Receiver).
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "protocol/frame.h"
#include "protocol/receiver.h"
#include "protocol/utf8.h"

namespace {

using namespace duplex::protocol;
using duplex::Opcode;
using duplex::fuzz::Input;
using duplex::fuzz::overlaps;
using duplex::fuzz::touch;
using duplex::fuzz::within;

constexpr uint64_t kMaxMessageSize = 4096;

struct Recorded {
  Event::Kind kind;
  Opcode opcode;
  bool compressed;
  uint16_t code;
  std::string payload;  // empty for errors: their reason may differ with the cut (same code)

  bool operator==(const Recorded&) const = default;
};

void checkEvent(const Event& e, const ReceiverConfig& config, bool compression) {
  switch (e.kind) {
    case Event::Kind::NeedMore:
      break;
    case Event::Kind::Message:
      FUZZ_CHECK(e.opcode == Opcode::Text || e.opcode == Opcode::Binary);
      FUZZ_CHECK(e.payload.size() <= config.maxMessageSize);
      FUZZ_CHECK(compression || !e.compressed);
      // Compressed text is validated after inflating, by whoever inflates it.
      FUZZ_CHECK(e.opcode != Opcode::Text || e.compressed || isValidUtf8(e.payload));
      break;
    case Event::Kind::Ping:
    case Event::Kind::Pong:
      FUZZ_CHECK(e.payload.size() <= kMaxControlPayload);
      break;
    case Event::Kind::Close:
      FUZZ_CHECK(e.payload.size() <= kMaxCloseReason);
      if (e.code == static_cast<uint16_t>(duplex::CloseCode::NoStatus)) {
        FUZZ_CHECK(e.payload.empty());
      } else {
        FUZZ_CHECK(isValidWireCloseCode(e.code));
        FUZZ_CHECK(isValidUtf8(e.payload));
      }
      break;
    case Event::Kind::Error: {
      using duplex::CloseCode;
      const auto code = static_cast<CloseCode>(e.code);
      FUZZ_CHECK(code == CloseCode::ProtocolError || code == CloseCode::InvalidPayload ||
                 code == CloseCode::MessageTooBig);
      // The reason goes into our close frame as it is.
      FUZZ_CHECK(!e.payload.empty() && e.payload.size() <= kMaxCloseReason);
      FUZZ_CHECK(isValidUtf8(e.payload));
      break;
    }
  }
}

Recorded record(const Event& e) {
  Recorded r{e.kind, e.opcode, e.compressed, e.code, {}};
  if (e.kind != Event::Kind::Error) r.payload.assign(e.payload);
  return r;
}

bool ends(const Recorded& r) {
  return r.kind == Event::Kind::Error || r.kind == Event::Kind::Close;
}

// Feeds `stream` cut by `sizes` (one chunk when empty) and returns the events up to the first
// Error or Close (RFC 6455 5.5.1: nothing is read after a close frame).
std::vector<Recorded> run(Receiver& receiver, const ReceiverConfig& config, bool compression,
                          std::string_view stream, std::span<const uint8_t> sizes) {
  std::vector<Recorded> events;
  const size_t limit = config.maxMessageSize + kMaxFrameHeaderSize + kMaxControlPayload;
  size_t pos = 0, turn = 0;
  while (pos < stream.size()) {
    const size_t want = sizes.empty() ? stream.size() : size_t{sizes[turn++ % sizes.size()]} + 1;
    const size_t n = std::min(want, stream.size() - pos);
    // Its own block, exactly the chunk's size: reading past it is a heap overflow.
    const auto block = std::make_unique<uint8_t[]>(n);
    std::memcpy(block.get(), stream.data() + pos, n);
    pos += n;
    const uint8_t* const chunkEnd = block.get() + n;
    std::span<uint8_t> input(block.get(), n);
    for (;;) {
      const uint8_t* const before = input.data();
      const Event e = receiver.next(input, config);
      // Consumed from the front, never past the end.
      FUZZ_CHECK(input.data() >= before && input.data() + input.size() == chunkEnd);
      FUZZ_CHECK(receiver.bufferedBytes() <= limit);
      checkEvent(e, config, compression);
      if (e.kind == Event::Kind::NeedMore) {
        FUZZ_CHECK(input.empty());
        // An empty read changes nothing. (A default, null span here is a separate regression
        // test, tests/fuzz/regression_test.cpp: memcpy from null in the control-frame path.)
        FUZZ_CHECK(receiver.next(input, config).kind == Event::Kind::NeedMore);
        break;
      }
      // In the chunk's consumed part, or not in the chunk at all (the Receiver's storage).
      const size_t consumed = static_cast<size_t>(input.data() - block.get());
      FUZZ_CHECK(within(e.payload, block.get(), consumed) || !overlaps(e.payload, block.get(), n));
      touch(e.payload);
      events.push_back(record(e));
      if (e.kind == Event::Kind::Error) {
        // Sticky: the same error again, whatever comes next.
        FUZZ_CHECK(receiver.next(input, config).code == e.code);
        uint8_t ping[2] = {0x89, 0x80};
        std::span<uint8_t> more(ping);
        const Event again = receiver.next(more, config);
        FUZZ_CHECK(again.kind == Event::Kind::Error && again.code == e.code);
      }
      if (ends(events.back())) return events;
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t flags = in.byte();
  const std::string_view sizeBytes = in.take((flags >> 4) & 7);
  const std::span<const uint8_t> sizes(reinterpret_cast<const uint8_t*>(sizeBytes.data()),
                                       sizeBytes.size());
  const std::string_view stream = in.rest();

  ReceiverConfig config;
  config.role = (flags & 1) ? Role::Client : Role::Server;
  config.maxMessageSize = kMaxMessageSize;
  config.maxFrameSize = (flags & 4) ? 1000 : kMaxMessageSize;
  const bool compression = (flags & 2) != 0;

  Receiver receiver;
  receiver.allowCompression(compression);
  const std::vector<Recorded> chunked = run(receiver, config, compression, stream, sizes);
  receiver.reset();
  const std::vector<Recorded> whole = run(receiver, config, compression, stream, {});
  FUZZ_CHECK(chunked == whole);
  return 0;
}
