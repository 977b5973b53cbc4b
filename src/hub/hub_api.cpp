// The server API: back ends publish, read history and presence, and disconnect users over plain
// HTTP POST with an API key (docs/protocol.md, "The server API").
#include <simdjson.h>

#include "hub/hub.h"

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

// A reply the engine completes: sent when it comes, if the client is still there.
std::function<void(std::string&&)> answerLater(HttpResponse& response) {
  return [later = response.later()](std::string&& body) mutable {
    if (later.clientGone()) return;
    answer(later.response(), body);
    later.send();
  };
}

}  // namespace

void Hub::addApiRoutes(App& app) {
  auto guarded = [this](auto handler) {
    return [this, handler](const Request& request, HttpResponse& response) {
      if (options_.apiKey.empty())
        return answerError(response, ErrorCode::NotFound, "the server API is off");
      std::string_view key = request.header("X-API-Key");
      if (key.empty())
        return answerError(response, ErrorCode::Unauthorized, "X-API-Key is required");
      if (!sameSecret(key, options_.apiKey)) {
        return answerError(response, ErrorCode::Forbidden, "wrong API key");
      }
      handler(request, response);
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
             // Answered when the engine has stored it: API publishes join the same group commit
             // as the WebSocket ones.
             engine_.publish(
                 loop_,
                 {std::string(command.channel), std::string(command.data), std::string(command.key),
                  limitsFor(*info->options), options_.nowMs()},
                 [this, alive = std::weak_ptr<int>(alive_),
                  later = response.later()](PublishResult&& result) mutable {
                   if (alive.expired()) return;
                   published(result);
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
                   later.send();
                 });
           }));

  app.post("/api/history", guarded([this](const Request& request, HttpResponse& response) {
             ParseResult parsed = parser_.parseParams(Method::History, request.body());
             if (!parsed.ok()) return answerError(response, parsed.error, parsed.message);
             auto info = options_.namespaces.lookup(parsed.command.channel);
             if (!info.ok()) return answerError(response, info.error().code, info.error().message);
             history(*info, ReplyTo::api(), parsed.command.since, parsed.command.limit,
                     answerLater(response));
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
             presence(parsed.command.channel, ReplyTo::api(), answerLater(response));
           }));

  app.post("/api/disconnect", guarded([this](const Request& request, HttpResponse& response) {
             simdjson::dom::parser parser;
             simdjson::dom::element root;
             std::string_view user;
             if (parser.parse(request.body().data(), request.body().size()).get(root) !=
                     simdjson::SUCCESS ||
                 root["user"].get(user) != simdjson::SUCCESS || user.empty()) {
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
}

}  // namespace duplex::hub
