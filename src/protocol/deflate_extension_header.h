#pragma once
// Sec-WebSocket-Extensions values, RFC 6455 section 9.1, parsed into a list of extensions with
// their parameters. permessage-deflate negotiation (permessage_deflate.h) is built on it, on
// both sides: a server reads the client's offers, a client reads the server's answer.
//
//   Sec-WebSocket-Extensions = 1#extension
//   extension       = extension-token *( ";" extension-param )
//   extension-param = token [ "=" (token | quoted-string) ]
//
// with optional whitespace around ',' ';' and '='. A quoted value, once unescaped, must itself
// be a token (RFC 6455 9.1). The header may appear on several lines; their lists concatenate
// in order (RFC 9110 5.3), and empty list elements ("a, , b") are skipped (RFC 9110 5.6.1).
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::protocol {

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  // unquoted; nullopt when the parameter has no "=value"
};

// One element of the list: an extension name and its parameters, in the order they came.
// For a client's header each element is an offer; for a server's, an accepted extension.
struct ExtensionElement {
  std::string name;
  std::vector<ExtensionParam> params;
};

// Appends the elements of every line, in order, to `out`. Returns false and says what was wrong
// in `error` when a line does not follow the grammar above; `out` is then unspecified.
bool parseExtensionHeader(std::span<const std::string_view> lines,
                          std::vector<ExtensionElement>& out, std::string& error);

// True when `s` is a non-empty HTTP token (RFC 9110 5.6.2).
bool isHttpToken(std::string_view s);

}  // namespace duplex::protocol
