#include "hub/hub_api_fallback.h"

#include <string>

#include "hub/hub_protocol_writer.h"

namespace duplex::hub {

void addApiFallbackRoutes(App& app, std::initializer_list<std::string_view> endpoints) {
  std::string known;
  for (std::string_view endpoint : endpoints) {
    known += known.empty() ? "" : ", ";
    known += endpoint;
    const std::string path(endpoint);
    // Not a hub ErrorCode: a command over the WebSocket has no method to get wrong.
    app.get(path, [path](const Request&, HttpResponse& response) {
      response.status = 405;
      response.header("Allow", "POST");
      response.header("Content-Type", "application/json");
      response.body = R"({"error":{"code":"method_not_allowed","message":")" + path +
                      R"( takes POST with a JSON body"}})";
    });
  }
  auto unknown = [known](const Request& request, HttpResponse& response) {
    response.status = 404;
    response.header("Content-Type", "application/json");
    writeError(response.body, ReplyTo::api(), ErrorCode::NotFound,
               "no API endpoint " + std::string(request.path()) + " (there are " + known + ")");
  };
  app.get("/api/*", unknown);
  app.post("/api/*", unknown);
}

}  // namespace duplex::hub
