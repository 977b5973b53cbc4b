// The server API: back ends publish, read history and presence, and disconnect users over plain
// HTTP POST with an API key (docs/protocol.md, "The server API").
#include <simdjson.h>

#include <chrono>

#include "hub/hub.h"
#include "hub/hub_api_fallback.h"
#include "hub/json_error_position.h"

namespace duplex::hub {
namespace {

// Compares in time independent of where the strings differ: the key must not leak by timing.
bool sameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

void answer(HttpResponse& response, const std::string& body, int status = 200) {
  response.status = status;
  response.header("Content-Type", "application/json");
  response.body = body;
}

void answerError(HttpResponse& response, ErrorCode code, std::string_view message) {
  std::string body;
  writeError(body, ReplyTo::api(), code, message);
  answer(response, body, httpStatus(code));
}

// The code of an error answer ({"error":{"code":"NAME",...}}), for /metrics; nullopt for others.
std::optional<ErrorCode> answeredCode(const HttpResponse& response) {
  constexpr std::string_view kLead = R"({"error":{"code":")";
  std::string_view body = response.body;
  if (response.status < 400 || !body.starts_with(kLead)) return std::nullopt;
  body.remove_prefix(kLead.size());
  return errorCodeFromName(body.substr(0, body.find('"')));
}

}  // namespace

void Hub::addApiRoutes(App& app) {
  // The App keeps these routes for as long as it lives, which may be longer than the Hub: each
  // checks that the Hub is still there before the handler (which uses `this`) runs.
  auto life = lifeline_.handle();
  auto guarded = [this, life](auto handler) {
    return [this, life, handler](const Request& request, HttpResponse& response) {
      if (!life.get())
        return answerError(response, ErrorCode::Unavailable, "the hub has shut down");
      std::string_view key = request.header("X-API-Key");
      const bool admin = !options_.adminPassword.empty() && sameSecret(key, options_.adminPassword);
      if (options_.apiKey.empty() && options_.adminPassword.empty()) {
        answerError(response, ErrorCode::NotFound, "the server API is off");
      } else if (key.empty()) {
        answerError(response, ErrorCode::Unauthorized, "X-API-Key is required");
      } else if (!admin && (options_.apiKey.empty() || !sameSecret(key, options_.apiKey))) {
        answerError(response, ErrorCode::Forbidden, "wrong API key");
      } else {
        handler(request, response);
      }
      metrics_.countApiCall(request.path(), response.status);
      if (auto code = answeredCode(response)) metrics_.countError(*code);
    };
  };

  app.post("/api/publish", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = parser_.parseParams(Method::Publish, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             const Command& command = parsed.command;
             auto info = options_.namespaces.lookup(command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             if (auto denied = checkServerPublish(*info, command.data.size())) {
               return answerError(response, denied->code, denied->message);
             }
             if (auto refused = validate(*info, command.data)) {
               return answerError(response, refused->code, refused->message);
             }
             std::string push, out;
             if (info->options->historySize == 0) {
               writePubPush(push, command.channel, 0, command.data);
               topics_.publish(command.channel, push);
               ++stats_.published;
               writePublishResult(out, ReplyTo::api(), {0, {}});
               return answer(response, out);
             }
             // One publication, one transaction: an HTTP reply cannot wait for the loop's batch.
             NewPublication item{command.channel, command.data, command.key, options_.nowMs(),
                                 limitsFor(*info->options)};
             std::vector<Appended> results;
             const auto started = std::chrono::steady_clock::now();
             auto stored = store_.append(std::span<const NewPublication>(&item, 1), results);
             metrics_.storeCommit.observe(
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
             if (!stored.ok()) {
               ++stats_.unavailable;
               return answerError(response, ErrorCode::Unavailable,
                                  "the publication could not be stored");
             }
             if (results[0].duplicate) {
               ++stats_.duplicates;
             } else {
               writePubPush(push, command.channel, results[0].offset, command.data);
               topics_.publish(command.channel, push);
               ++stats_.published;
             }
             writePublishResult(out, ReplyTo::api(), {results[0].offset, results[0].epoch.view()});
             answer(response, out);
           }));

  app.post("/api/history", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = parser_.parseParams(Method::History, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             auto info = options_.namespaces.lookup(parsed.command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             std::string out;
             history(out, ReplyTo::api(), *info, parsed.command.since, parsed.command.limit);
             answer(response, out);
           }));

  app.post("/api/presence", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = parser_.parseParams(Method::Presence, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             auto info = options_.namespaces.lookup(parsed.command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             if (!info->options->presence) {
               return answerError(response, ErrorCode::Forbidden,
                                  "presence is off in this namespace");
             }
             std::string out;
             presence(out, ReplyTo::api(), parsed.command.channel);
             answer(response, out);
           }));

  app.post("/api/disconnect", guarded([this](const Request& request, HttpResponse& response) {
             simdjson::dom::parser parser;
             simdjson::dom::element root;
             std::string_view user;
             if (parser.parse(request.body().data(), request.body().size()).get(root) !=
                 simdjson::SUCCESS) {
               return answerError(response, ErrorCode::BadRequest,
                                  describeJsonError(request.body(), "not JSON"));
             }
             if (root["user"].get(user) != simdjson::SUCCESS || user.empty()) {
               return answerError(response, ErrorCode::BadRequest,
                                  "body must be {\"user\": \"...\"}");
             }
             uint64_t count = 0;
             auto it = users_.find(std::string(user));
             if (it != users_.end()) {
               std::vector<WebSocket*> connections(it->second.begin(), it->second.end());
               for (WebSocket* ws : connections) {
                 if (!ws->isOpen()) continue;
                 disconnect(*ws, DisconnectCode::Disconnected, "disconnected by the server");
                 ++count;
               }
             }
             std::string out;
             writeDisconnectedResult(out, ReplyTo::api(), count);
             answer(response, out);
           }));
  addApiFallbackRoutes(app, {"/api/publish", "/api/history", "/api/presence", "/api/disconnect"});
}

}  // namespace duplex::hub
