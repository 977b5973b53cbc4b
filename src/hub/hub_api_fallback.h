#pragma once
// What /api/* answers outside its endpoints, in the server API's JSON error shape
// ({"error": {"code", "message"}}) and with the matching status, so that a back end's HTTP
// client reads every answer of /api/* the same way: a GET on an endpoint is 405 with
// `Allow: POST`, a path that is no endpoint is 404 naming the ones there are, and what the
// server refuses before any route runs (413, 501, 400, 405, 503) is in that shape too.
#include <initializer_list>
#include <string_view>

#include "server/app.h"

namespace duplex::hub {

void addApiFallbackRoutes(App& app, std::initializer_list<std::string_view> endpoints);

}  // namespace duplex::hub
