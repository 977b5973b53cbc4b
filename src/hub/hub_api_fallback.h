#pragma once
// What /api/* answers outside its endpoints, in the server API's JSON error shape
// ({"error": {"code", "message"}}) and with the matching status, so that a back end's HTTP
// client reads every answer of /api/* the same way: a GET on an endpoint is 405 with
// `Allow: POST`, a path that is no endpoint is 404 naming the ones there are, and what the
// server refuses before any route runs (413, 414, 501, 400, 405, 503) is in that shape too.
// Each of these answers is counted like an endpoint's (duplex_hub_api_calls_total), under the
// endpoint's path when the request named one and under "unknown" otherwise: a label never
// comes from what a client may make up.
#include <functional>
#include <initializer_list>
#include <string_view>

#include "server/app.h"

namespace duplex::hub {

// What the answers given here are counted under when the path is none of the endpoints.
inline constexpr std::string_view kUnknownEndpoint = "unknown";

// Told of each answer given here, on the answering connection's loop thread.
using ApiAnswerCounter =
    std::function<void(std::string_view endpoint, const HttpResponse& response)>;

void addApiFallbackRoutes(App& app, std::initializer_list<std::string_view> endpoints,
                          ApiAnswerCounter count);

}  // namespace duplex::hub
