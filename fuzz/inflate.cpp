// Fuzz target: the permessage-deflate codec (deflate_codec.h). The input is
//
//   [flags] [level] [piece sizes: (flags >> 5) & 7 bytes] [data]
//
// flags bits 0-2: windowBits = 8 + (b & 7);  bit 3: noContextTakeover;
//       bit 4: round trip instead of inflate (below);
// level byte b: inflate: maxSize = kMaxSizes[b & 7]; round trip: zlib level (b & 15) % 10,
//       memLevel 1 + (b >> 4) % 9;
// piece size byte b: (b & 0x7f) + 1 bytes; bit 7 ends the message after this piece.
//
// Inflate (bit 4 clear): the data is compressed messages from a peer, cut into frame payloads
// by the piece sizes (with none, the whole data is one message, inflateMessage). maxSize is
// kMaxSizes[b & 7] of the level byte, so that small limits and bombs meet: no call may
// produce more than maxSize + 1 bytes of a message, a message that inflates is at most
// maxSize, a failure is final, and an inflated message deflates and inflates back to itself.
//
// Round trip (bit 4 set): the pieces are plaintext messages, compressed by a Deflater and
// inflated by an Inflater with the same settings (with context takeover, across messages),
// with maxSize exactly the message's size: every message must come back intact.
#include <algorithm>
#include <string>

#include "fuzz_support.h"
#include "protocol/deflate_codec.h"

namespace {

using namespace duplex::protocol;
using duplex::fuzz::Input;

constexpr size_t kMaxSizes[8] = {0, 1, 100, 1024, 4096, 16384, 65536, 1 << 20};

struct Piece {
  std::string_view bytes;
  bool endsMessage;
};

// The next piece: sizes used in turn, or the rest of the data when there are none.
Piece nextPiece(std::string_view& data, std::string_view sizes, size_t& turn) {
  if (sizes.empty()) {
    Piece p{data, true};
    data = {};
    return p;
  }
  const auto b = static_cast<uint8_t>(sizes[turn++ % sizes.size()]);
  const size_t n = std::min<size_t>((b & 0x7f) + 1, data.size());
  Piece p{data.substr(0, n), (b & 0x80) != 0 || n == data.size()};
  data.remove_prefix(n);
  return p;
}

// Deflating what came out and inflating it again gives it back. (Level 1 and memLevel 1: the
// round trip is the point, and zlib's smallest state keeps the target fast.)
void checkRecompresses(const std::string& message, uint8_t windowBits) {
  Deflater deflater(
      {.windowBits = windowBits, .noContextTakeover = true, .level = 1, .memLevel = 1});
  std::string wire, back;
  FUZZ_CHECK(deflater.compress(message, wire));
  Inflater inflater({.windowBits = windowBits, .noContextTakeover = true});
  FUZZ_CHECK(inflater.inflateMessage(wire, back, message.size()) == InflateStatus::Ok);
  FUZZ_CHECK(back == message);
}

void inflatePeer(std::string_view data, std::string_view sizes, const InflaterSettings& settings,
                 size_t maxSize) {
  Inflater inflater(settings);
  std::string out;
  size_t turn = 0;
  bool recompressed = false;
  do {
    const Piece piece = nextPiece(data, sizes, turn);
    InflateStatus status = sizes.empty() ? inflater.inflateMessage(piece.bytes, out, maxSize)
                                         : inflater.feed(piece.bytes, out, maxSize);
    FUZZ_CHECK(out.size() <= maxSize + 1);  // a bomb stops at the limit
    if (status == InflateStatus::Ok && piece.endsMessage && !sizes.empty()) {
      status = inflater.finish(out, maxSize);
      FUZZ_CHECK(out.size() <= maxSize + 1);
    }
    if (status != InflateStatus::Ok) {
      // Final: every later call says the same, and nothing more comes out.
      FUZZ_CHECK(inflater.failure() == status);
      FUZZ_CHECK(status != InflateStatus::Corrupt || !inflater.error().empty());
      FUZZ_CHECK(closeCodeFor(status) != 1000);
      const size_t before = out.size();
      FUZZ_CHECK(inflater.feed("\x01\x02", out, maxSize) == status);
      FUZZ_CHECK(inflater.finish(out, maxSize) == status);
      FUZZ_CHECK(out.size() == before);
      FUZZ_CHECK(inflater.memoryBytes() == 0);  // failed: the zlib state is given back
      return;
    }
    if (piece.endsMessage) {
      FUZZ_CHECK(out.size() <= maxSize);
      if (!recompressed && !out.empty()) {
        checkRecompresses(out, settings.windowBits);
        recompressed = true;
      }
      if (settings.noContextTakeover) {
        inflater.release();
        FUZZ_CHECK(inflater.memoryBytes() == 0);
      }
      out.clear();
    }
  } while (!data.empty());
}

void roundTrip(std::string_view data, std::string_view sizes, const DeflaterSettings& settings) {
  Deflater deflater(settings);
  Inflater inflater(
      {.windowBits = settings.windowBits, .noContextTakeover = settings.noContextTakeover});
  size_t turn = 0;
  do {
    const std::string_view message = nextPiece(data, sizes, turn).bytes;
    std::string wire, out;
    FUZZ_CHECK(deflater.compress(message, wire));
    FUZZ_CHECK(inflater.inflateMessage(wire, out, message.size()) == InflateStatus::Ok);
    FUZZ_CHECK(out == message);
    // Without context takeover both ends may drop their state between messages.
    if (settings.noContextTakeover) {
      deflater.release();
      inflater.release();
      FUZZ_CHECK(deflater.memoryBytes() == 0 && inflater.memoryBytes() == 0);
    }
  } while (!data.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t flags = in.byte();
  const uint8_t levels = in.byte();
  const std::string_view sizes = in.take((flags >> 5) & 7);
  const std::string_view rest = in.rest();

  const auto windowBits = static_cast<uint8_t>(8 + (flags & 7));
  const bool noContextTakeover = (flags & 8) != 0;
  if (flags & 16) {
    DeflaterSettings settings;
    settings.windowBits = windowBits;
    settings.noContextTakeover = noContextTakeover;
    settings.level = static_cast<int8_t>((levels & 15) % 10);
    settings.memLevel = static_cast<uint8_t>(1 + (levels >> 4) % 9);
    roundTrip(rest, sizes, settings);
  } else {
    inflatePeer(rest, sizes, {.windowBits = windowBits, .noContextTakeover = noContextTakeover},
                kMaxSizes[levels & 7]);
  }
  return 0;
}
