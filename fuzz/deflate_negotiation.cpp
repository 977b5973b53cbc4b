// Fuzz target: permessage-deflate negotiation (RFC 7692 7.1) on arbitrary
// Sec-WebSocket-Extensions lines, on both sides. The input is
//
//   [flags] [window bits] [header lines, separated by '\n']
//
// flags bit 0: side. 0: the lines are a client's offers, read by acceptDeflateOffer (server);
//              1: they are a server's answer, read by validateDeflateResponse (client);
//       bit 1: config.serverNoContextTakeover, bit 2: config.clientNoContextTakeover;
//       bit 3: config.enabled = false (the server must then accept nothing);
// window bits: serverMaxWindowBits = 8 + (b & 7), clientMaxWindowBits = 8 + ((b >> 4) & 7).
//
// Whatever is agreed must be within the config and the offer, the server's answer must pass
// our own client's check with the same parameters, and a Deflater/Inflater pair built from the
// agreed parameters (as PerMessageDeflate builds them, one per role) must carry messages both
// ways intact: a window or takeover setting the two ends read differently shows up as
// corruption there.
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "protocol/deflate_extension_header.h"
#include "protocol/deflate_session.h"
#include "protocol/permessage_deflate.h"

namespace {

using namespace duplex::protocol;
using duplex::fuzz::Input;

bool windowOk(uint8_t bits) {
  return bits >= 8 && bits <= 15;
}

// Sends two messages each way between a server and a client that agreed on `params`. The
// second repeats the first, so with context takeover it refers back into the first.
void checkTraffic(const DeflateParams& params, const PerMessageDeflateConfig& config) {
  PerMessageDeflate server(params, Role::Server, config);
  PerMessageDeflate client(params, Role::Client, config);
  std::string message;
  for (int i = 0; message.size() < 700; ++i) {
    message +=
        "{\"type\":\"throw\",\"item\":\"tomato\",\"x\":" + std::to_string(i * 37 % 101) + "}";
  }
  for (int round = 0; round < 2; ++round) {
    for (bool fromServer : {true, false}) {
      PerMessageDeflate& sender = fromServer ? server : client;
      PerMessageDeflate& receiver = fromServer ? client : server;
      std::string wire, out;
      if (!sender.compress(message, wire)) continue;  // sent as is
      const InflateStatus status = receiver.inflate(wire, out, message.size());
      FUZZ_CHECK(status == InflateStatus::Ok);
      FUZZ_CHECK(out == message);
    }
  }
}

void checkParams(const DeflateParams& p) {
  FUZZ_CHECK(windowOk(p.serverMaxWindowBits) && windowOk(p.clientMaxWindowBits));
}

void serverSide(std::span<const std::string_view> lines, const PerMessageDeflateConfig& config) {
  const DeflateAcceptance acceptance = acceptDeflateOffer(lines, config);
  if (!config.enabled) FUZZ_CHECK(!acceptance.accepted);
  if (!acceptance.accepted) {
    FUZZ_CHECK(acceptance.response.empty() || !config.enabled);
    return;
  }
  const DeflateParams& p = acceptance.params;
  checkParams(p);
  // Within what the config allows; the takeover restrictions it asks for are in force.
  FUZZ_CHECK(p.serverMaxWindowBits <= config.serverMaxWindowBits);
  FUZZ_CHECK(!config.serverNoContextTakeover || p.serverNoContextTakeover);
  FUZZ_CHECK(!config.clientNoContextTakeover || p.clientNoContextTakeover);

  // The answer is one permessage-deflate element that our client, having offered the most
  // it could (client_max_window_bits, bare), reads as the same parameters.
  std::vector<ExtensionElement> elements;
  std::string error;
  const std::string_view response = acceptance.response;
  FUZZ_CHECK(parseExtensionHeader(std::span(&response, 1), elements, error));
  FUZZ_CHECK(elements.size() == 1 && elements[0].name == kPerMessageDeflate);
  DeflateOffer offer;
  offer.clientMaxWindowBits = 15;
  DeflateResponse agreed;
  FUZZ_CHECK(validateDeflateResponse(response, offer, agreed, error));
  FUZZ_CHECK(agreed.enabled && agreed.params == p);
  checkTraffic(p, config);
}

void clientSide(std::span<const std::string_view> lines, const PerMessageDeflateConfig& config) {
  const DeflateOffer offer = makeDeflateOffer(config);
  DeflateResponse agreed;
  std::string error;
  if (!validateDeflateResponse(lines, offer, agreed, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  if (!agreed.enabled) return;
  const DeflateParams& p = agreed.params;
  checkParams(p);
  // Nothing looser than what was offered (RFC 7692 7.1.1.1, 7.1.2.1, 7.1.2.2).
  FUZZ_CHECK(!offer.serverNoContextTakeover || p.serverNoContextTakeover);
  FUZZ_CHECK(!offer.clientNoContextTakeover || p.clientNoContextTakeover);
  FUZZ_CHECK(offer.serverMaxWindowBits == 0 || p.serverMaxWindowBits <= offer.serverMaxWindowBits);
  FUZZ_CHECK(p.clientMaxWindowBits <= config.clientMaxWindowBits);
  checkTraffic(p, config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t flags = in.byte();
  const uint8_t bits = in.byte();
  const std::string_view text = in.rest();

  std::vector<std::string_view> lines;
  for (size_t start = 0;;) {
    const size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl == std::string_view::npos ? nl : nl - start));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }

  PerMessageDeflateConfig config;
  config.serverNoContextTakeover = (flags & 2) != 0;
  config.clientNoContextTakeover = (flags & 4) != 0;
  config.enabled = (flags & 8) == 0;
  config.serverMaxWindowBits = static_cast<uint8_t>(8 + (bits & 7));
  config.clientMaxWindowBits = static_cast<uint8_t>(8 + ((bits >> 4) & 7));
  std::string error;
  FUZZ_CHECK(validateDeflateConfig(config, error));

  // Our own offer, for this config, must be accepted by our own server, and its answer
  // accepted by our own client.
  const DeflateOffer ownOffer = makeDeflateOffer(config);
  const std::string ownValue = ownOffer.headerValue();
  const std::string_view ownLine = ownValue;
  PerMessageDeflateConfig serverConfig = config;
  serverConfig.enabled = true;
  const DeflateAcceptance own = acceptDeflateOffer(std::span(&ownLine, 1), serverConfig);
  FUZZ_CHECK(own.accepted);
  DeflateResponse ownAgreed;
  FUZZ_CHECK(validateDeflateResponse(own.response, ownOffer, ownAgreed, error));
  FUZZ_CHECK(ownAgreed.enabled && ownAgreed.params == own.params);

  if (flags & 1) {
    clientSide(lines, config);
  } else {
    serverSide(lines, config);
  }
  return 0;
}
