#include "protocol/utf8.h"

#include <array>
#include <cstring>

namespace duplex::protocol {
namespace {

// A DFA in the style of Bjoern Hoehrmann's decoder: each byte maps to a class, and
// (state, class) to the next state. The table is built at compile time from the ranges of
// RFC 3629 section 4, so that overlongs (C0, C1, E0 80-9F, F0 80-8F), surrogates (ED A0-BF)
// and code points above U+10FFFF (F4 90-BF, F5-FF) have nowhere to go but Reject.
enum State : uint8_t {
  Accept = 0,
  Reject = 1,
  Need1,    // one continuation byte 80-BF to go
  Need2,    // two to go
  AfterE0,  // next must be A0-BF (else overlong), then one more
  AfterED,  // next must be 80-9F (else a surrogate), then one more
  Need3,    // three to go (after F1-F3)
  AfterF0,  // next must be 90-BF (else overlong), then two more
  AfterF4,  // next must be 80-8F (else above U+10FFFF), then two more
  kStates,
};

enum Class : uint8_t {
  Ascii,    // 00-7F
  Cont80,   // 80-8F
  Cont90,   // 90-9F
  ContA0,   // A0-BF
  Invalid,  // C0, C1, F5-FF: can never appear
  Lead2,    // C2-DF
  LeadE0,
  Lead3,  // E1-EC, EE, EF
  LeadED,
  LeadF0,
  Lead4,  // F1-F3
  LeadF4,
  kClasses,
};

constexpr Class classOf(unsigned b) {
  if (b < 0x80) return Ascii;
  if (b < 0x90) return Cont80;
  if (b < 0xA0) return Cont90;
  if (b < 0xC0) return ContA0;
  if (b < 0xC2) return Invalid;
  if (b < 0xE0) return Lead2;
  if (b == 0xE0) return LeadE0;
  if (b == 0xED) return LeadED;
  if (b < 0xF0) return Lead3;
  if (b == 0xF0) return LeadF0;
  if (b < 0xF4) return Lead4;
  if (b == 0xF4) return LeadF4;
  return Invalid;
}

constexpr uint8_t transition(uint8_t state, Class c) {
  const bool cont = c == Cont80 || c == Cont90 || c == ContA0;
  switch (state) {
    case Accept:
      switch (c) {
        case Ascii:
          return Accept;
        case Lead2:
          return Need1;
        case LeadE0:
          return AfterE0;
        case Lead3:
          return Need2;
        case LeadED:
          return AfterED;
        case LeadF0:
          return AfterF0;
        case Lead4:
          return Need3;
        case LeadF4:
          return AfterF4;
        default:
          return Reject;
      }
    case Need1:
      return cont ? Accept : Reject;
    case Need2:
      return cont ? Need1 : Reject;
    case AfterE0:
      return c == ContA0 ? Need1 : Reject;
    case AfterED:
      return c == Cont80 || c == Cont90 ? Need1 : Reject;
    case Need3:
      return cont ? Need2 : Reject;
    case AfterF0:
      return c == Cont90 || c == ContA0 ? Need2 : Reject;
    case AfterF4:
      return c == Cont80 ? Need2 : Reject;
    default:
      return Reject;
  }
}

constexpr std::array<uint8_t, 256> kClassOf = [] {
  std::array<uint8_t, 256> t{};
  for (unsigned b = 0; b < 256; ++b) t[b] = classOf(b);
  return t;
}();

// Row-major (state, class) -> next state.
constexpr size_t at(unsigned state, unsigned cls) {
  return state * size_t{kClasses} + cls;
}

constexpr std::array<uint8_t, at(kStates, 0)> kNext = [] {
  std::array<uint8_t, at(kStates, 0)> t{};
  for (uint8_t s = 0; s < kStates; ++s)
    for (uint8_t c = 0; c < kClasses; ++c) t[at(s, c)] = transition(s, Class(c));
  return t;
}();

static_assert(kNext[at(Accept, Ascii)] == Accept);
static_assert(kNext[at(AfterED, ContA0)] == Reject, "surrogates are rejected");

constexpr uint64_t kHighBits = 0x8080808080808080ull;

}  // namespace

bool Utf8Validator::feed(const uint8_t* data, size_t size) {
  uint8_t state = state_;
  if (state == Reject) return false;
  const uint8_t* p = data;
  const uint8_t* const end = data + size;
  while (p != end) {
    if (state == Accept && *p < 0x80) {
      // ASCII fast path: between characters, skip 16 then 8 bytes at a time while no byte
      // has its top bit set; most text on the wire is mostly ASCII.
      while (end - p >= 16) {
        uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + 8, 8);
        if ((a | b) & kHighBits) break;
        p += 16;
      }
      if (end - p >= 8) {
        uint64_t a;
        std::memcpy(&a, p, 8);
        if ((a & kHighBits) == 0) p += 8;
      }
      while (p != end && *p < 0x80) ++p;
      if (p == end) break;
    }
    state = kNext[at(state, kClassOf[*p++])];
    if (state == Reject) {
      state_ = Reject;
      return false;
    }
  }
  state_ = state;
  return true;
}

bool isValidUtf8(std::string_view s) {
  Utf8Validator v;
  return v.feed(s) && v.complete();
}

}  // namespace duplex::protocol
