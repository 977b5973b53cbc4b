#pragma once
// The compression half of permessage-deflate (RFC 7692 7.2): raw DEFLATE over zlib, one message
// at a time, with the 0x00 0x00 0xff 0xff tail of a sync flush removed on the way out and put
// back on the way in. Sans-I/O: bytes in, bytes out, into buffers the caller owns and reuses.
//
// Memory: zlib's state is what makes compression expensive per connection (about 260 KiB to
// deflate and 40 KiB to inflate with the RFC's defaults; docs/compression.md has the measured
// numbers). Both classes allocate it on first use, so a connection that never compresses or
// never receives a compressed message pays for nothing, and release() gives it back between
// messages when no context takeover is in force. memoryBytes() reports what is held.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace duplex::protocol {

class AloneCompressor;  // deflate_alone.h

struct DeflaterSettings {
  uint8_t windowBits =
      15;  // 8..15, the LZ77 window the peer agreed to (see deflate_codec.cpp on 8)
  bool noContextTakeover = false;  // each message compressed on its own (RFC 7692 7.1.1)
  int8_t level = 6;                // zlib level 0..9, or -1 for zlib's default
  uint8_t memLevel = 8;            // zlib memLevel 1..9: hash table size, speed and ratio
  // Never libdeflate (deflate_alone.h), always zlib's sync-flushed stream: for a benchmark
  // generator that must send what browsers send.
  bool zlibOnly = false;
};

class Deflater {
 public:
  explicit Deflater(const DeflaterSettings& settings = {});
  ~Deflater();
  Deflater(Deflater&&) noexcept;
  Deflater& operator=(Deflater&&) noexcept;

  // Appends `message` compressed (RFC 7692 7.2.1: sync flush, trailing 0x00 0x00 0xff 0xff
  // removed) to `out`. With context takeover the LZ77 window carries over to the next message,
  // so what this returns must then be sent: skipping it would desynchronise the peer. Returns
  // false, leaving `out` as it was, only when zlib cannot get memory.
  bool compress(std::string_view message, std::string& out);

  // Frees the compressor state if no context takeover is in force (the next message needs
  // none of it). Returns whether anything was freed. With context takeover the state is the shared
  // history and is kept.
  bool release();

  size_t memoryBytes() const;  // heap held now: zlib's allocations plus our bookkeeping
  const DeflaterSettings& settings() const { return settings_; }

 private:
  struct State;
  bool ensureState();
  std::unique_ptr<State> state_;
  // Without context takeover, messages the agreed window covers go through libdeflate
  // (deflate_alone.h: same output size, about a third less CPU); longer ones through zlib.
  std::unique_ptr<AloneCompressor> alone_;
  DeflaterSettings settings_;
};

struct InflaterSettings {
  uint8_t windowBits = 15;  // 8..15: the peer promised not to reference further back
  bool noContextTakeover = false;
};

enum class InflateStatus : uint8_t {
  Ok,        // input consumed; for finish(), the message is complete in `out`
  TooBig,    // the message would exceed maxSize; inflation stopped there
  Corrupt,   // not valid DEFLATE data (or a reference beyond the agreed window)
  NoMemory,  // zlib could not allocate its state
};

// The close code a failed inflation deserves. RFC 7692 names none: a message that does not
// inflate is data inconsistent with its (negotiated) type, so 1007 InvalidPayload, as the ws
// library for Node does; too big is 1009 MessageTooBig (RFC 6455 7.4.1); no memory is 1011.
uint16_t closeCodeFor(InflateStatus status);

class Inflater {
 public:
  explicit Inflater(const InflaterSettings& settings = {});
  ~Inflater();
  Inflater(Inflater&&) noexcept;
  Inflater& operator=(Inflater&&) noexcept;

  // Inflates one piece of a compressed message (the payload of one of its frames), appending
  // to `out`. `maxSize` bounds the whole inflated message (all pieces); the moment the output
  // would pass it, inflation stops with TooBig: at most maxSize + 1 bytes are ever produced,
  // so a decompression bomb costs no more than a legitimate maximal message.
  InflateStatus feed(std::string_view piece, std::string& out, size_t maxSize);
  // Ends the message: inflates the 0x00 0x00 0xff 0xff tail the sender removed.
  InflateStatus finish(std::string& out, size_t maxSize);
  // feed(message) then finish(): a whole message at once.
  InflateStatus inflateMessage(std::string_view message, std::string& out, size_t maxSize);

  // A failure is final: the connection is closing, and with context takeover nothing that
  // follows could be decoded anyway. Every later call returns the same status.
  InflateStatus failure() const { return failure_; }
  const std::string& error() const { return error_; }  // zlib's reason for Corrupt

  // Like Deflater::release(): frees the state between messages under no context takeover.
  bool release();

  size_t memoryBytes() const;
  // Compressed bytes consumed so far for the current (or last) message; for logs and ratios.
  uint64_t messageBytesIn() const { return messageIn_; }

 private:
  struct State;
  void beginMessage();
  InflateStatus run(std::string_view input, std::string& out, size_t maxSize);
  InflateStatus fail(InflateStatus status, std::string_view why);
  bool ensureState();
  std::unique_ptr<State> state_;
  uint64_t messageOut_ = 0;  // bytes inflated for the current message
  uint64_t messageIn_ = 0;
  std::string error_;
  InflaterSettings settings_;
  bool inMessage_ = false;
  bool streamEnded_ = false;  // the peer ended the DEFLATE stream (BFINAL) inside this message
  InflateStatus failure_ = InflateStatus::Ok;
};

}  // namespace duplex::protocol
