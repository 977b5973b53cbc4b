#pragma once
// A map keyed by std::string that is looked up with a std::string_view, without building a
// std::string for each lookup (heterogeneous lookup: C++20's transparent hash and equality).
// Channel and topic names arrive as views into received frames.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace duplex::net {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

template <class T>
using StringMap = std::unordered_map<std::string, T, StringHash, std::equal_to<>>;

}  // namespace duplex::net
