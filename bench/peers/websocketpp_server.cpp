// websocketpp peer for the benchmark: its echo_server example (asio transport, no TLS), and
// with --broadcast every message sent to every open connection, the sender included, the way
// its broadcast_server example keeps a set of connection handles.
//
// Logging is switched off: the examples log every frame to stdout, which would measure the
// terminal, not the WebSocket code. One io_service run on one thread (pinned by bench/run).
//
// --deflate: the same server on a config whose permessage_deflate_type is the library's
// extensions::permessage_deflate::enabled (websocketpp compiles the extension in only through
// the config type, so the two modes are two instantiations).
#include <cstdlib>
#include <iostream>
#include <set>
#include <string>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/extensions/permessage_deflate/enabled.hpp>
#include <websocketpp/server.hpp>

using websocketpp::connection_hdl;

namespace {

// websocketpp's config::asio with the permessage-deflate extension switched on, written out as
// its documentation's custom-config pattern requires (every typedef restated).
struct DeflateConfig : public websocketpp::config::asio {
  typedef DeflateConfig type;
  typedef websocketpp::config::asio base;
  typedef base::concurrency_type concurrency_type;
  typedef base::request_type request_type;
  typedef base::response_type response_type;
  typedef base::message_type message_type;
  typedef base::con_msg_manager_type con_msg_manager_type;
  typedef base::endpoint_msg_manager_type endpoint_msg_manager_type;
  typedef base::alog_type alog_type;
  typedef base::elog_type elog_type;
  typedef base::rng_type rng_type;
  struct transport_config : public base::transport_config {
    typedef type::concurrency_type concurrency_type;
    typedef type::alog_type alog_type;
    typedef type::elog_type elog_type;
    typedef type::request_type request_type;
    typedef type::response_type response_type;
    typedef websocketpp::transport::asio::basic_socket::endpoint socket_type;
  };
  typedef websocketpp::transport::asio::endpoint<transport_config> transport_type;
  struct permessage_deflate_config {};
  typedef websocketpp::extensions::permessage_deflate::enabled<permessage_deflate_config>
      permessage_deflate_type;
};

template <class Config>
int serve(const std::string& host, const std::string& port, bool broadcast) {
  using Server = websocketpp::server<Config>;
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
  server.set_message_handler([&](connection_hdl hdl, typename Server::message_ptr msg) {
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

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::string port = "0";
  bool broadcast = false;
  bool deflate = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--broadcast") {
      broadcast = true;
    } else if (arg == "--deflate" || arg == "--deflate-takeover") {
      // The extension follows the client's offer: with context takeover or without.
      deflate = true;
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = argv[++i];
    } else {
      std::cerr << "usage: bench-websocketpp-server [--host 127.0.0.1] --port P [--broadcast] "
                   "[--deflate|--deflate-takeover]\n";
      return 2;
    }
  }
  return deflate ? serve<DeflateConfig>(host, port, broadcast)
                 : serve<websocketpp::config::asio>(host, port, broadcast);
}
