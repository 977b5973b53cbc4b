// Fuzz target: the server's side of the opening handshake on arbitrary bytes, the way
// ServerConnection runs it (findHeadEnd, parseRequest, validateUpgrade, acceptDeflateOffer).
// Beyond "no crash", what the server would answer must be something our own client parses
// back: a refusal is a well-formed response with the status chosen, and a 101 passes
// parseUpgradeResponse with the protocol and compression parameters the server agreed to.
// And a request rebuilt with writeClientRequest from what was understood validates the same.
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "protocol/handshake.h"
#include "protocol/http.h"
#include "protocol/permessage_deflate.h"

namespace {

using namespace duplex::protocol;
using duplex::fuzz::within;

bool isOws(char c) {
  return c == ' ' || c == '\t';
}

void checkHeaders(const std::vector<Header>& headers, std::string_view head) {
  for (const Header& h : headers) {
    FUZZ_CHECK(within(h.name, head) && within(h.value, head));
    FUZZ_CHECK(isToken(h.name));
    // RFC 9110 5.5: no CR, LF or NUL reaches whoever reads a value, and no surrounding OWS.
    FUZZ_CHECK(h.value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos);
    FUZZ_CHECK(h.value.empty() || (!isOws(h.value.front()) && !isOws(h.value.back())));
  }
}

// A refusal goes out as writeErrorResponse(error): it must be a response with that status.
void checkRefusal(const HttpError& error) {
  FUZZ_CHECK(!error.message.empty());
  const std::string wire = writeErrorResponse(error);
  const size_t end = findHeadEnd(wire);
  FUZZ_CHECK(end > 0);
  HttpResponse response;
  std::string why;
  FUZZ_CHECK(parseResponse(std::string_view(wire).substr(0, end), response, why));
  FUZZ_CHECK(response.status == error.status);
  FUZZ_CHECK(response.header("Content-Length") == std::to_string(wire.size() - end));
}

bool sameAcceptance(const DeflateAcceptance& a, const DeflateAcceptance& b) {
  return a.accepted == b.accepted &&
         (!a.accepted || (a.response == b.response && a.params == b.params));
}

void checkUpgrade(const HttpRequest& request, const UpgradeRequest& upgrade,
                  std::string_view head) {
  FUZZ_CHECK(within(upgrade.key, head) && upgrade.key.size() == 24);
  FUZZ_CHECK(within(upgrade.origin, head));
  for (std::string_view p : upgrade.protocols) FUZZ_CHECK(within(p, head) && isToken(p));
  for (std::string_view e : upgrade.extensions) FUZZ_CHECK(within(e, head));

  // The 101, as the server writes it, read by our client.
  const PerMessageDeflateConfig config;
  const DeflateAcceptance deflate = acceptDeflateOffer(upgrade.extensions, config);
  const std::string_view protocol = upgrade.protocols.empty() ? "" : upgrade.protocols.front();
  const std::string answer =
      writeUpgradeResponse(upgrade.key, protocol, deflate.accepted ? deflate.response : "");
  FUZZ_CHECK(findHeadEnd(answer) == answer.size());
  UpgradeResponse parsed;
  std::string why;
  FUZZ_CHECK(parseUpgradeResponse(answer, upgrade.key, upgrade.protocols, parsed, why));
  FUZZ_CHECK(parsed.status == 101 && parsed.protocol == protocol);
  if (deflate.accepted) {
    // The client offered what the server accepted; the most permissive offer stands for it
    // (client_max_window_bits offered bare, nothing else asked). Both sides must then agree.
    DeflateOffer offer;
    offer.clientMaxWindowBits = 15;
    DeflateResponse agreed;
    FUZZ_CHECK(validateDeflateResponse(parsed.extensions, offer, agreed, why));
    FUZZ_CHECK(agreed.enabled && agreed.params == deflate.params);
  } else {
    FUZZ_CHECK(parsed.extensions.empty());
  }

  // The client's writer, fed what the server understood, must produce an equivalent request.
  // Extension lines joined with ", " mean what the separate lines meant (RFC 9110 5.3).
  std::string extensions;
  for (std::string_view e : upgrade.extensions) {
    if (e.empty()) continue;
    if (!extensions.empty()) extensions += ", ";
    extensions += e;
  }
  ClientRequest rebuilt;
  rebuilt.host = request.header("Host");
  rebuilt.path = request.target;
  rebuilt.key = upgrade.key;
  rebuilt.protocols = upgrade.protocols;
  rebuilt.extensions = extensions;
  rebuilt.origin = upgrade.origin;
  const std::string wire = writeClientRequest(rebuilt);
  FUZZ_CHECK(findHeadEnd(wire) == wire.size());
  HttpRequest request2;
  HttpError error2;
  UpgradeRequest upgrade2;
  FUZZ_CHECK(parseRequest(wire, request2, error2));
  FUZZ_CHECK(validateUpgrade(request2, upgrade2, error2));
  FUZZ_CHECK(request2.target == request.target && request2.header("Host") == rebuilt.host);
  FUZZ_CHECK(upgrade2.key == upgrade.key && upgrade2.origin == upgrade.origin);
  FUZZ_CHECK(upgrade2.protocols == upgrade.protocols);
  FUZZ_CHECK(sameAcceptance(acceptDeflateOffer(upgrade2.extensions, config), deflate));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t end = findHeadEnd(input);
  if (end == 0) {
    FUZZ_CHECK(input.find("\r\n\r\n") == std::string_view::npos);
    return 0;
  }
  const std::string_view head = input.substr(0, end);
  FUZZ_CHECK(end <= size && head.ends_with("\r\n\r\n"));
  FUZZ_CHECK(head.find("\r\n\r\n") == end - 4);  // the first empty line ends the head

  HttpRequest request;
  HttpError error;
  if (!parseRequest(head, request, error)) {
    FUZZ_CHECK(error.status == 400 || error.status == 505);
    checkRefusal(error);
    return 0;
  }
  FUZZ_CHECK(within(request.method, head) && isToken(request.method));
  FUZZ_CHECK(within(request.target, head) && request.target.starts_with('/'));
  FUZZ_CHECK(request.target.starts_with(request.path));
  if (request.path.size() < request.target.size()) {
    FUZZ_CHECK(request.target[request.path.size()] == '?');
    FUZZ_CHECK(request.query == request.target.substr(request.path.size() + 1));
  } else {
    FUZZ_CHECK(request.query.empty());
  }
  FUZZ_CHECK(request.versionMinor >= 0 && request.versionMinor <= 9);
  checkHeaders(request.headers, head);

  UpgradeRequest upgrade;
  if (!validateUpgrade(request, upgrade, error)) {
    FUZZ_CHECK(error.status == 400 || error.status == 405 || error.status == 426);
    checkRefusal(error);
    return 0;
  }
  checkUpgrade(request, upgrade, head);
  return 0;
}
