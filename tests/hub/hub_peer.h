#pragma once
// A hub client on a test's loop that keeps every message it gets, for the hub tests that run
// servers on several loops (tests/hub's two Apps, tests/multiloop's four loops).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "client/client.h"

namespace duplex::hub::test {

struct Peer {
  WebSocket* ws = nullptr;
  bool open = false;
  std::vector<std::string> messages;

  Peer(net::Loop& loop, uint16_t port) {
    ClientBehavior b;
    b.open = [this](WebSocket& s) {
      ws = &s;
      open = true;
    };
    b.message = [this](WebSocket&, std::string_view data, Opcode) { messages.emplace_back(data); };
    b.close = [this](WebSocket&, uint16_t, std::string_view) { open = false; };
    connect(loop, "ws://127.0.0.1:" + std::to_string(port) + "/connection", b);
  }

  static bool containsAll(const std::string& message,
                          std::initializer_list<std::string_view> parts) {
    for (std::string_view p : parts) {
      if (message.find(p) == std::string::npos) return false;
    }
    return true;
  }
  // The first message containing every one of `parts`, or null.
  const std::string* find(std::initializer_list<std::string_view> parts) const {
    for (const std::string& m : messages) {
      if (containsAll(m, parts)) return &m;
    }
    return nullptr;
  }
  // How many messages contain every one of `parts`.
  size_t count(std::initializer_list<std::string_view> parts) const {
    size_t n = 0;
    for (const std::string& m : messages) n += containsAll(m, parts);
    return n;
  }
  bool has(std::initializer_list<std::string_view> parts) const { return find(parts) != nullptr; }
};

}  // namespace duplex::hub::test
