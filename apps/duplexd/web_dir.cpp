#include "web_dir.h"

#include <filesystem>
#include <system_error>

#ifndef DUPLEX_WEB_DIR
#define DUPLEX_WEB_DIR "web"
#endif
#ifndef DUPLEX_INSTALLED_WEB_DIR
#define DUPLEX_INSTALLED_WEB_DIR "share/duplex/web"
#endif

namespace duplex::apps {

std::string defaultWebDir() {
  std::error_code error;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    // <prefix>/bin/duplexd -> <prefix>/share/duplex/web
    const auto installed = exe.parent_path().parent_path() / DUPLEX_INSTALLED_WEB_DIR;
    if (std::filesystem::exists(installed / "index.html", error)) return installed.string();
  }
  return DUPLEX_WEB_DIR;
}

}  // namespace duplex::apps
