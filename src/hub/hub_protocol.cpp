#include "hub/hub_protocol.h"

#include <simdjson.h>

#include <charconv>

#include "hub/json_error_position.h"

namespace duplex::hub {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr Method kMethods[] = {Method::Connect, Method::Subscribe, Method::Unsubscribe,
                               Method::Publish, Method::History,   Method::Presence,
                               Method::Ping,    Method::Rpc};

std::optional<Method> methodFromName(std::string_view name) {
  for (Method method : kMethods) {
    if (methodName(method) == name) return method;
  }
  return std::nullopt;
}

// A JSON integer >= 0 (1.0 is a double in JSON's data model as simdjson reads it: refused).
bool asUnsigned(element value, uint64_t& out) {
  if (value.type() == element_type::UINT64) {
    out = value.get_uint64().value_unsafe();
    return true;
  }
  if (value.type() == element_type::INT64) {
    int64_t v = value.get_int64().value_unsafe();
    if (v < 0) return false;
    out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

// Writes `value` back as minified JSON. simdjson has validated the whole document, and its
// strings are unescaped UTF-8, so what comes out is valid JSON; numbers may be respelled
// (1.50 becomes 1.5), with doubles in their shortest round-tripping form.
void appendMinified(std::string& out, element value) {
  switch (value.type()) {
    case element_type::OBJECT: {
      out += '{';
      bool first = true;
      // Named, not iterated as a temporary: value_unsafe() returns a reference into the
      // simdjson_result, which would die before the loop.
      object fields = value.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : fields) {
        if (!first) out += ',';
        first = false;
        appendJsonString(out, field.key);
        out += ':';
        appendMinified(out, field.value);
      }
      out += '}';
      return;
    }
    case element_type::ARRAY: {
      out += '[';
      bool first = true;
      simdjson::dom::array items = value.get_array().value_unsafe();
      for (element item : items) {
        if (!first) out += ',';
        first = false;
        appendMinified(out, item);
      }
      out += ']';
      return;
    }
    case element_type::STRING:
      appendJsonString(out, value.get_string().value_unsafe());
      return;
    case element_type::INT64:
      appendJsonNumber(out, value.get_int64().value_unsafe());
      return;
    case element_type::UINT64:
      appendJsonNumber(out, value.get_uint64().value_unsafe());
      return;
    case element_type::DOUBLE: {
      char digits[32];
      auto end = std::to_chars(digits, digits + sizeof digits, value.get_double().value_unsafe());
      out.append(digits, end.ptr);
      return;
    }
    case element_type::BOOL:
      out += value.get_bool().value_unsafe() ? "true" : "false";
      return;
    case element_type::NULL_VALUE:
      out += "null";
      return;
  }
}

// The params a method reads; any other field in its params is ignored.
enum Field : uint8_t {
  kChannel = 1 << 0,
  kToken = 1 << 1,
  kKey = 1 << 2,
  kData = 1 << 3,
  kSince = 1 << 4,
  kLimit = 1 << 5,
  kLast = 1 << 6,
  kMethod = 1 << 7,
};

uint8_t fieldsOf(Method method) {
  switch (method) {
    case Method::Connect:
      return kToken;
    case Method::Subscribe:
      return kChannel | kSince | kLast;
    case Method::Unsubscribe:
      return kChannel;
    case Method::Publish:
      return kChannel | kData | kKey;
    case Method::History:
      return kChannel | kSince | kLimit;
    case Method::Presence:
      return kChannel;
    case Method::Ping:
      return 0;
    case Method::Rpc:
      return kMethod | kData;
  }
  return 0;
}

std::optional<Field> fieldFromName(std::string_view name) {
  if (name == "channel") return kChannel;
  if (name == "token") return kToken;
  if (name == "key") return kKey;
  if (name == "data") return kData;
  if (name == "since") return kSince;
  if (name == "limit") return kLimit;
  if (name == "last") return kLast;
  if (name == "method") return kMethod;
  return std::nullopt;
}

// A client-chosen name quoted in a message, cut short (at a UTF-8 character boundary).
std::string_view clip(std::string_view name) {
  constexpr size_t kMax = 40;
  if (name.size() <= kMax) return name;
  size_t end = kMax;
  while (end > 0 && (static_cast<unsigned char>(name[end]) & 0xC0) == 0x80) --end;
  return name.substr(0, end);
}

}  // namespace

std::string_view methodName(Method method) {
  switch (method) {
    case Method::Connect:
      return "connect";
    case Method::Subscribe:
      return "subscribe";
    case Method::Unsubscribe:
      return "unsubscribe";
    case Method::Publish:
      return "publish";
    case Method::History:
      return "history";
    case Method::Presence:
      return "presence";
    case Method::Ping:
      return "ping";
    case Method::Rpc:
      return "rpc";
  }
  return "ping";
}

struct CommandParser::Impl {
  explicit Impl(size_t maxBytesIn) : maxBytes(maxBytesIn) {}

  // Parses into `json`; a status other than Ok when the text cannot be read as JSON.
  bool load(std::string_view text, ParseResult& r) {
    data.clear();
    if (text.size() > maxBytes) {
      r.status = ParseStatus::TooLarge;
      r.message = "the message is over the size limit";
      return false;
    }
    // Copied into the parser's padded buffer, which is reused: the caller's bytes need no
    // SIMDJSON_PADDING after them.
    simdjson::error_code error = parser.parse(text.data(), text.size()).get(root);
    if (error == simdjson::SUCCESS) return true;
    if (error == simdjson::DEPTH_ERROR) {
      invalid(r, ErrorCode::BadRequest, "the command is nested too deeply");
    } else if (error == simdjson::MEMALLOC) {
      invalid(r, ErrorCode::Internal, "out of memory while parsing the command");
    } else if (error == simdjson::CAPACITY) {
      r.status = ParseStatus::TooLarge;
      r.message = "the message is over the parser's capacity";
    } else {
      // simdjson says what, not where: the scanner finds where (only on this failure path).
      r.status = ParseStatus::NotJson;
      message.assign("not JSON");
      appendJsonErrorPlace(message, text);
      r.message = message;
    }
    return false;
  }

  static void invalid(ParseResult& r, ErrorCode code, std::string_view text) {
    r.status = ParseStatus::Invalid;
    r.error = code;
    r.message = text;
  }

  // "publish.channel must be a string": the message names the field.
  void fieldError(ParseResult& r, std::string_view lead, std::string_view field,
                  std::string_view problem) {
    message.assign(lead);
    message += field;
    message += problem;
    invalid(r, ErrorCode::BadRequest, message);
  }

  ParseResult parseCommand(std::string_view text) {
    ParseResult r;
    if (!load(text, r)) return r;
    if (!root.is_object()) {
      invalid(r, ErrorCode::BadRequest, "a command is a JSON object");
      return r;
    }
    std::optional<element> id, params;
    std::optional<Method> method, secondMethod;
    std::string_view unknown;  // the first field that is neither "id" nor a method
    object fields = root.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : fields) {
      if (field.key == "id") {
        if (id) {
          invalid(r, ErrorCode::BadRequest, "id appears twice");
          return r;
        }
        id = field.value;
      } else if (auto m = methodFromName(field.key)) {
        if (method) {
          if (!secondMethod) secondMethod = m;
        } else {
          method = m;
          params = field.value;
        }
      } else if (unknown.empty()) {
        unknown = field.key;
      }
    }
    if (!id) {
      invalid(r, ErrorCode::BadRequest, "id is required");
      return r;
    }
    if (!asUnsigned(*id, r.command.id) || r.command.id == 0) {
      r.command.id = 0;  // not usable to answer with
      invalid(r, ErrorCode::BadRequest, "id must be a positive integer");
      return r;
    }
    if (secondMethod) {
      message = "a command has exactly one method, not ";
      message += methodName(*method);
      message += " and ";
      message += methodName(*secondMethod);
      invalid(r, ErrorCode::BadRequest, message);
      return r;
    }
    if (!method) {
      if (unknown.empty()) {
        invalid(r, ErrorCode::BadRequest, "the command has no method");
      } else {
        message = "unknown method \"";
        message += clip(unknown);
        message += '"';
        invalid(r, ErrorCode::UnknownCommand, message);
      }
      return r;
    }
    r.command.method = *method;
    if (!params->is_object()) {
      fieldError(r, "", methodName(*method), " must be an object");
      return r;
    }
    message.assign(methodName(*method));
    message += '.';
    prefix = message;  // fieldError copies the prefix before reusing `message`
    parseParams(*method, params->get_object().value_unsafe(), r);
    return r;
  }

  ParseResult parseBody(Method method, std::string_view text) {
    ParseResult r;
    r.command.method = method;
    if (!load(text, r)) return r;
    if (!root.is_object()) {
      invalid(r, ErrorCode::BadRequest, "the body is a JSON object");
      return r;
    }
    prefix.clear();
    parseParams(method, root.get_object().value_unsafe(), r);
    return r;
  }

  void parseParams(Method method, object params, ParseResult& r) {
    Command& c = r.command;
    const uint8_t wanted = fieldsOf(method);
    uint8_t seen = 0;
    for (simdjson::dom::key_value_pair field : params) {
      auto f = fieldFromName(field.key);
      if (!f || !(wanted & *f)) continue;
      if (seen & *f) return fieldError(r, prefix, field.key, " appears twice");
      seen |= *f;
      element value = field.value;
      // null in an optional field means "not given" (what many clients' serializers write).
      bool optional = *f == kToken || *f == kKey || *f == kSince || *f == kLimit || *f == kLast;
      if (optional && value.is_null()) {
        seen &= static_cast<uint8_t>(~*f);
        continue;
      }
      switch (*f) {
        case kChannel:
        case kToken:
        case kMethod:
        case kKey: {
          std::string_view s;
          if (value.get_string().get(s) != simdjson::SUCCESS) {
            return fieldError(r, prefix, field.key, " must be a string");
          }
          if (s.empty()) return fieldError(r, prefix, field.key, " must not be empty");
          if (*f == kChannel) c.channel = s;
          if (*f == kToken) c.token = s;
          if (*f == kMethod) c.rpcMethod = s;
          if (*f == kKey) {
            if (s.size() > kMaxPublishKeyBytes) {
              return fieldError(r, prefix, field.key, " is at most 64 bytes");
            }
            c.key = s;
          }
          break;
        }
        case kData:
          appendMinified(data, value);
          c.data = data;
          break;
        case kSince:
          if (!parseSince(value, r)) return;
          break;
        case kLimit: {
          uint64_t limit = 0;
          if (!asUnsigned(value, limit) || limit == 0 || limit > kMaxHistoryLimit) {
            return fieldError(r, prefix, field.key, " must be an integer from 1 to 1000");
          }
          c.limit = static_cast<uint32_t>(limit);
          break;
        }
        case kLast: {
          uint64_t last = 0;
          if (!asUnsigned(value, last)) {
            return fieldError(r, prefix, field.key, " must be a non-negative integer");
          }
          c.last = last;
          break;
        }
      }
    }
    // Both would answer with publications, from different places: the client must choose.
    if ((seen & kSince) && (seen & kLast)) {
      message.assign(prefix);
      message += "last and ";
      message += prefix;
      message += "since exclude each other";
      return invalid(r, ErrorCode::BadRequest, message);
    }
    if ((wanted & kChannel) && !(seen & kChannel)) {
      return fieldError(r, prefix, "channel", " is required");
    }
    if ((wanted & kMethod) && !(seen & kMethod)) {
      return fieldError(r, prefix, "method", " is required");
    }
    // An rpc's data is the back end's business, and optional.
    if ((wanted & kData) && !(seen & kData) && method != Method::Rpc) {
      return fieldError(r, prefix, "data", " is required");
    }
  }

  bool parseSince(element value, ParseResult& r) {
    if (!value.is_object()) {
      fieldError(r, prefix, "since", " must be an object");
      return false;
    }
    object since = value.get_object().value_unsafe();
    Since s;
    element offset, epoch;
    if (since["offset"].get(offset) != simdjson::SUCCESS) {
      fieldError(r, prefix, "since.offset", " is required");
      return false;
    }
    if (!asUnsigned(offset, s.offset)) {
      fieldError(r, prefix, "since.offset", " must be a non-negative integer");
      return false;
    }
    if (since["epoch"].get(epoch) != simdjson::SUCCESS) {
      fieldError(r, prefix, "since.epoch", " is required");
      return false;
    }
    if (epoch.get_string().get(s.epoch) != simdjson::SUCCESS) {
      fieldError(r, prefix, "since.epoch", " must be a string");
      return false;
    }
    r.command.since = s;
    return true;
  }

  size_t maxBytes;
  simdjson::dom::parser parser;
  element root;
  std::string data;     // the publish data, minified
  std::string message;  // composed error messages
  std::string prefix;   // "publish." before a field's name in messages; empty for API bodies
};

CommandParser::CommandParser(size_t maxBytes) : impl_(std::make_unique<Impl>(maxBytes)) {}
CommandParser::~CommandParser() = default;

ParseResult CommandParser::parse(std::string_view text) {
  return impl_->parseCommand(text);
}

ParseResult CommandParser::parseParams(Method method, std::string_view text) {
  return impl_->parseBody(method, text);
}

}  // namespace duplex::hub
