// Boost.Beast peer for the benchmark: an echo server, or with --broadcast a server that sends
// every message it receives to every open connection (the sender included).
//
// Written the way Beast's own examples are, so that we measure Beast as its authors show it:
// the session and listener of example/websocket/server/async (async_accept, async_read,
// async_write, a strand per connection, the suggested server timeouts), and for broadcast the
// per-session write queue of shared immutable strings of example/websocket/server/chat-multi.
// One io_context run on one thread (pinned by bench/run), so there is no mutex.
//
// --deflate: permessage-deflate on (Beast's permessage_deflate option, server_enable), with no
// context takeover both ways as the generator offers, every message compressed
// (msg_size_threshold 0) and Beast's own zlib settings (compLevel 8, memLevel 4).
// --deflate-takeover: the same, but keeping context both ways (RFC 7692's default).
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
using tcp = boost::asio::ip::tcp;

namespace {

void fail(beast::error_code ec, const char* what) {
  // The generator ends runs by closing sockets; those are not worth a line each.
  if (ec == net::error::operation_aborted || ec == websocket::error::closed ||
      ec == net::error::eof || ec == net::error::connection_reset || ec == beast::error::timeout)
    return;
  std::cerr << what << ": " << ec.message() << "\n";
}

class Session;

// Every open session, for broadcast (chat-multi's shared_state, without its mutex: one thread).
struct SharedState {
  bool broadcast = false;
  bool deflate = false;
  bool takeover = false;
  std::unordered_set<Session*> sessions;
};

struct Outgoing {
  std::shared_ptr<const std::string> data;
  bool text;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, SharedState& state) : ws_(std::move(socket)), state_(state) {}
  ~Session() { state_.sessions.erase(this); }

  void run() {
    net::dispatch(ws_.get_executor(),
                  beast::bind_front_handler(&Session::onRun, shared_from_this()));
  }

  // chat-multi: hand the message to this session's strand, then queue it.
  void send(const Outgoing& message) {
    net::post(ws_.get_executor(),
              beast::bind_front_handler(&Session::onSend, shared_from_this(), message));
  }

 private:
  void onRun() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    if (state_.deflate) {
      websocket::permessage_deflate pmd;
      pmd.server_enable = true;
      pmd.server_no_context_takeover = !state_.takeover;
      pmd.client_no_context_takeover = !state_.takeover;
      pmd.msg_size_threshold = 0;
      ws_.set_option(pmd);
    }
    ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
      res.set(http::field::server, std::string(BOOST_BEAST_VERSION_STRING) + " bench-beast-server");
    }));
    ws_.async_accept(beast::bind_front_handler(&Session::onAccept, shared_from_this()));
  }

  void onAccept(beast::error_code ec) {
    if (ec) return fail(ec, "accept");
    state_.sessions.insert(this);
    doRead();
  }

  void doRead() {
    ws_.async_read(buffer_, beast::bind_front_handler(&Session::onRead, shared_from_this()));
  }

  void onRead(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "read");
    if (!state_.broadcast) {
      // websocket_server_async: echo, and read again only once the write is done.
      ws_.text(ws_.got_text());
      ws_.async_write(buffer_.data(),
                      beast::bind_front_handler(&Session::onEchoWritten, shared_from_this()));
      return;
    }
    const Outgoing message{
        std::make_shared<const std::string>(beast::buffers_to_string(buffer_.data())),
        ws_.got_text()};
    buffer_.consume(buffer_.size());
    for (Session* s : state_.sessions) s->send(message);
    doRead();
  }

  void onEchoWritten(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    buffer_.consume(buffer_.size());
    doRead();
  }

  void onSend(const Outgoing& message) {
    queue_.push_back(message);
    if (queue_.size() > 1) return;  // a write is already in progress
    writeFront();
  }

  void writeFront() {
    ws_.text(queue_.front().text);
    ws_.async_write(net::buffer(*queue_.front().data),
                    beast::bind_front_handler(&Session::onQueuedWritten, shared_from_this()));
  }

  void onQueuedWritten(beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    queue_.erase(queue_.begin());
    if (!queue_.empty()) writeFront();
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  SharedState& state_;
  std::vector<Outgoing> queue_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(net::io_context& ioc, tcp::endpoint endpoint, SharedState& state)
      : ioc_(ioc), acceptor_(net::make_strand(ioc)), state_(state) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(net::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(net::socket_base::max_listen_connections);
  }

  void run() { doAccept(); }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  void doAccept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Listener::onAccept, shared_from_this()));
  }

  void onAccept(beast::error_code ec, tcp::socket socket) {
    if (ec) {
      fail(ec, "accept");
    } else {
      std::make_shared<Session>(std::move(socket), state_)->run();
    }
    doAccept();
  }

  net::io_context& ioc_;
  tcp::acceptor acceptor_;
  SharedState& state_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  SharedState state;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--broadcast") {
      state.broadcast = true;
    } else if (arg == "--deflate" || arg == "--deflate-takeover") {
      state.deflate = true;
      state.takeover = arg == "--deflate-takeover";
    } else if (arg == "--host" && i + 1 < argc) {
      host = argv[++i];
    } else if (arg == "--port" && i + 1 < argc) {
      port = static_cast<unsigned short>(std::atoi(argv[++i]));
    } else {
      std::cerr << "usage: bench-beast-server [--host 127.0.0.1] --port P [--broadcast] "
                   "[--deflate|--deflate-takeover]\n";
      return 2;
    }
  }
  net::io_context ioc{1};
  auto listener =
      std::make_shared<Listener>(ioc, tcp::endpoint{net::ip::make_address(host), port}, state);
  listener->run();
  std::cout << "bench-beast-server listening on ws://" << host << ":" << listener->port()
            << (state.broadcast ? " (broadcast)" : " (echo)") << std::endl;
  ioc.run();
  return 0;
}
