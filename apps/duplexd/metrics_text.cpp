#include "metrics_text.h"

#include <charconv>
#include <cmath>

namespace duplexd {

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out_.append(name).append(" ").append(type).append("\n");
}

void PrometheusText::begin(std::string_view name, std::string_view labels) {
  out_.append(name);
  if (!labels.empty()) out_.append("{").append(labels).append("}");
  out_ += ' ';
}

void PrometheusText::sample(std::string_view name, std::string_view labels, uint64_t value) {
  begin(name, labels);
  out_.append(std::to_string(value)).append("\n");
}

void PrometheusText::sample(std::string_view name, std::string_view labels, double value) {
  begin(name, labels);
  if (std::isinf(value)) {
    out_.append(value > 0 ? "+Inf" : "-Inf");
  } else {
    char buffer[32];
    auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    out_.append(buffer, error == std::errc() ? end : buffer);
  }
  out_ += '\n';
}

std::string labelValue(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace duplexd
