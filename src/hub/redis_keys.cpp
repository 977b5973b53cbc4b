#include "hub/redis_keys.h"

#include <charconv>

namespace duplex::hub::redis_keys {

std::string_view channelOf(std::string_view name) {
  constexpr std::string_view prefix = "duplex:{";
  if (name.size() < prefix.size() + 1 || !name.starts_with(prefix) || name.back() != '}') return {};
  return name.substr(prefix.size(), name.size() - prefix.size() - 1);
}

std::string encode(char kind, std::string_view node, std::string_view epoch, uint64_t offset,
                   std::string_view body) {
  std::string out;
  out.reserve(body.size() + node.size() + epoch.size() + 24);
  out += kind;
  out.append(node);
  out += ' ';
  out.append(epoch.empty() ? std::string_view("-") : epoch);
  out += ' ';
  out += std::to_string(offset);
  out += ' ';
  out.append(body);
  return out;
}

std::optional<Message> decode(std::string_view payload) {
  Message m;
  if (payload.empty()) return std::nullopt;
  m.kind = payload[0];
  payload.remove_prefix(1);
  auto word = [&](std::string_view& out) {
    size_t space = payload.find(' ');
    if (space == std::string_view::npos) return false;
    out = payload.substr(0, space);
    payload.remove_prefix(space + 1);
    return true;
  };
  std::string_view offset;
  if (!word(m.node) || !word(m.epoch) || !word(offset)) return std::nullopt;
  auto [end, ec] = std::from_chars(offset.data(), offset.data() + offset.size(), m.offset);
  if (ec != std::errc() || end != offset.data() + offset.size()) return std::nullopt;
  if (m.epoch == "-") m.epoch = {};
  m.body = payload;
  return m;
}

}  // namespace duplex::hub::redis_keys
