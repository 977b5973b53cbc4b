#pragma once
// The limits of a Python package connection, server or client side: protocol::ConnectionLimits
// with python-websockets' own defaults where they differ from the C++ ones (docs/python.md: a
// ping after 20 idle seconds, not 120; 10 s to close, not 5), so that code moved from
// python-websockets keeps its timing. The settings of both roles hold one of these, and the
// bindings expose its fields under python-websockets' names.
#include "protocol/connection_limits.h"

namespace duplex::python {

struct PythonConnectionLimits : protocol::ConnectionLimits {
  PythonConnectionLimits() {
    idleTimeoutSeconds = 20;   // ping_interval=20
    closeTimeoutSeconds = 10;  // close_timeout=10
  }
};

}  // namespace duplex::python
