// Where duplexd finds the demo page when --web is not given.
#pragma once

#include <string>

namespace duplex::apps {

// An installed duplexd (cmake --install) serves <prefix>/share/duplex/web, found from its own
// path so that any --prefix works; a duplexd run from its build tree serves the source tree's
// web/ (DUPLEX_WEB_DIR).
std::string defaultWebDir();

}  // namespace duplex::apps
