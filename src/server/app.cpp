#include "server/app.h"

#include <unistd.h>

#include <csignal>
#include <exception>

#include "net/log.h"
#include "net/tls_session.h"
#include "server/app_impl.h"
#include "server/server_connection.h"

namespace duplex {

App::App(AppOptions options)
    : ownedLoop_(std::make_unique<net::Loop>()),
      loop_(ownedLoop_.get()),
      impl_(std::make_unique<Impl>(*loop_, options)) {
  loop_->setCorking(options.cork);
}

App::App(net::Loop& loop, AppOptions options)
    : loop_(&loop), impl_(std::make_unique<Impl>(loop, options)) {
  if (!options.cork) loop.setCorking(false);  // a shared loop: only ever switched off
}

App::~App() {
  lifeline_.cut();
  impl_->listeners.clear();
  // Our connections point at our routes: they must not outlive us. Only ours: another App on
  // the same loop keeps its own.
  impl_->forEachConnection([](ServerConnection& c) { c.closeNow(); });
  if (impl_->shutdownTimer) loop_->cancelTimer(impl_->shutdownTimer);
  // The closed connections' destructors report to impl_: run them while it exists.
  loop_->destroyClosed();
  ownedLoop_.reset();
}

App& App::ws(std::string pattern, WebSocketBehavior behavior) {
  impl_->wsRoutes.add(std::move(pattern), std::move(behavior));
  return *this;
}

App& App::get(std::string pattern, HttpHandler handler) {
  impl_->getRoutes.add(std::move(pattern), std::move(handler));
  return *this;
}

App& App::post(std::string pattern, HttpHandler handler) {
  impl_->postRoutes.add(std::move(pattern), std::move(handler));
  return *this;
}

App& App::listen(std::string_view host, uint16_t port) {
  Impl* impl = impl_.get();
  impl_->listeners.push_back(std::make_unique<net::Listener>(
      *loop_, host, port, [impl](int fd) { impl->accept(fd, nullptr); }));
  return *this;
}

App& App::listen(std::string_view host, uint16_t port, const TlsOptions& tls) {
  auto context = net::TlsContext::forServer(tls.certFile, tls.keyFile);
  const net::TlsContext* shared = context.get();
  Impl* impl = impl_.get();
  impl_->listeners.push_back(std::make_unique<net::Listener>(
      *loop_, host, port, [impl, shared](int fd) { impl->accept(fd, shared); }));
  impl_->tlsContexts.push_back(std::move(context));
  return *this;
}

void App::reloadTlsOnSignal(int signal) {
  // The loop may outlive us (App(loop)): its handler must not.
  loop_->onSignal(signal, [life = lifeline_.handle()] {
    App* app = life.get();
    if (!app) return;
    try {
      app->reloadTls();
      DUPLEX_LOG(Warn, "TLS: certificate reloaded");
    } catch (const std::exception& e) {
      DUPLEX_LOG(Error, "TLS: reload failed, keeping the old certificate: %s", e.what());
    }
  });
}

void App::reloadTls() {
  // Read every pair first: a bad file leaves all listeners as they were.
  std::vector<std::unique_ptr<net::TlsContext>> fresh;
  for (const auto& context : impl_->tlsContexts) {
    fresh.push_back(net::TlsContext::forServer(context->certFile(), context->keyFile()));
  }
  for (size_t i = 0; i < fresh.size(); ++i) impl_->tlsContexts[i]->swap(*fresh[i]);
}

uint16_t App::port() const {
  return impl_->listeners.empty() ? 0 : impl_->listeners.front()->port();
}

size_t App::connectionCount() const {
  return impl_->connections;
}

App::ConnectionCounts App::connectionCounts() const {
  ConnectionCounts counts;
  for (net::Socket* socket : loop_->sockets()) {
    if (auto* connection = dynamic_cast<ServerConnection*>(socket)) {
      ++(connection->inHttpPhase() ? counts.handshaking : counts.open);
    }
  }
  return counts;
}

void App::run() {
  if (impl_->options.handleSignals) {
    auto shutdownOnSignal = [life = lifeline_.handle()] {
      if (App* app = life.get()) app->shutdown();
    };
    loop_->onSignal(SIGINT, shutdownOnSignal);
    loop_->onSignal(SIGTERM, shutdownOnSignal);
  }
  // Shut down before run(), with nothing left to close: there is nothing to run for.
  if (impl_->shuttingDown && impl_->connections == 0) return;
  impl_->running = true;
  loop_->run();
  impl_->running = false;
}

void App::shutdown() {
  Impl& impl = *impl_;
  if (impl.shuttingDown) return;
  impl.shuttingDown = true;
  for (auto& listener : impl.listeners) listener->close();
  impl.forEachConnection([](ServerConnection& c) { c.goAway(); });
  // The timer dies with us (~App cancels it), so `this` is safe here.
  impl.shutdownTimer = loop_->setTimeout(impl.options.shutdownTimeoutSeconds * 1000ull, [this] {
    impl_->shutdownTimer = 0;
    impl_->forEachConnection([](ServerConnection& c) { c.closeNow(); });
  });
  if (impl.connections == 0 && impl.running) loop_->stop();
}

void App::Impl::accept(int fd, const net::TlsContext* tls) {
  if (shuttingDown) {
    ::close(fd);
    return;
  }
  auto* connection = new ServerConnection(loop, fd, *this);  // owned by the loop from now on
  if (!tls) return;
  try {
    connection->startTls(net::TlsSession::accept(*tls, loop));
  } catch (const net::TlsError&) {
    connection->closeNow();  // OpenSSL is out of memory: shed this one connection
  }
}

void App::Impl::connectionMade(ServerConnection& connection) {
  connection.nextInApp_ = firstConnection;
  if (firstConnection) firstConnection->prevInApp_ = &connection;
  firstConnection = &connection;
  ++connections;
}

void App::Impl::connectionGone(ServerConnection& connection) {
  if (connection.prevInApp_) {
    connection.prevInApp_->nextInApp_ = connection.nextInApp_;
  } else {
    firstConnection = connection.nextInApp_;
  }
  if (connection.nextInApp_) connection.nextInApp_->prevInApp_ = connection.prevInApp_;
  --connections;
  if (shuttingDown && connections == 0) {
    if (shutdownTimer) loop.cancelTimer(shutdownTimer);
    shutdownTimer = 0;
    if (running) loop.stop();
  }
}

void App::Impl::forEachConnection(void (*action)(ServerConnection&)) {
  for (ServerConnection* c = firstConnection; c; c = c->nextInApp_) {
    if (!c->isClosed()) action(*c);
  }
}

}  // namespace duplex
