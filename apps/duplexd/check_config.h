#pragma once
// The hub configuration (--hub-config) checked before it is needed: `duplexd check-config FILE`
// says "FILE: ok" or "FILE:LINE: what is wrong", and duplexd's own startup refuses a bad file
// the same way. simdjson keeps no positions, so the line of an option that is wrong (the
// messages name it as a path, "namespaces.talk.history_size: ...") is found by walking the
// text for that key.
#include <cstddef>
#include <string>
#include <string_view>

#include "hub/namespaces.h"

namespace duplexd {

// The line (from 1) of the key at a dotted path ("namespaces.talk.history_size") in a JSON
// text, or of the longest prefix of it that is there; 0 when none is.
size_t lineOfKey(std::string_view json, std::string_view dottedPath);

// Namespaces::fromJson, with "LINE: " before the message of a refusal when the line is known.
duplex::hub::HubResult<duplex::hub::Namespaces> readHubConfig(std::string_view json);

// Runs `duplexd check-config FILE` on argv after "check-config"; returns the exit status.
int runCheckConfig(int argc, char** argv);

}  // namespace duplexd
