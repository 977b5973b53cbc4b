#pragma once
// `duplexd token --user ID [--secret S] [--ttl 1h] [--channels a,b]`: prints a connection token
// (HS256, docs/protocol.md "Tokens") that this server accepts, so nobody has to write a JWT by
// hand. The secret comes from --secret or, kept out of the process list, DUPLEX_TOKEN_SECRET.

namespace duplexd {

// Runs the subcommand on argv after "token"; returns the exit status.
int runTokenCommand(int argc, char** argv);

}  // namespace duplexd
