#include "server/app.h"

#include <unistd.h>

#include <csignal>
#include <exception>
#include <thread>

#include "net/log.h"
#include "net/tls_session.h"
#include "server/app_impl.h"
#include "server/server_connection.h"

namespace duplex {
App::App(AppOptions options) : impl_(std::make_unique<Impl>(options)) {
  impl_->ownedLoops.push_back(std::make_unique<net::Loop>(options.backend));
  net::Loop& first = *impl_->ownedLoops.back();
  first.setCorking(options.cork);
  impl_->loops.push_back(std::make_unique<Impl::LoopState>(first, 0));
  for (uint32_t i = 1; i < options.threads; ++i) {
    impl_->ownedLoops.push_back(std::make_unique<net::Loop>(first.backend()));
    impl_->ownedLoops.back()->setCorking(options.cork);
    impl_->loops.push_back(std::make_unique<Impl::LoopState>(*impl_->ownedLoops.back(), i));
  }
}

App::App(net::Loop& loop, AppOptions options) : impl_(std::make_unique<Impl>(options)) {
  if (!options.cork) loop.setCorking(false);  // a shared loop: only ever switched off
  impl_->loops.push_back(std::make_unique<Impl::LoopState>(loop, 0));
  for (uint32_t i = 1; i < options.threads; ++i) {
    impl_->ownedLoops.push_back(std::make_unique<net::Loop>(loop.backend()));
    impl_->ownedLoops.back()->setCorking(options.cork);
    impl_->loops.push_back(std::make_unique<Impl::LoopState>(*impl_->ownedLoops.back(), i));
  }
}

App::~App() {
  lifeline_.cut();
  // run() has joined the other loops' threads: every loop is ours to touch from here.
  for (auto& state : impl_->loops) {
    state->listeners.clear();
    // Our connections point at our routes: they must not outlive us. Only ours: another App
    // on the same loop keeps its own.
    impl_->forEachConnection(*state, [](ServerConnection& c) { c.closeNow(); });
    if (state->shutdownTimer) state->loop->cancelTimer(state->shutdownTimer);
    // The closed connections' destructors report to impl_: run them while it exists.
    state->loop->destroyClosed();
  }
  // Our loops go first (a hand-off still queued on one closes its descriptors), then impl_.
  impl_->ownedLoops.clear();
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

App& App::refusals(std::string pattern, RefusalWriter write) {
  impl_->refusalWriters.add(std::move(pattern), std::move(write));
  return *this;
}

namespace {

void listenOn(App::Impl& impl, std::string_view host, uint16_t port, const net::TlsContext* tls) {
  App::Impl* self = &impl;
  auto listenerFor = [&](App::Impl::LoopState& state, uint16_t onPort, bool reusePort) {
    App::Impl::LoopState* on = &state;
    state.listeners.push_back(std::make_unique<net::Listener>(
        *state.loop, host, onPort, [self, on, tls](int fd) { self->accepted(*on, fd, tls); }, 4096,
        reusePort));
    return state.listeners.back()->port();
  };
  if (!impl.options.acceptOnEveryLoop || impl.loops.size() == 1) {
    listenerFor(*impl.loops[0], port, false);
    return;
  }
  // Port 0: the first socket picks the port, the others join it.
  uint16_t bound = listenerFor(*impl.loops[0], port, true);
  for (size_t i = 1; i < impl.loops.size(); ++i) listenerFor(*impl.loops[i], bound, true);
}

}  // namespace

void App::watchShutdownSignals() {
  if (!impl_->options.handleSignals || impl_->watchingSignals) return;
  impl_->watchingSignals = true;
  // Blocked for this thread and the threads it starts later (run()'s loops), so they all arrive
  // at loop 0's signalfd.
  auto shutdownOnSignal = [life = lifeline_.handle()] {
    if (App* app = life.get()) app->shutdown();
  };
  loop().onSignal(SIGINT, shutdownOnSignal);
  loop().onSignal(SIGTERM, shutdownOnSignal);
}

App& App::listen(std::string_view host, uint16_t port) {
  // Before the port exists: a SIGTERM sent by whoever sees it must find the handler.
  watchShutdownSignals();
  listenOn(*impl_, host, port, nullptr);
  return *this;
}

App& App::listen(std::string_view host, uint16_t port, const TlsOptions& tls) {
  auto context = net::TlsContext::forServer(tls.certFile, tls.keyFile);
  watchShutdownSignals();
  listenOn(*impl_, host, port, context.get());
  impl_->tlsContexts.push_back(std::move(context));
  return *this;
}

void App::reloadTlsOnSignal(int signal) {
  // The loop may outlive us (App(loop)): its handler must not.
  loop().onSignal(signal, [life = lifeline_.handle()] {
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
  std::lock_guard lock(impl_->tlsMutex);  // other loops may be accepting with them
  for (size_t i = 0; i < fresh.size(); ++i) impl_->tlsContexts[i]->swap(*fresh[i]);
}

uint16_t App::port() const {
  const auto& listeners = impl_->loops[0]->listeners;
  return listeners.empty() ? 0 : listeners.front()->port();
}

net::Loop& App::loop(size_t index) {
  return *impl_->loops.at(index)->loop;
}

std::vector<net::Loop*> App::loops() {
  std::vector<net::Loop*> all;
  for (const auto& state : impl_->loops) all.push_back(state->loop);
  return all;
}

size_t App::loopCount() const {
  return impl_->loops.size();
}

size_t App::connectionCount() const {
  return impl_->connections.load(std::memory_order_relaxed);
}

std::vector<uint64_t> App::acceptedPerLoop() const {
  std::vector<uint64_t> counts;
  for (const auto& state : impl_->loops) {
    counts.push_back(state->accepted.load(std::memory_order_relaxed));
  }
  return counts;
}

App::ConnectionCounts App::connectionCounts() const {
  // Two counters read one after the other: a connection upgrading in between may be counted
  // in neither phase for one scrape, never twice.
  ConnectionCounts counts;
  counts.open = impl_->webSockets.load(std::memory_order_relaxed);
  size_t all = impl_->connections.load(std::memory_order_relaxed);
  counts.handshaking = all > counts.open ? all - counts.open : 0;
  return counts;
}

void App::run() {
  Impl& impl = *impl_;
  // Before any thread starts (a no-op when listen() did it already).
  watchShutdownSignals();
  // Shut down before run(), with nothing left to close: there is nothing to run for.
  if (impl.shuttingDown && impl.connections == 0) return;
  Impl::LoopState& first = *impl.loops[0];
  first.runByApp = true;
  if (impl.loops.size() == 1) {
    // From here shutdown() from another thread posts to the loop instead of closing its
    // connections on the caller's thread, as it does for the loops of several threads.
    impl.threadsRunning = true;
    loop().run();
    impl.threadsRunning = false;
    first.runByApp = false;
    return;
  }
  std::mutex failureMutex;
  std::exception_ptr failure;
  auto runLoop = [&](net::Loop& loop) {
    try {
      loop.run();
    } catch (...) {
      DUPLEX_LOG(Error, "a loop thread failed; shutting down");
      {
        std::lock_guard lock(failureMutex);
        if (!failure) failure = std::current_exception();
      }
      shutdown();
    }
  };
  impl.threadsRunning = true;
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.loops.size(); ++i) {
    threads.emplace_back([&runLoop, &loop = *impl.loops[i]->loop] { runLoop(loop); });
  }
  runLoop(loop());
  // Loop 0 ended. After shutdown() every other loop ends by itself once its connections are
  // gone (or at the deadline); a loop 0 stopped any other way stops the others too.
  if (!impl.shuttingDown) {
    for (size_t i = 1; i < impl.loops.size(); ++i) impl.loops[i]->loop->stopFromAnyThread();
  }
  for (std::thread& thread : threads) thread.join();
  impl.threadsRunning = false;
  first.runByApp = false;
  if (failure) std::rethrow_exception(failure);
}

void App::shutdown() {
  Impl& impl = *impl_;
  if (impl.shuttingDown.exchange(true)) return;
  for (auto& state : impl.loops) {
    Impl::LoopState* s = state.get();
    impl.runOn(*s, [&impl, s] { impl.shutdownLoop(*s); });
  }
}

void App::Impl::runOn(LoopState& state, std::function<void()> task) {
  if (net::Loop::current() == state.loop || !threadsRunning) {
    task();
  } else {
    state.loop->post(std::move(task));
  }
}

void App::Impl::shutdownLoop(LoopState& state) {
  state.shuttingDown = true;
  for (auto& listener : state.listeners) listener->close();
  forEachConnection(state, [](ServerConnection& c) { c.goAway(); });
  // The timer dies with us (~App cancels it), so `this` is safe here.
  state.shutdownTimer =
      state.loop->setTimeout(options.shutdownTimeoutSeconds * 1000ull, [this, &state] {
        state.shutdownTimer = 0;
        forEachConnection(state, [](ServerConnection& c) { c.closeNow(); });
      });
  if (state.connections == 0 && state.runByApp) state.loop->stop();
}

App::Impl::LoopState& App::Impl::stateOf(const net::Loop& loop) {
  for (auto& state : loops) {
    if (state->loop == &loop) return *state;
  }
  return *loops[0];  // unreachable: connections are made on our loops only
}

void App::Impl::accepted(LoopState& on, int fd, const net::TlsContext* tls) {
  if (loops.size() == 1 || options.acceptOnEveryLoop) {
    adopt(on, fd, tls);
    return;
  }
  LoopState& target = *loops[nextLoop];
  nextLoop = (nextLoop + 1) % loops.size();
  if (&target == &on) {
    adopt(on, fd, tls);
    return;
  }
  if (on.handoffs.empty()) on.handoffs.resize(loops.size());
  on.handoffs[target.index].push_back({fd, tls});
  if (!on.handoffScheduled) {
    on.handoffScheduled = true;
    on.loop->defer([this, &on] { sendHandoffs(on); });
  }
}

namespace {

// Descriptors on their way to another loop; closed if that loop never takes them (it stopped
// before the post ran, and the loop's destruction drops the task).
struct HandoffBatch {
  std::vector<App::Impl::Accepted> fds;
  ~HandoffBatch() {
    for (const auto& a : fds) ::close(a.fd);
  }
};

}  // namespace

void App::Impl::sendHandoffs(LoopState& from) {
  from.handoffScheduled = false;
  for (size_t i = 0; i < from.handoffs.size(); ++i) {
    if (from.handoffs[i].empty()) continue;
    auto batch = std::make_shared<HandoffBatch>();
    batch->fds.swap(from.handoffs[i]);
    LoopState* target = loops[i].get();
    target->loop->post([this, target, batch] {
      for (const Accepted& a : batch->fds) adopt(*target, a.fd, a.tls);
      batch->fds.clear();
    });
  }
}

void App::Impl::adopt(LoopState& state, int fd, const net::TlsContext* tls) {
  if (state.shuttingDown) {
    ::close(fd);
    return;
  }
  state.accepted.fetch_add(1, std::memory_order_relaxed);
  auto* connection = new ServerConnection(*state.loop, fd, *this);  // owned by the loop now
  if (!tls) return;
  try {
    std::unique_ptr<net::TlsSession> session;
    {
      std::lock_guard lock(tlsMutex);
      session = net::TlsSession::accept(*tls, *state.loop);
    }
    connection->startTls(std::move(session));
  } catch (const net::TlsError&) {
    connection->closeNow();  // OpenSSL is out of memory: shed this one connection
  }
}

void App::Impl::connectionMade(ServerConnection& connection) {
  LoopState& state = stateOf(connection.loop());
  ++state.connections;
  connections.fetch_add(1, std::memory_order_relaxed);
}

void App::Impl::connectionGone(ServerConnection& connection) {
  LoopState& state = stateOf(connection.loop());
  --state.connections;
  connections.fetch_sub(1, std::memory_order_relaxed);
  if (state.shuttingDown && state.connections == 0) {
    if (state.shutdownTimer) state.loop->cancelTimer(state.shutdownTimer);
    state.shutdownTimer = 0;
    if (state.runByApp) state.loop->stop();
  }
}

void App::Impl::forEachConnection(LoopState& state, void (*action)(ServerConnection&)) {
  // The loop's list of live sockets, not a list of our own: two pointers less in every
  // connection (docs/performance.md, "memory per idle connection") for a walk that only
  // shutdown and destruction make. Only ours: another App, or a client, on the same loop keeps
  // its sockets. A snapshot, as an action may close sockets.
  for (net::Socket* socket : state.loop->sockets()) {
    auto* c = dynamic_cast<ServerConnection*>(socket);
    if (c && c->app_ == this && !c->isClosed()) action(*c);
  }
}

}  // namespace duplex
