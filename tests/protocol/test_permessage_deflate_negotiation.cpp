// permessage-deflate negotiation, RFC 7692 7.1: the Sec-WebSocket-Extensions parser, the
// server's choice among offers, and the client's check of the server's answer.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "protocol/deflate_extension_header.h"
#include "protocol/permessage_deflate.h"

namespace duplex::protocol {
namespace {

// ---- Header parsing ---------------------------------------------------------------------------

std::vector<ExtensionElement> parseOk(std::vector<std::string_view> lines) {
  std::vector<ExtensionElement> out;
  std::string error;
  EXPECT_TRUE(parseExtensionHeader(lines, out, error)) << error;
  return out;
}

bool parses(std::string_view line) {
  std::vector<ExtensionElement> out;
  std::string error;
  std::vector<std::string_view> lines{line};
  return parseExtensionHeader(lines, out, error);
}

TEST(ExtensionHeader, SeveralOffersParametersAndLines) {
  auto got =
      parseOk({"permessage-deflate; client_max_window_bits, foo ;bar=1",
               " x-webkit-deflate-frame ,permessage-deflate;server_max_window_bits = \"10\""});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].name, "permessage-deflate");
  ASSERT_EQ(got[0].params.size(), 1u);
  EXPECT_EQ(got[0].params[0].name, "client_max_window_bits");
  EXPECT_FALSE(got[0].params[0].value.has_value());
  EXPECT_EQ(got[1].name, "foo");
  EXPECT_EQ(got[1].params[0].value, "1");
  EXPECT_EQ(got[2].name, "x-webkit-deflate-frame");
  EXPECT_TRUE(got[2].params.empty());
  EXPECT_EQ(got[3].params[0].name, "server_max_window_bits");
  EXPECT_EQ(got[3].params[0].value, "10");  // unquoted
}

TEST(ExtensionHeader, QuotedValuesAreUnescaped) {
  auto got = parseOk({R"(a; b="1\0")"});
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].params[0].value, "10");
}

TEST(ExtensionHeader, EmptyListElementsAndEmptyLinesAreSkipped) {
  auto got = parseOk({", a ,, b,", "", "  "});
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].name, "a");
  EXPECT_EQ(got[1].name, "b");
}

TEST(ExtensionHeader, RejectsWhatTheGrammarDoesNot) {
  EXPECT_FALSE(parses("a;"));            // parameter name missing
  EXPECT_FALSE(parses("a; b="));         // value missing
  EXPECT_FALSE(parses("a; b=\"10"));     // unterminated quote
  EXPECT_FALSE(parses("a; b=\"1 0\""));  // quoted value is not a token (RFC 6455 9.1)
  EXPECT_FALSE(parses("a b"));           // two tokens without a separator
  EXPECT_FALSE(parses("a; b=c d"));
  EXPECT_FALSE(parses("\"a\""));     // the extension name cannot be quoted
  EXPECT_FALSE(parses("a; b=(c)"));  // '(' is not a token character
  EXPECT_TRUE(parses("a ; b = c ; d"));
}

// ---- Server: which offer is accepted, and the response --------------------------------------

PerMessageDeflateConfig rfcDefaults() {
  PerMessageDeflateConfig config;  // context takeover allowed, full windows: the RFC's defaults
  config.serverNoContextTakeover = false;
  config.clientNoContextTakeover = false;
  return config;
}

struct ServerCase {
  const char* name;
  std::vector<std::string_view> lines;
  PerMessageDeflateConfig config;
  bool accepted;
  std::string response;  // expected when accepted
  DeflateParams params;  // expected when accepted
};

DeflateParams agreed(uint8_t serverBits, uint8_t clientBits, bool serverNoContext,
                     bool clientNoContext) {
  return DeflateParams{serverBits, clientBits, serverNoContext, clientNoContext};
}

PerMessageDeflateConfig with(void (*edit)(PerMessageDeflateConfig&)) {
  PerMessageDeflateConfig config = rfcDefaults();
  edit(config);
  return config;
}

const PerMessageDeflateConfig kDefaults = rfcDefaults();
const PerMessageDeflateConfig kSmallWindows =
    with([](PerMessageDeflateConfig& c) { c.serverMaxWindowBits = c.clientMaxWindowBits = 10; });
const PerMessageDeflateConfig kNoTakeover = with([](PerMessageDeflateConfig& c) {
  c.serverNoContextTakeover = c.clientNoContextTakeover = true;
});
const PerMessageDeflateConfig kDisabled =
    with([](PerMessageDeflateConfig& c) { c.enabled = false; });
const PerMessageDeflateConfig kBadConfig =
    with([](PerMessageDeflateConfig& c) { c.serverMaxWindowBits = 16; });

const std::vector<ServerCase> kServerCases = {
    {"plain offer",
     {"permessage-deflate"},
     kDefaults,
     true,
     "permessage-deflate",
     agreed(15, 15, false, false)},
    {"no header at all", {}, kDefaults, false, "", {}},
    {"other extensions only", {"x-webkit-deflate-frame, foo"}, kDefaults, false, "", {}},
    {"name in another case",
     {"PerMessage-Deflate"},
     kDefaults,
     true,
     "permessage-deflate",
     agreed(15, 15, false, false)},
    {"server_no_context_takeover is honoured",
     {"permessage-deflate; server_no_context_takeover"},
     kDefaults,
     true,
     "permessage-deflate; server_no_context_takeover",
     agreed(15, 15, true, false)},
    {"server_no_context_takeover with a value is declined",
     {"permessage-deflate; server_no_context_takeover=1"},
     kDefaults,
     false,
     "",
     {}},
    {"client_no_context_takeover is confirmed",
     {"permessage-deflate; client_no_context_takeover"},
     kDefaults,
     true,
     "permessage-deflate; client_no_context_takeover",
     agreed(15, 15, false, true)},
    {"client_no_context_takeover with a value is declined",
     {"permessage-deflate; client_no_context_takeover=true"},
     kDefaults,
     false,
     "",
     {}},
    {"server_max_window_bits=10 is honoured",
     {"permessage-deflate; server_max_window_bits=10"},
     kDefaults,
     true,
     "permessage-deflate; server_max_window_bits=10",
     agreed(10, 15, false, false)},
    {"server_max_window_bits quoted",
     {"permessage-deflate; server_max_window_bits=\"12\""},
     kDefaults,
     true,
     "permessage-deflate; server_max_window_bits=12",
     agreed(12, 15, false, false)},
    {"server_max_window_bits=8 is accepted (zlib's 9-bit window reaches back 250 bytes)",
     {"permessage-deflate; server_max_window_bits=8"},
     kDefaults,
     true,
     "permessage-deflate; server_max_window_bits=8",
     agreed(8, 15, false, false)},
    {"server_max_window_bits=7 is declined",
     {"permessage-deflate; server_max_window_bits=7"},
     kDefaults,
     false,
     "",
     {}},
    {"server_max_window_bits=16 is declined",
     {"permessage-deflate; server_max_window_bits=16"},
     kDefaults,
     false,
     "",
     {}},
    {"server_max_window_bits=abc is declined",
     {"permessage-deflate; server_max_window_bits=abc"},
     kDefaults,
     false,
     "",
     {}},
    {"server_max_window_bits=010 (leading zero) is declined",
     {"permessage-deflate; server_max_window_bits=010"},
     kDefaults,
     false,
     "",
     {}},
    {"server_max_window_bits without a value is declined",
     {"permessage-deflate; server_max_window_bits"},
     kDefaults,
     false,
     "",
     {}},
    {"bare client_max_window_bits with full windows: nothing to say",
     {"permessage-deflate; client_max_window_bits"},
     kDefaults,
     true,
     "permessage-deflate",
     agreed(15, 15, false, false)},
    {"bare client_max_window_bits lets our config limit the client",
     {"permessage-deflate; client_max_window_bits"},
     kSmallWindows,
     true,
     "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
     agreed(10, 10, false, false)},
    {"client_max_window_bits=12 is repeated",
     {"permessage-deflate; client_max_window_bits=12"},
     kDefaults,
     true,
     "permessage-deflate; client_max_window_bits=12",
     agreed(15, 12, false, false)},
    {"client_max_window_bits=12 with config 10: the smaller",
     {"permessage-deflate; client_max_window_bits=12"},
     kSmallWindows,
     true,
     "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10",
     agreed(10, 10, false, false)},
    {"client_max_window_bits=9 with config 10: the smaller",
     {"permessage-deflate; client_max_window_bits=9; server_max_window_bits=14"},
     kSmallWindows,
     true,
     "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
     agreed(10, 9, false, false)},
    {"client_max_window_bits=0 is declined",
     {"permessage-deflate; client_max_window_bits=0"},
     kDefaults,
     false,
     "",
     {}},
    {"client_max_window_bits=20 is declined",
     {"permessage-deflate; client_max_window_bits=20"},
     kDefaults,
     false,
     "",
     {}},
    {"client without client_max_window_bits cannot be limited",
     {"permessage-deflate"},
     kSmallWindows,
     true,
     "permessage-deflate; server_max_window_bits=10",
     agreed(10, 15, false, false)},
    {"unknown parameter is declined", {"permessage-deflate; foo"}, kDefaults, false, "", {}},
    {"duplicate parameter is declined",
     {"permessage-deflate; server_no_context_takeover; server_no_context_takeover"},
     kDefaults,
     false,
     "",
     {}},
    {"duplicate window parameter is declined",
     {"permessage-deflate; client_max_window_bits; client_max_window_bits=10"},
     kDefaults,
     false,
     "",
     {}},
    {"first offer unacceptable, second accepted",
     {"permessage-deflate; server_max_window_bits=7, permessage-deflate; client_max_window_bits"},
     kDefaults,
     true,
     "permessage-deflate",
     agreed(15, 15, false, false)},
    {"first acceptable offer wins over later ones",
     {"permessage-deflate; server_max_window_bits=11, permessage-deflate"},
     kDefaults,
     true,
     "permessage-deflate; server_max_window_bits=11",
     agreed(11, 15, false, false)},
    {"offers spread over several header lines",
     {"foo, permessage-deflate; bogus", "permessage-deflate; client_no_context_takeover"},
     kDefaults,
     true,
     "permessage-deflate; client_no_context_takeover",
     agreed(15, 15, false, true)},
    {"malformed header declines everything",
     {"permessage-deflate; server_max_window_bits=\"10", "permessage-deflate"},
     kDefaults,
     false,
     "",
     {}},
    {"config forbids context takeover both ways",
     {"permessage-deflate; client_max_window_bits"},
     kNoTakeover,
     true,
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
     agreed(15, 15, true, true)},
    {"disabled config declines", {"permessage-deflate"}, kDisabled, false, "", {}},
    {"invalid config declines rather than answer garbage",
     {"permessage-deflate"},
     kBadConfig,
     false,
     "",
     {}},
};

TEST(PerMessageDeflateServer, CaseTable) {
  ASSERT_GE(kServerCases.size(), 25u);
  for (const ServerCase& c : kServerCases) {
    SCOPED_TRACE(c.name);
    DeflateAcceptance got = acceptDeflateOffer(c.lines, c.config);
    ASSERT_EQ(got.accepted, c.accepted) << got.note;
    if (!c.accepted) continue;
    EXPECT_EQ(got.response, c.response);
    EXPECT_EQ(got.params, c.params);
  }
}

TEST(PerMessageDeflateServer, DeclineSaysWhy) {
  std::vector<std::string_view> lines{"permessage-deflate; server_max_window_bits=16"};
  DeflateAcceptance got = acceptDeflateOffer(lines, kDefaults);
  EXPECT_FALSE(got.accepted);
  EXPECT_NE(got.note.find("server_max_window_bits=16"), std::string::npos) << got.note;
}

TEST(PerMessageDeflateServer, EveryResponseIsAcceptedByOurClient) {
  // Whatever the server answers, a client that made the same offer must find it valid.
  for (const ServerCase& c : kServerCases) {
    if (!c.accepted) continue;
    SCOPED_TRACE(c.name);
    DeflateAcceptance accepted = acceptDeflateOffer(c.lines, c.config);
    ASSERT_TRUE(accepted.accepted);
    std::string error;
    // Our own client's default offer (bare client_max_window_bits), which allows all of these.
    PerMessageDeflateConfig clientConfig;
    clientConfig.serverNoContextTakeover = false;
    clientConfig.clientNoContextTakeover = false;
    DeflateResponse response;
    ASSERT_TRUE(
        validateDeflateResponse(accepted.response, makeDeflateOffer(clientConfig), response, error))
        << error;
    EXPECT_TRUE(response.enabled);
    EXPECT_EQ(response.params.serverMaxWindowBits, accepted.params.serverMaxWindowBits);
  }
}

// ---- Client: the offer and the check of the answer ------------------------------------------

TEST(PerMessageDeflateClient, OfferFromConfig) {
  PerMessageDeflateConfig config = rfcDefaults();
  EXPECT_EQ(makeDeflateOffer(config).headerValue(), "permessage-deflate; client_max_window_bits");

  config.serverNoContextTakeover = config.clientNoContextTakeover = true;
  config.serverMaxWindowBits = 10;
  config.clientMaxWindowBits = 9;
  EXPECT_EQ(makeDeflateOffer(config).headerValue(),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=9");
}

TEST(PerMessageDeflateClient, OurOfferIsAcceptedByOurServer) {
  PerMessageDeflateConfig config;
  config.serverMaxWindowBits = 11;
  config.clientMaxWindowBits = 12;
  std::string offer = makeDeflateOffer(config).headerValue();
  std::vector<std::string_view> lines{offer};
  DeflateAcceptance got = acceptDeflateOffer(lines, rfcDefaults());
  ASSERT_TRUE(got.accepted) << got.note;
  EXPECT_EQ(got.params, agreed(11, 12, true, true));
}

struct ClientCase {
  const char* name;
  DeflateOffer offer;
  std::vector<std::string_view> response;
  bool valid;
  bool enabled;
  DeflateParams params;  // expected when valid and enabled
};

// Offers: bare client_max_window_bits; everything; nothing but the name.
const DeflateOffer kBareOffer{false, false, 0, 15};
const DeflateOffer kFullOffer{true, true, 10, 12};
const DeflateOffer kMinimalOffer{false, false, 0, 0};

const std::vector<ClientCase> kClientCases = {
    {"declined: no header", kBareOffer, {}, true, false, {}},
    {"declined: empty header", kBareOffer, {""}, true, false, {}},
    {"plain acceptance",
     kBareOffer,
     {"permessage-deflate"},
     true,
     true,
     agreed(15, 15, false, false)},
    {"server limits our window",
     kBareOffer,
     {"permessage-deflate; client_max_window_bits=9"},
     true,
     true,
     agreed(15, 9, false, false)},
    {"server announces its window and takeover",
     kBareOffer,
     {"permessage-deflate; server_max_window_bits=8; server_no_context_takeover"},
     true,
     true,
     agreed(8, 15, true, false)},
    {"server forbids our context takeover",
     kMinimalOffer,
     {"permessage-deflate; client_no_context_takeover"},
     true,
     true,
     agreed(15, 15, false, true)},
    {"full offer answered in full",
     kFullOffer,
     {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=9; client_max_window_bits=11"},
     true,
     true,
     agreed(9, 11, true, true)},
    {"full offer: omitted client limit keeps ours; we keep our takeover promise",
     kFullOffer,
     {"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
     true,
     true,
     agreed(10, 12, true, true)},
    {"bare client_max_window_bits in a response",
     kBareOffer,
     {"permessage-deflate; client_max_window_bits"},
     false,
     false,
     {}},
    {"client_max_window_bits we did not offer",
     kMinimalOffer,
     {"permessage-deflate; client_max_window_bits=10"},
     false,
     false,
     {}},
    {"client_max_window_bits above our offer",
     kFullOffer,
     {"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; "
      "client_max_window_bits=13"},
     false,
     false,
     {}},
    {"server_max_window_bits above our offer",
     kFullOffer,
     {"permessage-deflate; server_no_context_takeover; server_max_window_bits=11"},
     false,
     false,
     {}},
    {"server_max_window_bits missing though offered",
     kFullOffer,
     {"permessage-deflate; server_no_context_takeover"},
     false,
     false,
     {}},
    {"server_no_context_takeover dropped",
     kFullOffer,
     {"permessage-deflate; server_max_window_bits=10"},
     false,
     false,
     {}},
    {"invalid window value",
     kBareOffer,
     {"permessage-deflate; server_max_window_bits=16"},
     false,
     false,
     {}},
    {"duplicate parameter",
     kBareOffer,
     {"permessage-deflate; client_no_context_takeover; client_no_context_takeover"},
     false,
     false,
     {}},
    {"unknown parameter", kBareOffer, {"permessage-deflate; foo=1"}, false, false, {}},
    {"two permessage-deflate elements",
     kBareOffer,
     {"permessage-deflate", "permessage-deflate"},
     false,
     false,
     {}},
    {"an extension we never offered", kBareOffer, {"x-webkit-deflate-frame"}, false, false, {}},
    {"malformed header", kBareOffer, {"permessage-deflate;"}, false, false, {}},
};

TEST(PerMessageDeflateClient, ResponseCaseTable) {
  for (const ClientCase& c : kClientCases) {
    SCOPED_TRACE(c.name);
    DeflateResponse got;
    std::string error;
    bool valid = validateDeflateResponse(c.response, c.offer, got, error);
    ASSERT_EQ(valid, c.valid) << error;
    if (!valid) {
      EXPECT_FALSE(error.empty());
      continue;
    }
    EXPECT_EQ(got.enabled, c.enabled);
    if (c.enabled) {
      EXPECT_EQ(got.params, c.params);
    }
  }
}

TEST(PerMessageDeflateClient, ErrorsSayWhatWasWrong) {
  DeflateResponse got;
  std::string error;
  EXPECT_FALSE(validateDeflateResponse("permessage-deflate; client_max_window_bits", kBareOffer,
                                       got, error));
  EXPECT_NE(error.find("needs a value"), std::string::npos) << error;
  EXPECT_FALSE(validateDeflateResponse("permessage-deflate; server_max_window_bits=99", kBareOffer,
                                       got, error));
  EXPECT_NE(error.find("server_max_window_bits=99"), std::string::npos) << error;
}

TEST(PerMessageDeflateConfig, Validation) {
  std::string error;
  EXPECT_TRUE(validateDeflateConfig(PerMessageDeflateConfig{}, error));
  PerMessageDeflateConfig config;
  config.clientMaxWindowBits = 7;
  EXPECT_FALSE(validateDeflateConfig(config, error));
  config = {};
  config.memLevel = 0;
  EXPECT_FALSE(validateDeflateConfig(config, error));
  config = {};
  config.level = 10;
  EXPECT_FALSE(validateDeflateConfig(config, error));
}

}  // namespace
}  // namespace duplex::protocol
