#include "payload.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iterator>

namespace bench {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr std::string_view kJsonPrefix = R"({"from":"00000000","seq":"00000000","items":[)";
constexpr std::string_view kJsonSuffix = "]}";

void writeHex32(uint8_t* out, uint32_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<uint8_t>(kHex[v & 0xF]);
    v >>= 4;
  }
}

bool readHex32(const char* in, uint32_t& v) {
  v = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = in[i];
    uint32_t d;
    if (c >= '0' && c <= '9') {
      d = static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      d = static_cast<uint32_t>(c - 'a' + 10);
    } else {
      return false;
    }
    v = (v << 4) | d;
  }
  return true;
}

// Chat-like records, deterministic (a fixed-seed LCG), at least `size` bytes. A small
// vocabulary and repeated keys, as in real JSON traffic; numbers and names vary.
std::string jsonRecords(size_t size) {
  static constexpr std::string_view kWords[] = {
      "the",   "a",      "to",     "and",   "is",     "of",    "in",     "it",   "you",
      "that",  "for",    "on",     "with",  "this",   "we",    "be",     "are",  "have",
      "not",   "at",     "just",   "can",   "will",   "what",  "about",  "when", "meeting",
      "today", "deploy", "server", "build", "review", "merge", "please", "ok",   "thanks",
      "later", "lunch",  "coffee", "bug",   "fixed",  "test",  "green",  "red",  "release"};
  static constexpr std::string_view kRooms[] = {"general", "random", "dev", "ops", "support"};
  uint64_t state = 0x2545F4914F6CDD1DULL;
  auto next = [&](uint64_t bound) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (state >> 33) % bound;
  };
  std::string out;
  out.reserve(size + 256);
  uint64_t ts = 1732483200000;
  char number[32];
  while (out.size() < size) {
    ts += 1 + next(5000);
    std::snprintf(number, sizeof number, "%04u", static_cast<unsigned>(next(200)));
    out += R"({"user":"user-)";
    out += number;
    out += R"(","room":")";
    out += kRooms[next(std::size(kRooms))];
    out += R"(","ts":)";
    out += std::to_string(ts);
    out += R"(,"text":")";
    const uint64_t words = 3 + next(10);
    for (uint64_t i = 0; i < words; ++i) {
      if (i) out += ' ';
      out += kWords[next(std::size(kWords))];
    }
    out += R"("},)";
  }
  return out;
}

}  // namespace

size_t minimumPayloadSize(std::string_view kind) {
  return kind == "json" ? kJsonPrefix.size() + kJsonSuffix.size() : kPayloadHeaderSize;
}

PayloadCodec::PayloadCodec(size_t size, std::string_view kind) {
  if (kind == "json") {
    size_ = std::max(size, minimumPayloadSize(kind));
    prefix_ = kJsonPrefix;
    idOffset_ = prefix_.find('0');
    seqOffset_ = prefix_.find('0', idOffset_ + 8);
    suffix_ = kJsonSuffix;
    // 1,024 starting points about 1 KiB apart over 1 MiB of records, visited in a scattered
    // order: the messages a 32 KiB window holds share keys and vocabulary with the next one,
    // as real traffic does, but not whole stretches of text (with a pattern shorter than the
    // window, context takeover would find every message already in it and shrink it to 4 %).
    starts_ = 1024;
    stride_ = 1021;
    step_ = 509;
    pattern_ = jsonRecords(fillerSize() + starts_ * stride_);
  } else {
    size_ = std::max(size, kPayloadHeaderSize);
    prefix_.assign(kPayloadHeaderSize, '0');
    pattern_.resize(size_ + starts_);
    for (size_t i = 0; i < pattern_.size(); ++i) pattern_[i] = static_cast<char>('a' + i % 26);
  }
}

void PayloadCodec::write(uint8_t* out, uint32_t connection, uint32_t seq) const {
  std::memcpy(out, prefix_.data(), prefix_.size());
  writeHex32(out + idOffset_, connection);
  writeHex32(out + seqOffset_, seq);
  std::memcpy(out + prefix_.size(), pattern_.data() + fillerStart(seq), fillerSize());
  std::memcpy(out + size_ - suffix_.size(), suffix_.data(), suffix_.size());
}

bool PayloadCodec::read(std::string_view payload, uint32_t& connection, uint32_t& seq,
                        std::string& why) const {
  if (payload.size() != size_) {
    why = "payload of " + std::to_string(payload.size()) + " bytes, expected " +
          std::to_string(size_);
    return false;
  }
  if (!readHex32(payload.data() + idOffset_, connection) ||
      !readHex32(payload.data() + seqOffset_, seq)) {
    why = "payload header is not hex: '" + std::string(payload.substr(0, prefix_.size())) + "'";
    return false;
  }
  // The prefix around the two numbers, the filler and the suffix.
  const std::string_view prefix(prefix_);
  const bool same = payload.substr(0, idOffset_) == prefix.substr(0, idOffset_) &&
                    payload.substr(idOffset_ + 8, seqOffset_ - idOffset_ - 8) ==
                        prefix.substr(idOffset_ + 8, seqOffset_ - idOffset_ - 8) &&
                    payload.substr(seqOffset_ + 8, prefix.size() - seqOffset_ - 8) ==
                        prefix.substr(seqOffset_ + 8) &&
                    std::memcmp(payload.data() + prefix.size(), pattern_.data() + fillerStart(seq),
                                fillerSize()) == 0 &&
                    payload.substr(size_ - suffix_.size()) == suffix_;
  if (!same) {
    why = "payload corrupted (connection " + std::to_string(connection) + ", seq " +
          std::to_string(seq) + ")";
    return false;
  }
  return true;
}

}  // namespace bench
