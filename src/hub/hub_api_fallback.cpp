#include "hub/hub_api_fallback.h"

#include <string>
#include <vector>

#include "hub/hub_protocol_writer.h"
#include "protocol/http.h"

namespace duplex::hub {
namespace {

// {"error":{"code":CODE,"message":MESSAGE}}, CODE being a hub ErrorCode's name or, for what a
// command over the WebSocket has no counterpart of (an HTTP method, a framing), a status's.
std::string apiError(std::string_view code, std::string_view message) {
  std::string body = R"({"error":{"code":)";
  appendJsonString(body, code);
  body += R"(,"message":)";
  appendJsonString(body, message);
  body += "}}";
  return body;
}

// The code of a refusal the server made itself: the hub's own for a status one of its codes
// answers with (400 bad_request, 404 not_found, 413 too_large, 503 unavailable), else the
// status's name ("method_not_allowed", "not_implemented").
std::string refusalCode(int status) {
  for (ErrorCode code : kAllErrorCodes) {
    if (httpStatus(code) == status) return std::string(errorCodeName(code));
  }
  std::string name;
  for (char c : protocol::statusText(status)) {
    name += c == ' ' || c == '-' ? '_' : static_cast<char>(c | 0x20);  // ASCII letters only
  }
  return name;
}

}  // namespace

void addApiFallbackRoutes(App& app, std::initializer_list<std::string_view> endpoints,
                          ApiAnswerCounter count) {
  std::string known;
  for (std::string_view endpoint : endpoints) {
    known += known.empty() ? "" : ", ";
    known += endpoint;
  }
  // The path itself when it is an endpoint (a GET on one, a body too large for one), else the
  // one bounded label for every other path.
  auto endpointOf = [list = std::vector<std::string>(endpoints.begin(), endpoints.end())](
                        std::string_view path) -> std::string_view {
    for (const std::string& endpoint : list) {
      if (path == endpoint) return endpoint;
    }
    return kUnknownEndpoint;
  };
  auto unknown = [known, count](const Request& request, HttpResponse& response) {
    response.status = 404;
    response.header("Content-Type", "application/json");
    writeError(response.body, ReplyTo::api(), ErrorCode::NotFound,
               "no API endpoint " + std::string(request.path()) + " (there are " + known + ")");
    count(kUnknownEndpoint, response);
  };
  app.get("/api/*", unknown);
  app.post("/api/*", unknown);
  // What the server refuses before a route runs (a body too large, Transfer-Encoding, a bad
  // head, a target too long, too many connections; a GET on an endpoint, 405 with
  // `Allow: POST`) answers in the same shape and status.
  app.refusals("/api/*", [endpointOf, count](const Refusal& refusal, HttpResponse& response) {
    response.header("Content-Type", "application/json");
    response.body = apiError(refusalCode(response.status), refusal.reason);
    count(endpointOf(refusal.path), response);
  });
}

}  // namespace duplex::hub
