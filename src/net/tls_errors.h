#pragma once
// OpenSSL reports errors through a per-thread queue of codes; this turns them into the short,
// readable reasons that reach users ("No such file or directory", "certificate verify failed").
#include <string>

namespace duplex::net {

// The oldest error in the queue (the cause; later entries are the layers it passed through),
// with OpenSSL's detail text when it has some. Empties the queue. `fallback` when it was empty.
std::string takeTlsErrors(const char* fallback = "unknown TLS error");

}  // namespace duplex::net
