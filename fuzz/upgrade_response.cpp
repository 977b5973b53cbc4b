// Fuzz target: the client's side of the opening handshake, the server's answer on arbitrary
// bytes, the way the client runs it (findHeadEnd, parseUpgradeResponse, then the
// permessage-deflate answer). The key and the offered protocols are fixed: the key is the
// RFC 6455 1.3 example, so that seeds and the dictionary can carry its accept value
// (s3pPLMBiTxaQ9kYGzzhZRbK+xOo=) and the fuzzer gets past the accept check.
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "protocol/handshake.h"
#include "protocol/http.h"
#include "protocol/permessage_deflate.h"

namespace {

using namespace duplex::protocol;
using duplex::fuzz::within;

constexpr std::string_view kKey = "dGhlIHNhbXBsZSBub25jZQ==";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t end = findHeadEnd(input);
  if (end == 0) return 0;  // the client waits for more (upgrade_request checks findHeadEnd)
  const std::string_view head = input.substr(0, end);

  const std::vector<std::string_view> offered = {"chat", "superchat"};
  UpgradeResponse response;
  std::string error;
  const bool ok = parseUpgradeResponse(head, kKey, offered, response, error);

  HttpResponse plain;
  std::string plainError;
  const bool plainOk = parseResponse(head, plain, plainError);
  FUZZ_CHECK(plainOk || !ok);  // the upgrade checks only add to the HTTP ones
  if (plainOk) {
    FUZZ_CHECK(plain.status >= 0 && plain.status <= 999);
    FUZZ_CHECK(within(plain.reason, head));
    for (const Header& h : plain.headers) {
      FUZZ_CHECK(within(h.name, head) && within(h.value, head) && isToken(h.name));
    }
  }
  if (!ok) {
    // The message ends up in the client's error callback and the log; it must say something.
    FUZZ_CHECK(!error.empty());
    return 0;
  }

  FUZZ_CHECK(response.status == 101 && plain.status == 101);
  FUZZ_CHECK(response.headers.size() == plain.headers.size());
  FUZZ_CHECK(response.protocol.empty() || response.protocol == "chat" ||
             response.protocol == "superchat");
  FUZZ_CHECK(within(response.protocol, head) && within(response.extensions, head));
  FUZZ_CHECK(plain.header("Sec-WebSocket-Accept") == computeAccept(kKey));

  // What a client with compression on does next with the answer.
  for (bool serverNoTakeover : {false, true}) {
    PerMessageDeflateConfig config;
    config.serverNoContextTakeover = serverNoTakeover;
    config.serverMaxWindowBits = serverNoTakeover ? 10 : 15;
    const DeflateOffer offer = makeDeflateOffer(config);
    DeflateResponse agreed;
    if (!validateDeflateResponse(response.extensions, offer, agreed, error)) {
      FUZZ_CHECK(!error.empty());
      continue;
    }
    if (!agreed.enabled) {
      FUZZ_CHECK(response.extensions.find_first_not_of(" \t,") == std::string_view::npos);
      continue;
    }
    const DeflateParams& p = agreed.params;
    FUZZ_CHECK(p.serverMaxWindowBits >= 8 && p.serverMaxWindowBits <= 15);
    FUZZ_CHECK(p.clientMaxWindowBits >= 8 && p.clientMaxWindowBits <= config.clientMaxWindowBits);
    FUZZ_CHECK(!serverNoTakeover || (p.serverNoContextTakeover && p.serverMaxWindowBits <= 10));
    FUZZ_CHECK(p.clientNoContextTakeover);  // the default config offered it
  }
  return 0;
}
