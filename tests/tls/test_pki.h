#pragma once
// The throwaway PKI of pki.py (a test CA and server certificates), made once per test program in
// a temporary directory that is removed at exit.
#include <string>

namespace duplex::test {

// Path of a file of the PKI: "ca.pem", "server.pem", "server.key", "renewed.pem", ...
std::string pkiFile(const std::string& name);

}  // namespace duplex::test
