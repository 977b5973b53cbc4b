#pragma once
#include <cstddef>

namespace duplex::net {

// Bytes from the kernel's CSPRNG (getrandom), drawn in blocks and handed out from a per-thread
// reserve so that a client masking every frame (RFC 6455 5.3 wants unpredictable keys) does not
// pay a syscall per frame.
void secureRandom(void* out, size_t size);

}  // namespace duplex::net
