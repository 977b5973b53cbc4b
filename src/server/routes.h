#pragma once
// Matching a request path against the app's route patterns.
#include <deque>
#include <string>
#include <string_view>

#include "server/behavior.h"
#include "server/http_route.h"

namespace duplex {

template <class Target>
class RouteTable {
 public:
  struct Match {
    const Target* target = nullptr;
    std::string_view wildcard;  // what "*" matched
    // How closely the pattern fits: an exact pattern beats any prefix, a longer prefix a
    // shorter one. Lets the server pick the closest route across methods (a GET on a path
    // that only a WebSocket or POST route names is 426 or 405, not the "/*" files' 404).
    size_t specificity = 0;
    static constexpr size_t kExact = static_cast<size_t>(-1);
  };

  void add(std::string pattern, Target target) {
    routes_.push_back({std::move(pattern), std::move(target)});
  }

  // Exact patterns first; then the longest matching prefix pattern.
  Match find(std::string_view path) const {
    Match best;
    for (const Route& route : routes_) {
      std::string_view pattern = route.pattern;
      if (pattern.empty() || pattern.back() != '*') {
        if (pattern == path) return {&route.target, {}, Match::kExact};
        continue;
      }
      std::string_view prefix = pattern.substr(0, pattern.size() - 1);
      if (path.substr(0, prefix.size()) == prefix &&
          (!best.target || prefix.size() > best.specificity)) {
        best = {&route.target, path.substr(prefix.size()), prefix.size()};
      }
    }
    return best;
  }

 private:
  struct Route {
    std::string pattern;
    Target target;
  };
  std::deque<Route> routes_;  // a deque: targets keep their address as routes are added
};

}  // namespace duplex
