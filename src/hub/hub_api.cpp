// The server API: back ends publish, read history and presence, and disconnect users over plain
// HTTP POST with an API key (docs/protocol.md, "The server API").
#include <simdjson.h>

#include <utility>

#include "hub/hub.h"
#include "hub/hub_api_fallback.h"
#include "hub/hub_client.h"
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

LaterResponse Hub::takeLater(HttpResponse& response) {
  here().answeringLater = true;
  return response.later();
}

void Hub::countApiAnswer(std::string_view endpoint, const HttpResponse& response) {
  HubMetrics& metrics = here().metrics;
  metrics.countApiCall(endpoint, response.status);
  if (auto code = answeredCode(response)) metrics.countError(*code);
}

std::function<void(std::string&&)> Hub::answerLater(const Request& request,
                                                    HttpResponse& response) {
  return [life = lifeline_.handle(), later = takeLater(response),
          endpoint = std::string(request.path())](std::string&& body) mutable {
    if (later.clientGone()) return;
    answer(later.response(), body);
    if (Hub* hub = life.get()) hub->countApiAnswer(endpoint, later.response());
    later.send();
  };
}

Engine::Done<DisconnectResult> Hub::answerDisconnected(const Request& request,
                                                       HttpResponse& response) {
  return [life = lifeline_.handle(), later = takeLater(response),
          endpoint = std::string(request.path())](DisconnectResult&& result) mutable {
    if (later.clientGone()) return;
    if (result.ok) {
      std::string out;
      writeDisconnectedResult(out, ReplyTo::api(), result.connections);
      answer(later.response(), out);
    } else {
      // Ended here all the same; the back end may retry (a repeat ends nothing twice).
      answerError(later.response(), ErrorCode::Unavailable,
                  "disconnected " + std::to_string(result.connections) +
                      " connection(s) on this node, but the other nodes could not be told: " +
                      result.error);
    }
    if (Hub* hub = life.get()) hub->countApiAnswer(endpoint, later.response());
    later.send();
  };
}

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
        LoopPart& part = here();
        part.answeringLater = false;
        handler(request, response);
        // An answer sent later is counted when it is sent (countApiAnswer).
        if (std::exchange(part.answeringLater, false)) return;
      }
      countApiAnswer(request.path(), response);
    };
  };

  app.post("/api/publish", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = here().parser.parseParams(Method::Publish, request.body());
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
             // Answered when the engine has stored it: API publishes join the same group commit
             // as the WebSocket ones.
             engine_.publish(
                 *here().loop,
                 {std::string(command.channel), std::string(command.data), std::string(command.key),
                  limitsFor(*info->options), options_.nowMs()},
                 [life = lifeline_.handle(), later = takeLater(response),
                  endpoint = std::string(request.path())](PublishResult&& result) mutable {
                   Hub* hub = life.get();
                   if (hub) hub->published(result);
                   // After the Hub: stored all the same, so the answer is the same.
                   if (later.clientGone()) return;
                   if (!result.ok) {
                     answerError(later.response(), ErrorCode::Unavailable,
                                 "the publication could not be stored");
                   } else {
                     std::string out;
                     writePublishResult(out, ReplyTo::api(),
                                        {result.appended.offset, result.appended.epoch.view()});
                     answer(later.response(), out);
                   }
                   if (hub) hub->countApiAnswer(endpoint, later.response());
                   later.send();
                 });
           }));

  app.post("/api/history", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = here().parser.parseParams(Method::History, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             auto info = options_.namespaces.lookup(parsed.command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             history(*info, ReplyTo::api(), parsed.command.since, parsed.command.limit,
                     answerLater(request, response));
           }));

  app.post("/api/presence", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = here().parser.parseParams(Method::Presence, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             auto info = options_.namespaces.lookup(parsed.command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             if (!info->options->presence) {
               return answerError(response, ErrorCode::Forbidden,
                                  "presence is off in this namespace");
             }
             presence(parsed.command.channel, ReplyTo::api(), answerLater(request, response));
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
             // The user's connections may be on any loop, of any node sharing the engine: the
             // engine asks each (through setUserDisconnector's hook); the answer counts this
             // node's.
             engine_.disconnectUser(*here().loop, std::string(user),
                                    answerDisconnected(request, response));
           }));
  addApiFallbackRoutes(app, {"/api/publish", "/api/history", "/api/presence", "/api/disconnect"},
                       [this, life](std::string_view endpoint, const HttpResponse& response) {
                         if (life.get()) countApiAnswer(endpoint, response);
                       });
}

}  // namespace duplex::hub
