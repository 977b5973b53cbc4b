#pragma once
// The name the connection layer gave permessage-deflate's per-connection state before it moved
// into the protocol core (protocol/deflate_session.h). One class: kept as an alias so code
// written against WebSocket::compression() keeps compiling.
#include "protocol/deflate_session.h"

namespace duplex {

using Compression = protocol::PerMessageDeflate;

}  // namespace duplex
