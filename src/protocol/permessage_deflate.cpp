#include "permessage_deflate.h"

#include <algorithm>
#include <vector>

#include "deflate_extension_header.h"

namespace duplex::protocol {
namespace {

constexpr std::string_view kServerNoContextTakeover = "server_no_context_takeover";
constexpr std::string_view kClientNoContextTakeover = "client_no_context_takeover";
constexpr std::string_view kServerMaxWindowBits = "server_max_window_bits";
constexpr std::string_view kClientMaxWindowBits = "client_max_window_bits";

// Extension and parameter names are matched without regard to case, as HTTP tokens usually
// are; a client that writes "Permessage-Deflate" means what it says.
bool sameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// RFC 7692 7.1.2: a window size is a decimal integer from 8 to 15 with no leading zeros.
// Returns 0 for anything else ("08", "+9", "16", "abc", "").
uint8_t parseWindowBits(std::string_view value) {
  if (value.size() == 1 && (value[0] == '8' || value[0] == '9')) return uint8_t(value[0] - '0');
  if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') {
    return uint8_t(10 + value[1] - '0');
  }
  return 0;
}

// The four parameters of one permessage-deflate element, checked against RFC 7692 7.1:
// each at most once, the takeover ones without a value, the window ones with a valid value
// (except client_max_window_bits in an offer, where it may come bare), nothing else.
struct ElementParams {
  bool serverNoContextTakeover = false;
  bool clientNoContextTakeover = false;
  uint8_t serverMaxWindowBits = 0;  // 0: absent
  uint8_t clientMaxWindowBits = 0;  // 0: absent or bare
  bool clientMaxWindowBitsPresent = false;
};

enum class Side { Offer, Response };

bool readParams(const ExtensionElement& element, Side side, ElementParams& out, std::string& why) {
  bool seenServerBits = false;
  for (const ExtensionParam& param : element.params) {
    const std::string& name = param.name;
    bool* flag = sameName(name, kServerNoContextTakeover)   ? &out.serverNoContextTakeover
                 : sameName(name, kClientNoContextTakeover) ? &out.clientNoContextTakeover
                                                            : nullptr;
    if (flag != nullptr) {
      if (*flag) return why = "duplicate " + name, false;
      if (param.value) return why = name + " takes no value", false;
      *flag = true;
    } else if (sameName(name, kServerMaxWindowBits)) {
      if (seenServerBits) return why = "duplicate " + name, false;
      seenServerBits = true;
      out.serverMaxWindowBits = param.value ? parseWindowBits(*param.value) : 0;
      if (out.serverMaxWindowBits == 0) {
        return why = "invalid " + name + "=" + param.value.value_or(""), false;
      }
    } else if (sameName(name, kClientMaxWindowBits)) {
      if (out.clientMaxWindowBitsPresent) return why = "duplicate " + name, false;
      out.clientMaxWindowBitsPresent = true;
      // RFC 7692 7.1.2.2: bare in an offer means "I can limit my window"; a response must
      // say to what.
      if (!param.value && side == Side::Offer) continue;
      if (!param.value) return why = name + " needs a value in a response", false;
      out.clientMaxWindowBits = parseWindowBits(*param.value);
      if (out.clientMaxWindowBits == 0) {
        return why = "invalid " + name + "=" + *param.value, false;
      }
    } else {
      return why = "unknown parameter " + name, false;
    }
  }
  return true;
}

void appendParam(std::string& out, std::string_view name, uint8_t bits = 0) {
  out += "; ";
  out += name;
  if (bits != 0) {
    out += '=';
    out += std::to_string(bits);
  }
}

void addNote(std::string& notes, std::string_view note) {
  if (!notes.empty()) notes += "; ";
  notes += note;
}

}  // namespace

bool validateDeflateConfig(const PerMessageDeflateConfig& config, std::string& error) {
  auto windowOk = [](uint8_t bits) { return bits >= 8 && bits <= 15; };
  if (!windowOk(config.serverMaxWindowBits)) {
    error = "serverMaxWindowBits must be 8..15";
  } else if (!windowOk(config.clientMaxWindowBits)) {
    error = "clientMaxWindowBits must be 8..15";
  } else if (config.level < -1 || config.level > 9) {
    error = "level must be -1..9";
  } else if (config.memLevel < 1 || config.memLevel > 9) {
    error = "memLevel must be 1..9";
  } else {
    return true;
  }
  return false;
}

DeflateAcceptance acceptDeflateOffer(std::span<const std::string_view> lines,
                                     const PerMessageDeflateConfig& config) {
  DeflateAcceptance result;
  std::string error;
  if (!config.enabled) return result;
  if (!validateDeflateConfig(config, error)) {
    result.note = "permessage-deflate config: " + error;
    return result;
  }
  std::vector<ExtensionElement> elements;
  if (!parseExtensionHeader(lines, elements, error)) {
    result.note = error;
    return result;
  }
  int index = 0;
  for (const ExtensionElement& offer : elements) {
    if (!sameName(offer.name, kPerMessageDeflate)) continue;
    ++index;
    ElementParams asked;
    if (!readParams(offer, Side::Offer, asked, error)) {
      addNote(result.note,
              "declined permessage-deflate offer " + std::to_string(index) + ": " + error);
      continue;
    }

    DeflateParams& agreed = result.params;
    // RFC 7692 7.1.1: a takeover restriction the client asks for must be honoured (server) or
    // may be confirmed (client); the config can add either on its own.
    agreed.serverNoContextTakeover =
        asked.serverNoContextTakeover || config.serverNoContextTakeover;
    agreed.clientNoContextTakeover =
        asked.clientNoContextTakeover || config.clientNoContextTakeover;

    // RFC 7692 7.1.2.1: an offered server_max_window_bits is a limit we must stay within and
    // repeat (possibly smaller) in the response; without one we may still announce our own.
    // An offer of 8 is accepted although zlib cannot deflate with a 256-byte window: see
    // Deflater (deflate_codec.cpp) for why its 512-byte window still never reaches back
    // further than 256 bytes.
    agreed.serverMaxWindowBits = config.serverMaxWindowBits;
    if (asked.serverMaxWindowBits != 0) {
      agreed.serverMaxWindowBits = std::min(agreed.serverMaxWindowBits, asked.serverMaxWindowBits);
    }
    bool sayServerBits = asked.serverMaxWindowBits != 0 || agreed.serverMaxWindowBits < 15;

    // RFC 7692 7.1.2.2: we may limit the client's window only if it offered the parameter.
    // If it did not, it may use 15 bits whatever our config says, and we inflate with 15.
    agreed.clientMaxWindowBits = 15;
    bool sayClientBits = false;
    if (asked.clientMaxWindowBitsPresent) {
      agreed.clientMaxWindowBits = config.clientMaxWindowBits;
      if (asked.clientMaxWindowBits != 0) {
        agreed.clientMaxWindowBits =
            std::min(agreed.clientMaxWindowBits, asked.clientMaxWindowBits);
      }
      // Repeat a value the client gave even when it equals ours: then nobody has to know
      // what an omitted parameter would have meant.
      sayClientBits = agreed.clientMaxWindowBits < 15 || asked.clientMaxWindowBits != 0;
    } else if (config.clientMaxWindowBits < 15) {
      addNote(result.note, "client cannot limit its window; inflating with 15 bits");
    }

    std::string& response = result.response;
    response = kPerMessageDeflate;
    if (agreed.serverNoContextTakeover) appendParam(response, kServerNoContextTakeover);
    if (agreed.clientNoContextTakeover) appendParam(response, kClientNoContextTakeover);
    if (sayServerBits) appendParam(response, kServerMaxWindowBits, agreed.serverMaxWindowBits);
    if (sayClientBits) appendParam(response, kClientMaxWindowBits, agreed.clientMaxWindowBits);
    result.accepted = true;
    return result;
  }
  if (index == 0) addNote(result.note, "no permessage-deflate offer");
  return result;
}

std::string DeflateOffer::headerValue() const {
  std::string value(kPerMessageDeflate);
  if (serverNoContextTakeover) appendParam(value, kServerNoContextTakeover);
  if (clientNoContextTakeover) appendParam(value, kClientNoContextTakeover);
  if (serverMaxWindowBits != 0) appendParam(value, kServerMaxWindowBits, serverMaxWindowBits);
  if (clientMaxWindowBits != 0) {
    appendParam(value, kClientMaxWindowBits, clientMaxWindowBits < 15 ? clientMaxWindowBits : 0);
  }
  return value;
}

DeflateOffer makeDeflateOffer(const PerMessageDeflateConfig& config) {
  DeflateOffer offer;
  offer.serverNoContextTakeover = config.serverNoContextTakeover;
  offer.clientNoContextTakeover = config.clientNoContextTakeover;
  offer.serverMaxWindowBits = config.serverMaxWindowBits < 15 ? config.serverMaxWindowBits : 0;
  // Always offered: zlib can honour any limit the server asks for.
  offer.clientMaxWindowBits = config.clientMaxWindowBits;
  return offer;
}

bool validateDeflateResponse(std::span<const std::string_view> lines, const DeflateOffer& offer,
                             DeflateResponse& out, std::string& error) {
  out = {};
  std::vector<ExtensionElement> elements;
  if (!parseExtensionHeader(lines, elements, error)) return false;
  const ExtensionElement* accepted = nullptr;
  for (const ExtensionElement& element : elements) {
    // RFC 6455 4.1: the server may only answer with extensions the client offered, and we
    // offer permessage-deflate alone.
    if (!sameName(element.name, kPerMessageDeflate)) {
      error = "server accepted extension " + element.name + ", which was not offered";
      return false;
    }
    if (accepted != nullptr) {
      error = "server accepted permessage-deflate twice";
      return false;
    }
    accepted = &element;
  }
  if (accepted == nullptr) return true;  // declined: no compression, not an error

  ElementParams got;
  std::string why;
  if (!readParams(*accepted, Side::Response, got, why)) {
    error = "permessage-deflate response: " + why;
    return false;
  }
  // RFC 7692 7.1.1.1: a server accepts server_no_context_takeover by repeating it.
  if (offer.serverNoContextTakeover && !got.serverNoContextTakeover) {
    error = "permessage-deflate response dropped server_no_context_takeover";
    return false;
  }
  // RFC 7692 7.1.2.1: an offered limit must come back, the same or smaller.
  if (offer.serverMaxWindowBits != 0 &&
      (got.serverMaxWindowBits == 0 || got.serverMaxWindowBits > offer.serverMaxWindowBits)) {
    error = "permessage-deflate response: server_max_window_bits missing or above " +
            std::to_string(offer.serverMaxWindowBits);
    return false;
  }
  // RFC 7692 7.1.2.2: only if offered, and not above a value we gave.
  if (got.clientMaxWindowBitsPresent) {
    if (offer.clientMaxWindowBits == 0) {
      error = "permessage-deflate response has client_max_window_bits, which was not offered";
      return false;
    }
    if (got.clientMaxWindowBits > offer.clientMaxWindowBits) {
      error = "permessage-deflate response: client_max_window_bits above " +
              std::to_string(offer.clientMaxWindowBits);
      return false;
    }
  }

  out.enabled = true;
  DeflateParams& params = out.params;
  params.serverNoContextTakeover = got.serverNoContextTakeover;
  // What we offered to restrict ourselves to, we keep to even if the server did not ask.
  params.clientNoContextTakeover = got.clientNoContextTakeover || offer.clientNoContextTakeover;
  params.serverMaxWindowBits = got.serverMaxWindowBits != 0 ? got.serverMaxWindowBits : 15;
  params.clientMaxWindowBits = got.clientMaxWindowBitsPresent   ? got.clientMaxWindowBits
                               : offer.clientMaxWindowBits != 0 ? offer.clientMaxWindowBits
                                                                : 15;
  return true;
}

bool validateDeflateResponse(std::string_view line, const DeflateOffer& offer, DeflateResponse& out,
                             std::string& error) {
  return validateDeflateResponse(std::span<const std::string_view>(&line, 1), offer, out, error);
}

}  // namespace duplex::protocol
