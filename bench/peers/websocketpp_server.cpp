// websocketpp peer for the benchmark: its echo_server example (asio transport, no TLS), and
// with --broadcast every message sent to every open connection, the sender included, the way
// its broadcast_server example keeps a set of connection handles.
//
// Logging is switched off: the examples log every frame to stdout, which would measure the
// terminal, not the WebSocket code. One io_service run on one thread (pinned by bench/run).
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

using Server = websocketpp::server<websocketpp::config::asio>;
using websocketpp::connection_hdl;

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::string port = "0";
  bool broadcast = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--broadcast") {
      broadcast = true;
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = argv[++i];
    } else {
      std::cerr << "usage: bench-websocketpp-server [--host 127.0.0.1] --port P [--broadcast]\n";
      return 2;
    }
  }

  Server server;
  std::set<connection_hdl, std::owner_less<connection_hdl>> connections;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_listen_backlog(4096);

  server.set_open_handler([&](connection_hdl hdl) { connections.insert(hdl); });
  server.set_close_handler([&](connection_hdl hdl) { connections.erase(hdl); });
  server.set_fail_handler([&](connection_hdl hdl) { connections.erase(hdl); });
  server.set_message_handler([&](connection_hdl hdl, Server::message_ptr msg) {
    if (!broadcast) {
      websocketpp::lib::error_code ec;
      server.send(hdl, msg->get_payload(), msg->get_opcode(), ec);
      return;
    }
    for (const connection_hdl& to : connections) {
      websocketpp::lib::error_code ec;
      server.send(to, msg->get_payload(), msg->get_opcode(), ec);
    }
  });

  server.listen(host, port);
  server.start_accept();
  websocketpp::lib::asio::error_code ec;
  const auto endpoint = server.get_local_endpoint(ec);
  std::cout << "bench-websocketpp-server listening on ws://" << host << ":" << endpoint.port()
            << (broadcast ? " (broadcast)" : " (echo)") << std::endl;
  server.run();
  return 0;
}
