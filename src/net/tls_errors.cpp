#include "net/tls_errors.h"

#include <openssl/err.h>

#include <cstring>

namespace duplex::net {

std::string takeTlsErrors(const char* fallback) {
  const char* data = nullptr;
  int flags = 0;
  unsigned long code = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags);
  if (code == 0) return fallback;
  std::string text;
  if (ERR_SYSTEM_ERROR(code)) {
    text = std::strerror(ERR_GET_REASON(code));
  } else if (const char* reason = ERR_reason_error_string(code)) {
    text = reason;
  } else {
    text = "OpenSSL error " + std::to_string(code);
  }
  // The system library's detail is the failing call ("calling fopen(...)"): the caller names
  // the file already.
  if (!ERR_SYSTEM_ERROR(code) && (flags & ERR_TXT_STRING) && data && *data) {
    text += " (";
    text += data;
    text += ")";
  }
  ERR_clear_error();
  return text;
}

}  // namespace duplex::net
