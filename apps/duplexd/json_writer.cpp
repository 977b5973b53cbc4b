#include "json_writer.h"

namespace duplexd {

void appendJsonString(std::string& out, std::string_view text) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out.push_back(kHex[(c >> 4) & 0xf]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(c);  // UTF-8 passes through: input text was validated as UTF-8
        }
    }
  }
  out.push_back('"');
}

std::string errorMessage(std::string_view code, std::string_view message) {
  std::string out = R"({"type":"error","code":)";
  appendJsonString(out, code);
  out += R"(,"message":)";
  appendJsonString(out, message);
  out += '}';
  return out;
}

}  // namespace duplexd
