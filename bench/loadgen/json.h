#pragma once
// The one JSON object a run prints on stdout: flat keys, numbers and strings, nothing more.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace bench {

class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, bool value);
  template <class Integer>
  requires(std::is_integral_v<Integer> &&
           !std::is_same_v<Integer, bool>) JsonObject& add(std::string_view key, Integer value) {
    return addRaw(key, std::to_string(value));
  }
  std::string str() const { return "{" + body_ + "}"; }

 private:
  JsonObject& addRaw(std::string_view key, const std::string& literal);
  void key(std::string_view k);
  std::string body_;
};

}  // namespace bench
