#include "deflate_codec.h"

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "close_code.h"
#include "deflate_alone.h"

namespace duplex::protocol {
namespace {

// What RFC 7692 7.2.1 strips from a sync-flushed message and 7.2.2 appends back.
constexpr unsigned char kTail[4] = {0x00, 0x00, 0xff, 0xff};

// zlib's avail_in / avail_out are 32-bit: larger buffers are handed over in slices.
constexpr size_t kMaxSlice = size_t{1} << 30;

// A zalloc/zfree pair that counts the bytes zlib holds, so memoryBytes() is measured rather
// than estimated. Each block carries its size in a max_align_t-sized header.
constexpr size_t kHeader = alignof(std::max_align_t);

voidpf countingAlloc(voidpf opaque, uInt items, uInt size) {
  size_t bytes = size_t{items} * size;
  auto* block = static_cast<unsigned char*>(std::malloc(bytes + kHeader));
  if (block == nullptr) return Z_NULL;
  std::memcpy(block, &bytes, sizeof bytes);
  *static_cast<size_t*>(opaque) += bytes;
  return block + kHeader;
}

void countingFree(voidpf opaque, voidpf address) {
  if (address == Z_NULL) return;
  auto* block = static_cast<unsigned char*>(address) - kHeader;
  size_t bytes;
  std::memcpy(&bytes, block, sizeof bytes);
  *static_cast<size_t*>(opaque) -= bytes;
  std::free(block);
}

// zlib takes non-const input pointers but never writes through them.
Bytef* input(const char* p) {
  return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Deflater

// Lives on the heap so that the z_stream never moves (zlib keeps a pointer back to it) and so
// that a Deflater that never compressed is one null pointer plus its settings.
struct Deflater::State {
  z_stream z{};
  size_t zlibBytes = 0;
  bool used = false;  // a message went through since the stream was (re)set
  ~State() { deflateEnd(&z); }
};

Deflater::Deflater(const DeflaterSettings& settings) : settings_(settings) {}
Deflater::~Deflater() = default;
Deflater::Deflater(Deflater&&) noexcept = default;
Deflater& Deflater::operator=(Deflater&&) noexcept = default;

bool Deflater::ensureState() {
  if (state_) return true;
  auto state = std::make_unique<State>();
  state->z.zalloc = countingAlloc;
  state->z.zfree = countingFree;
  state->z.opaque = &state->zlibBytes;
  // zlib's deflate cannot run a 256-byte window: deflateInit2 rejects 8 for raw streams (it
  // would silently use 9 for zlib-wrapped ones). We compress with 9 when 8 was agreed, which
  // RFC 7692 7.1.2.1 still allows us to promise, because zlib never emits a match distance
  // beyond MAX_DIST = window size - MIN_LOOKAHEAD = 512 - 262 = 250 bytes (deflate.h), which
  // a 256-byte window decodes. test_permessage_deflate_codec.cpp checks this against the
  // zlib we link by inflating our window-9 output with a window-8 inflater.
  int windowBits = std::max<int>(settings_.windowBits, 9);
  int rc = deflateInit2(&state->z, settings_.level, Z_DEFLATED, -windowBits, settings_.memLevel,
                        Z_DEFAULT_STRATEGY);
  if (rc != Z_OK) {
    // Nothing was set up; keep ~State from calling deflateEnd on a half-made stream.
    state->z = z_stream{};
    return false;
  }
  state_ = std::move(state);
  return true;
}

bool Deflater::compress(std::string_view message, std::string& out) {
  if (message.empty()) {
    // An empty stored block with the tail removed (RFC 7692 7.2.3.6). zlib would emit nothing
    // at all for a second sync flush in a row, and an empty payload leaves some inflaters
    // inside a block header. The stream is byte-aligned after every message, so this block
    // needs no help from zlib, nor its memory.
    out.push_back('\0');
    return true;
  }
  if (settings_.noContextTakeover && !settings_.zlibOnly &&
      message.size() <= (size_t{1} << settings_.windowBits)) {
    if (!alone_) alone_ = std::make_unique<AloneCompressor>(settings_.level);
    return alone_->compress(message, out);
  }
  if (!ensureState()) return false;
  z_stream& z = state_->z;
  if (settings_.noContextTakeover && state_->used) deflateReset(&z);
  state_->used = true;

  const size_t start = out.size();
  // deflateBound assumes Z_FINISH; a sync flush adds at most an empty stored block (5 bytes)
  // and a few bits, so this is almost always enough in one go.
  out.resize(start + deflateBound(&z, message.size()) + 8);
  size_t produced = start;
  const char* next = message.data();
  size_t remaining = message.size();
  for (;;) {
    if (z.avail_in == 0 && remaining > 0) {
      size_t slice = std::min(remaining, kMaxSlice);
      z.next_in = input(next);
      z.avail_in = static_cast<uInt>(slice);
      next += slice;
      remaining -= slice;
    }
    if (produced == out.size()) out.resize(out.size() + std::max<size_t>(out.size() - start, 64));
    size_t room = std::min(out.size() - produced, kMaxSlice);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(room);
    int flush = remaining == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    int rc = deflate(&z, flush);
    produced += room - z.avail_out;
    // Z_BUF_ERROR only means "no progress possible", e.g. a flush that had already completed.
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      out.resize(start);
      state_.reset();  // the stream is unusable; the next message starts a fresh one
      return false;
    }
    // With a sync flush, output space left over means everything is out (zlib.h, deflate()).
    if (flush == Z_SYNC_FLUSH && z.avail_in == 0 && z.avail_out != 0) break;
  }
  if (produced - start >= sizeof kTail &&
      std::memcmp(out.data() + produced - sizeof kTail, kTail, sizeof kTail) == 0) {
    produced -= sizeof kTail;
  }
  out.resize(produced);
  return true;
}

bool Deflater::release() {
  if ((!state_ && !alone_) || !settings_.noContextTakeover) return false;
  state_.reset();
  alone_.reset();
  return true;
}

size_t Deflater::memoryBytes() const {
  return (state_ ? sizeof(State) + state_->zlibBytes : 0) +
         (alone_ ? sizeof(AloneCompressor) + alone_->memoryBytes() : 0);
}

// ---------------------------------------------------------------------------------------------
// Inflater

struct Inflater::State {
  z_stream z{};
  size_t zlibBytes = 0;
  bool used = false;
  ~State() { inflateEnd(&z); }
};

uint16_t closeCodeFor(InflateStatus status) {
  switch (status) {
    case InflateStatus::Ok:
      return static_cast<uint16_t>(CloseCode::Normal);
    case InflateStatus::TooBig:
      return static_cast<uint16_t>(CloseCode::MessageTooBig);
    case InflateStatus::Corrupt:
      return static_cast<uint16_t>(CloseCode::InvalidPayload);
    case InflateStatus::NoMemory:
      return static_cast<uint16_t>(CloseCode::InternalError);
  }
  return static_cast<uint16_t>(CloseCode::InternalError);
}

Inflater::Inflater(const InflaterSettings& settings) : settings_(settings) {}
Inflater::~Inflater() = default;
Inflater::Inflater(Inflater&&) noexcept = default;
Inflater& Inflater::operator=(Inflater&&) noexcept = default;

bool Inflater::ensureState() {
  if (state_) return true;
  auto state = std::make_unique<State>();
  state->z.zalloc = countingAlloc;
  state->z.zfree = countingFree;
  state->z.opaque = &state->zlibBytes;
  // Unlike deflate, raw inflate accepts a window of 8 bits. Using exactly the agreed window
  // both saves memory and rejects a peer that references further back than it promised.
  if (inflateInit2(&state->z, -static_cast<int>(settings_.windowBits)) != Z_OK) {
    state->z = z_stream{};
    return false;
  }
  state_ = std::move(state);
  return true;
}

InflateStatus Inflater::fail(InflateStatus status, std::string_view why) {
  failure_ = status;
  error_.assign(why);
  state_.reset();  // the connection is closing: give the memory back now
  inMessage_ = false;
  return status;
}

void Inflater::beginMessage() {
  if (inMessage_) return;
  inMessage_ = true;
  messageOut_ = 0;
  messageIn_ = 0;
  if (state_ && state_->used && settings_.noContextTakeover) {
    inflateReset(&state_->z);
    state_->used = false;
  }
}

InflateStatus Inflater::feed(std::string_view piece, std::string& out, size_t maxSize) {
  if (failure_ != InflateStatus::Ok) return failure_;
  beginMessage();
  if (piece.empty()) return InflateStatus::Ok;
  if (!ensureState()) return fail(InflateStatus::NoMemory, "no memory for the inflate state");
  state_->used = true;
  return run(piece, out, maxSize);
}

InflateStatus Inflater::finish(std::string& out, size_t maxSize) {
  if (failure_ != InflateStatus::Ok) return failure_;
  beginMessage();
  bool sawData = messageIn_ > 0;
  inMessage_ = false;
  // A compressed message with an empty payload: some senders do that for an empty message
  // without running their compressor, so ours must not run either (the tail alone would leave
  // the stream inside a stored block header).
  if (!sawData) return InflateStatus::Ok;

  InflateStatus status = run({reinterpret_cast<const char*>(kTail), sizeof kTail}, out, maxSize);
  if (status != InflateStatus::Ok) return status;
  z_stream& z = state_->z;
  if (streamEnded_) {
    // RFC 7692 7.2.3.4: the sender ended the DEFLATE stream with BFINAL. zlib stops there, so
    // start a new stream for the next message, keeping the window if context takeover allows
    // the peer to refer back to it.
    streamEnded_ = false;
    if (settings_.noContextTakeover) {
      inflateReset(&z);
    } else {
      std::string window(size_t{1} << settings_.windowBits, '\0');
      uInt length = 0;
      inflateGetDictionary(&z, reinterpret_cast<Bytef*>(window.data()), &length);
      inflateReset(&z);
      inflateSetDictionary(&z, reinterpret_cast<const Bytef*>(window.data()), length);
    }
  } else if ((z.data_type & 128) == 0) {
    // After the tail a whole message leaves inflate at a block boundary (zlib.h: data_type
    // +128). Anywhere else, the sender's data stopped inside a block: the message is cut.
    return fail(InflateStatus::Corrupt, "compressed message ends inside a DEFLATE block");
  }
  return InflateStatus::Ok;
}

InflateStatus Inflater::inflateMessage(std::string_view message, std::string& out, size_t maxSize) {
  InflateStatus status = feed(message, out, maxSize);
  return status == InflateStatus::Ok ? finish(out, maxSize) : status;
}

InflateStatus Inflater::run(std::string_view data, std::string& out, size_t maxSize) {
  z_stream& z = state_->z;
  const char* next = data.data();
  size_t remaining = data.size();
  bool moreOutput = false;  // the last call filled the output inside a block
  while (remaining > 0 || z.avail_in > 0 || moreOutput) {
    if (streamEnded_) {
      // After a BFINAL block only padding may follow (RFC 7692 7.2.3.4); nothing to inflate.
      messageIn_ += remaining + z.avail_in;
      z.avail_in = 0;
      break;
    }
    if (z.avail_in == 0 && remaining > 0) {
      size_t slice = std::min(remaining, kMaxSlice);
      z.next_in = input(next);
      z.avail_in = static_cast<uInt>(slice);
      next += slice;
      remaining -= slice;
    }
    // Output room: a guess that doubles as the message grows, never letting the message pass
    // maxSize + 1 bytes. Producing that one extra byte is how we learn it is too big without
    // inflating anything more.
    uint64_t allowed = maxSize - messageOut_;  // messageOut_ <= maxSize holds here
    allowed = allowed == UINT64_MAX ? allowed : allowed + 1;
    uint64_t guess = std::max<uint64_t>({uint64_t{z.avail_in} * 4 + 256, messageOut_, 256});
    size_t room = static_cast<size_t>(std::min<uint64_t>({guess, allowed, kMaxSlice}));
    size_t used = out.size();
    out.resize(used + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(room);
    uInt inBefore = z.avail_in;
    // Z_BLOCK makes zlib report when it stops at a block boundary (data_type), which
    // finish() needs; zlib resumes from a boundary by itself on the next call.
    int rc = inflate(&z, Z_BLOCK);
    size_t got = room - z.avail_out;
    out.resize(used + got);
    messageOut_ += got;
    messageIn_ += inBefore - z.avail_in;
    if (messageOut_ > maxSize) {
      return fail(InflateStatus::TooBig,
                  "inflated message exceeds " + std::to_string(maxSize) + " bytes");
    }
    switch (rc) {
      case Z_OK:
      case Z_BUF_ERROR:  // no progress possible: needs more input
        break;
      case Z_STREAM_END:
        streamEnded_ = true;
        break;
      case Z_MEM_ERROR:
        return fail(InflateStatus::NoMemory, "no memory for the inflate window");
      default:  // Z_DATA_ERROR, and Z_NEED_DICT, which raw DEFLATE never legitimately asks
        return fail(InflateStatus::Corrupt, z.msg != nullptr ? z.msg : "invalid DEFLATE data");
    }
    // Output space ran out inside a block: there may be more to come even without input.
    moreOutput = z.avail_out == 0 && (z.data_type & 128) == 0 && rc != Z_STREAM_END;
  }
  return InflateStatus::Ok;
}

bool Inflater::release() {
  if (!state_ || !settings_.noContextTakeover || inMessage_) return false;
  state_.reset();
  return true;
}

size_t Inflater::memoryBytes() const {
  return state_ ? sizeof(State) + state_->zlibBytes : 0;
}

}  // namespace duplex::protocol
