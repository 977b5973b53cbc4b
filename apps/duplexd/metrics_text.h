#pragma once
// Writing the Prometheus text exposition format (version 0.0.4): a family's HELP and TYPE
// lines, then its samples, each `name{label="value",...} number`.
#include <cstdint>
#include <string>
#include <string_view>

namespace duplexd {

class PrometheusText {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  // `labels` is written between the braces as given: `code="bad_request"` (values here are
  // names the code chooses, or escaped with labelValue()); empty for none.
  void sample(std::string_view name, std::string_view labels, double value);
  void sample(std::string_view name, std::string_view labels, uint64_t value);

  // A family with one unlabelled sample: most of them.
  void single(std::string_view name, std::string_view type, std::string_view help, uint64_t value) {
    family(name, type, help);
    sample(name, {}, value);
  }

  std::string& text() { return out_; }

 private:
  void begin(std::string_view name, std::string_view labels);
  std::string out_;
};

// A label value with '\', '"' and newlines escaped, as the format requires.
std::string labelValue(std::string_view text);

}  // namespace duplexd
