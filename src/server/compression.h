#pragma once
// Moved to the connection layer (src/connection/compression.h), which the server and the client
// share; this header keeps existing includes working.
#include "connection/compression.h"
