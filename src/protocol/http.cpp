#include "protocol/http.h"

#include <algorithm>

namespace duplex::protocol {
namespace {

constexpr char toLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

constexpr bool isTchar(char c) {
  // RFC 9110 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
  // "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

constexpr bool isOws(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && isOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 5.5: field-vchar / SP / HTAB; every other control character (NUL, a lone CR...)
// is refused rather than passed on to whoever reads the value.
bool isFieldValue(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7F);
  });
}

// The next CRLF-terminated line. RFC 9112 2.2 lets a recipient accept a bare LF, but a strict
// parser refuses it: lenient line endings are how request smuggling starts.
bool takeLine(std::string_view& rest, std::string_view& line, std::string& error) {
  const size_t end = rest.find("\r\n");
  if (end == std::string_view::npos) {
    error = "head does not end with an empty line";
    return false;
  }
  line = rest.substr(0, end);
  if (line.find_first_of("\r\n") != std::string_view::npos) {
    error = "bare CR or LF in the head";
    return false;
  }
  rest.remove_prefix(end + 2);
  return true;
}

bool parseHeaders(std::string_view rest, std::vector<Header>& headers, std::string& error) {
  headers.clear();
  std::string_view line;
  for (;;) {
    if (!takeLine(rest, line, error)) return false;
    if (line.empty()) break;
    if (isOws(line.front())) {
      // RFC 9112 5.2: obs-fold is obsolete; a server may reject it with 400.
      error = "folded header line (obs-fold)";
      return false;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      error = "header line without a colon";
      return false;
    }
    const std::string_view name = line.substr(0, colon);
    if (!isToken(name)) {
      // RFC 9112 5.1: whitespace between the name and the colon must be answered with 400.
      error = !name.empty() && isOws(name.back())
                  ? "whitespace before the colon in header '" + std::string(trimOws(name)) + "'"
                  : "invalid header name '" + std::string(name) + "'";
      return false;
    }
    const std::string_view value = trimOws(line.substr(colon + 1));
    if (!isFieldValue(value)) {
      error = "invalid character in the value of header '" + std::string(name) + "'";
      return false;
    }
    headers.push_back({name, value});
  }
  if (!rest.empty()) {
    error = "bytes after the end of the head";
    return false;
  }
  return true;
}

// "HTTP/d.d": returns false when it is not that shape at all.
bool parseVersion(std::string_view s, int& major, int& minor) {
  if (s.size() != 8 || s.substr(0, 5) != "HTTP/" || s[6] != '.') return false;
  if (s[5] < '0' || s[5] > '9' || s[7] < '0' || s[7] > '9') return false;
  major = s[5] - '0';
  minor = s[7] - '0';
  return true;
}

std::string_view findHeader(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers)
    if (equalsIgnoreCase(h.name, name)) return h.value;
  return {};
}

size_t countHeader(const std::vector<Header>& headers, std::string_view name) {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const Header& h) {
    return equalsIgnoreCase(h.name, name);
  }));
}

}  // namespace

bool isTokenChar(char c) {
  return isTchar(c);
}

bool isToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isTchar);
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (toLower(a[i]) != toLower(b[i])) return false;
  return true;
}

bool hasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trimOws(list.substr(0, comma));
    if (equalsIgnoreCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view HttpRequest::header(std::string_view name) const {
  return findHeader(headers, name);
}
size_t HttpRequest::headerCount(std::string_view name) const {
  return countHeader(headers, name);
}
std::string_view HttpResponse::header(std::string_view name) const {
  return findHeader(headers, name);
}
size_t HttpResponse::headerCount(std::string_view name) const {
  return countHeader(headers, name);
}

size_t findHeadEnd(std::string_view data) {
  const size_t end = data.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

bool parseRequest(std::string_view head, HttpRequest& out, HttpError& error) {
  error = HttpError{};
  std::string_view rest = head, line;
  if (!takeLine(rest, line, error.message)) return false;
  if (!parseRequestLine(line, out, error)) return false;
  return parseHeaders(rest, out.headers, error.message);
}

namespace {

// Origin-form only (RFC 9112 3.2.1): absolute-form is for proxies, which we are not.
bool isOriginForm(std::string_view target) {
  return !target.empty() && target.front() == '/' &&
         std::all_of(target.begin(), target.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u > 0x20 && u < 0x7F && c != '#';
         });
}

void splitTarget(HttpRequest& out) {
  const size_t question = out.target.find('?');
  out.path = out.target.substr(0, question);
  out.query =
      question == std::string_view::npos ? std::string_view{} : out.target.substr(question + 1);
}

}  // namespace

bool parseRequestLine(std::string_view line, HttpRequest& out, HttpError& error) {
  // RFC 9112 3: request-line = method SP request-target SP HTTP-version, single spaces.
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    error.message = "malformed request line";
    return false;
  }
  out.method = line.substr(0, sp1);
  out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!isToken(out.method)) {
    error.message = "invalid method";
    return false;
  }
  if (!isOriginForm(out.target)) {
    error.message = "invalid request target";
    return false;
  }
  int major = 0, minor = 0;
  if (!parseVersion(version, major, minor)) {
    error.message = "malformed HTTP version";
    return false;
  }
  if (major != 1) {
    error.status = 505;
    error.message = "HTTP version not supported";
    return false;
  }
  out.versionMinor = minor;
  splitTarget(out);
  return true;
}

bool parseOverlongRequestLine(std::string_view received, HttpRequest& out) {
  const size_t sp1 = received.find(' ');
  if (sp1 == std::string_view::npos || !isToken(received.substr(0, sp1))) return false;
  std::string_view rest = received.substr(sp1 + 1);
  const size_t sp2 = rest.find(' ');
  const std::string_view target = rest.substr(0, sp2);
  // "HTTP/1.1" and the CR before the LF still to come: past that, what follows the target is
  // not a version, and the line is malformed rather than its target too long.
  constexpr size_t kVersionAndCr = 9;
  if (sp2 != std::string_view::npos && rest.size() - sp2 - 1 > kVersionAndCr) return false;
  if (!isOriginForm(target)) return false;
  out.method = received.substr(0, sp1);
  out.target = target;
  splitTarget(out);
  return true;
}

bool parseResponse(std::string_view head, HttpResponse& out, std::string& error) {
  std::string_view rest = head, line;
  if (!takeLine(rest, line, error)) return false;
  // RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
  int major = 0, minor = 0;
  if (line.size() < 12 || !parseVersion(line.substr(0, 8), major, minor) || major != 1 ||
      line[8] != ' ' ||
      !std::all_of(line.begin() + 9, line.begin() + 12,
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      (line.size() > 12 && line[12] != ' ')) {
    error = "malformed status line";
    return false;
  }
  out.versionMinor = minor;
  out.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  out.reason = line.size() > 12 ? line.substr(13) : std::string_view{};
  if (!isFieldValue(out.reason)) {
    error = "invalid character in the reason phrase";
    return false;
  }
  return parseHeaders(rest, out.headers, error);
}

std::string_view statusText(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 416:
      return "Range Not Satisfiable";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string writeResponse(int status,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body, bool keepAlive) {
  std::string out = writeResponseHead(status, headers, body.size(), keepAlive);
  out += body;
  return out;
}

std::string writeResponseHead(int status,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              uint64_t contentLength, bool keepAlive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out += statusText(status);
  out += "\r\n";
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  // RFC 9110 8.6: no Content-Length on 1xx and 204; on 304 it would describe the stored
  // representation rather than this (empty) body, so we leave it out as well.
  if (status >= 200 && status != 204 && status != 304) {
    out += "Content-Length: " + std::to_string(contentLength) + "\r\n";
  }
  if (!keepAlive) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string writeErrorResponse(const HttpError& error) {
  auto headers = error.headers;
  headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return writeResponse(error.status, headers, error.message + "\n", false);
}

}  // namespace duplex::protocol
