#include "hub/hub_protocol_writer.h"

#include <charconv>

namespace duplex::hub {
namespace {

void openReply(std::string& out, ReplyTo to, std::string_view kind) {
  if (to.isApi()) {
    out += "{\"";
  } else {
    out += "{\"id\":";
    appendJsonNumber(out, to.id());
    out += ",\"";
  }
  out += kind;
  out += "\":{";
}

void appendPosition(std::string& out, StreamPosition position) {
  out += "\"epoch\":";
  appendJsonString(out, position.epoch);
  out += ",\"offset\":";
  appendJsonNumber(out, position.offset);
}

void writePresencePush(std::string& out, std::string_view channel, std::string_view event,
                       std::string_view client, std::string_view user) {
  out += "{\"push\":{\"channel\":";
  appendJsonString(out, channel);
  out += ",\"";
  out += event;
  out += "\":{\"client\":";
  appendJsonString(out, client);
  out += ",\"user\":";
  appendJsonString(out, user);
  out += "}}}";
}

template <class Int>
void appendInteger(std::string& out, Int value) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
}

}  // namespace

void appendJsonString(std::string& out, std::string_view utf8) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < utf8.size(); ++i) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(utf8.data() + run, i - run);
    run = i + 1;
    out += '\\';
    switch (c) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '\b':
        out += 'b';
        break;
      case '\f':
        out += 'f';
        break;
      case '\n':
        out += 'n';
        break;
      case '\r':
        out += 'r';
        break;
      case '\t':
        out += 't';
        break;
      default:
        out += "u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(utf8.data() + run, utf8.size() - run);
  out += '"';
}

void appendJsonNumber(std::string& out, uint64_t value) {
  appendInteger(out, value);
}
void appendJsonNumber(std::string& out, int64_t value) {
  appendInteger(out, value);
}

void writeError(std::string& out, ReplyTo to, ErrorCode code, std::string_view message) {
  openReply(out, to, "error");
  out += "\"code\":\"";
  out += errorCodeName(code);  // plain ASCII: no escaping needed
  out += "\",\"message\":";
  appendJsonString(out, message);
  out += "}}";
}

void writeError(std::string& out, ReplyTo to, const HubError& error) {
  writeError(out, to, error.code, error.message);
}

void writeEmptyResult(std::string& out, ReplyTo to) {
  openReply(out, to, "result");
  out += "}}";
}

void writeConnectResult(std::string& out, ReplyTo to, std::string_view client,
                        std::string_view user, int64_t expires) {
  openReply(out, to, "result");
  out += "\"client\":";
  appendJsonString(out, client);
  out += ",\"user\":";
  appendJsonString(out, user);
  out += ",\"expires\":";
  appendJsonNumber(out, expires);
  out += "}}";
}

void writeSubscribeResult(std::string& out, ReplyTo to, StreamPosition position) {
  openReply(out, to, "result");
  appendPosition(out, position);
  out += "}}";
}

void writeSubscribeUnrecovered(std::string& out, ReplyTo to, StreamPosition position) {
  openReply(out, to, "result");
  appendPosition(out, position);
  out += ",\"recovered\":false}}";
}

void beginSubscribeRecovered(std::string& out, ReplyTo to, StreamPosition position) {
  openReply(out, to, "result");
  appendPosition(out, position);
  out += ",\"recovered\":true,\"publications\":[";
}

void beginSubscribeLast(std::string& out, ReplyTo to, StreamPosition position) {
  // The history result's shape, so a client reads both with one function.
  beginHistoryResult(out, to, position);
}

void beginHistoryResult(std::string& out, ReplyTo to, StreamPosition position) {
  openReply(out, to, "result");
  appendPosition(out, position);
  out += ",\"publications\":[";
}

void appendPublication(std::string& out, uint64_t offset, std::string_view data) {
  // The list opened with '[' and every publication ends with '}'.
  if (out.back() != '[') out += ',';
  out += "{\"offset\":";
  appendJsonNumber(out, offset);
  out += ",\"data\":";
  out += data;
  out += '}';
}

void endPublications(std::string& out) {
  out += "]}}";
}

void writePublishResult(std::string& out, ReplyTo to, StreamPosition position) {
  openReply(out, to, "result");
  out += "\"offset\":";
  appendJsonNumber(out, position.offset);
  out += ",\"epoch\":";
  appendJsonString(out, position.epoch);
  out += "}}";
}

void beginPresenceResult(std::string& out, ReplyTo to) {
  openReply(out, to, "result");
  out += "\"clients\":{";
}

void appendPresenceClient(std::string& out, std::string_view client, std::string_view user) {
  if (out.back() != '{') out += ',';
  appendJsonString(out, client);
  out += ":{\"user\":";
  appendJsonString(out, user);
  out += '}';
}

void endPresenceResult(std::string& out) {
  out += "}}}";
}

void writeDisconnectedResult(std::string& out, ReplyTo to, uint64_t connections) {
  openReply(out, to, "result");
  out += "\"disconnected\":";
  appendJsonNumber(out, connections);
  out += "}}";
}

void writePubPush(std::string& out, std::string_view channel, uint64_t offset,
                  std::string_view data) {
  out += "{\"push\":{\"channel\":";
  appendJsonString(out, channel);
  out += ",\"pub\":{\"offset\":";
  appendJsonNumber(out, offset);
  out += ",\"data\":";
  out += data;
  out += "}}}";
}

void writeJoinPush(std::string& out, std::string_view channel, std::string_view client,
                   std::string_view user) {
  writePresencePush(out, channel, "join", client, user);
}

void writeLeavePush(std::string& out, std::string_view channel, std::string_view client,
                    std::string_view user) {
  writePresencePush(out, channel, "leave", client, user);
}

void writeDisconnectPush(std::string& out, DisconnectCode code, std::string_view reason) {
  out += "{\"push\":{\"disconnect\":{\"code\":";
  appendJsonNumber(out, static_cast<uint64_t>(code));
  out += ",\"reason\":";
  appendJsonString(out, reason);
  out += "}}}";
}

}  // namespace duplex::hub
