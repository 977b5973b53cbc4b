// Host names in client URLs: looked up off the loop (net::Resolver), so a slow resolver holds up
// no socket or timer of the loop; a literal address is never looked up; a name that does not
// resolve is one error naming it; closing while the name is looked up drops the attempt; a
// name's addresses are tried in turn while they refuse; the handshake timeout covers the lookup.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "net/resolver.h"
#include "server_fixture.h"

namespace duplex {
namespace {

net::ResolvedAddress loopback(uint16_t port) {
  net::ResolvedAddress address;
  EXPECT_TRUE(net::literalAddress("127.0.0.1", port, address));
  return address;
}

// What a test's lookup saw, from the resolver's thread. Shared with the lookup, not captured by
// reference: a lookup thread may outlive the test's scope.
struct LookupRecord {
  std::atomic<int> calls{0};
  std::atomic<bool> running{false};
  std::atomic<bool> answered{false};
  std::mutex mutex;
  std::string host;  // the last name asked
  uint16_t port = 0;
};

// Answers `answer` after `delay`, recording into `record`.
net::Lookup slowLookup(std::shared_ptr<LookupRecord> record, std::chrono::milliseconds delay,
                       net::Resolution answer) {
  return [record, delay, answer](const std::string& host, uint16_t port) {
    ++record->calls;
    {
      std::lock_guard lock(record->mutex);
      record->host = host;
      record->port = port;
    }
    record->running = true;
    std::this_thread::sleep_for(delay);
    record->running = false;
    record->answered = true;
    return answer;
  };
}

// A lookup that answers only when released (at the latest when the gate goes), so a test can
// hold one past a deadline without sleeping a thread for longer than it needs.
struct Gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool open = false;
  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    opened.notify_all();
  }
};

class ClientResolveTest : public test::ServerFixture {
 protected:
  void SetUp() override {
    WebSocketBehavior echo = recording();
    echo.message = [](WebSocket& ws, std::string_view data, Opcode op) { ws.send(data, op); };
    makeApp().ws("/echo", echo);
    listen();
  }
  std::string nameUrl(const std::string& host, uint16_t port) const {
    return "ws://" + host + ":" + std::to_string(port) + "/echo";
  }
  // The client connections still on the loop (closed ones leave its list at once).
  size_t clientConnections() {
    size_t count = 0;
    for (net::Socket* socket : loop.sockets()) {
      auto* ws = dynamic_cast<WebSocket*>(socket);
      if (ws && ws->connection().role() == protocol::Role::Client) ++count;
    }
    return count;
  }
};

TEST_F(ClientResolveTest, TheLoopRunsWhileANameIsLookedUp) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(300), {{loopback(app->port())}, {}});
  // Counts the ticks that fire while the lookup's thread sleeps: none if the lookup ran on the
  // loop's thread (the loop would stand still for it).
  int ticksDuringLookup = 0;
  net::Loop::TimerId ticker =
      loop.setInterval(10, [&] { ticksDuringLookup += record->running ? 1 : 0; });
  WebSocket* ws = connect(loop, nameUrl("slow.test", app->port()), c);
  ASSERT_NE(ws, nullptr);
  EXPECT_EQ(record->answered, false) << "connect() waited for the lookup";
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens > 0 || client.errors > 0; }));
  loop.cancelTimer(ticker);
  EXPECT_EQ(client.events, std::vector<std::string>{"open"}) << client.error;
  EXPECT_EQ(client.ws, ws);
  EXPECT_GE(ticksDuringLookup, 5) << "the loop stood still while the name was looked up";
  EXPECT_EQ(record->calls, 1);
  std::lock_guard lock(record->mutex);
  EXPECT_EQ(record->host, "slow.test");
  EXPECT_EQ(record->port, app->port());
}

TEST_F(ClientResolveTest, LocalhostConnectsThroughTheSystemsResolver) {
  ClientBehavior c = recordingClient();
  c.open = [&](WebSocket& ws) {
    client.events.push_back("open");
    ws.send("hello");
  };
  connect(loop, nameUrl("localhost", app->port()), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.messages > 0 || client.errors > 0; }));
  EXPECT_EQ(client.events, (std::vector<std::string>{"open", "text hello"})) << client.error;
  EXPECT_EQ(server.events.at(0), "open /echo");
}

TEST_F(ClientResolveTest, ANameThatDoesNotResolveIsOneErrorNamingIt) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(0),
                        {{}, "cannot resolve nowhere.invalid: Name or service not known"});
  WebSocket* ws = connect(loop, nameUrl("nowhere.invalid", 80), c);
  EXPECT_NE(ws, nullptr);
  EXPECT_EQ(client.errors, 0) << "the error handler ran inside connect()";
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  test::runFor(loop, 30);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_EQ(client.error, "cannot resolve nowhere.invalid: Name or service not known");
  EXPECT_EQ(clientConnections(), 0u);
}

TEST_F(ClientResolveTest, ALookupWithNoAddressAndNoReasonStillNamesTheHost) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(0), {});
  connect(loop, nameUrl("empty.test", 80), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_EQ(client.error, "cannot resolve empty.test: no address");
}

// close() and terminate() while the name is looked up: the attempt is dropped at once (the
// connection deleted at the end of the iteration), no handler ever runs, and the lookup's late
// answer goes nowhere.
class ClientClosedWhileResolving : public ClientResolveTest,
                                   public ::testing::WithParamInterface<bool> {};

TEST_P(ClientClosedWhileResolving, DropsTheAttemptAndItsLateAnswer) {
  const bool terminate = GetParam();
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(150), {{loopback(app->port())}, {}});
  WebSocket* ws = connect(loop, nameUrl("slow.test", app->port()), c);
  ASSERT_NE(ws, nullptr);
  ASSERT_TRUE(test::runUntil(loop, [&] { return record->running.load(); }));
  EXPECT_FALSE(ws->isOpen());
  if (terminate)
    ws->terminate();
  else
    ws->close();
  EXPECT_TRUE(ws->isClosed());
  test::runOnce(loop);
  EXPECT_EQ(clientConnections(), 0u) << "the connection outlived its close";
  // The answer comes, and is dropped.
  ASSERT_TRUE(test::runUntil(loop, [&] { return record->answered.load(); }));
  test::runFor(loop, 100);
  EXPECT_TRUE(client.events.empty()) << client.events.front();
  EXPECT_EQ(server.opens, 0);
}

INSTANTIATE_TEST_SUITE_P(CloseOrTerminate, ClientClosedWhileResolving, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return std::string(param.param ? "terminate" : "close");
                         });

TEST_F(ClientResolveTest, ALiteralAddressIsNeverLookedUp) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(0), {});
  WebSocket* ws = connect(loop, url("/echo"), c);  // ws://127.0.0.1:PORT/echo
  ASSERT_NE(ws, nullptr);
  EXPECT_TRUE(ws->hasDescriptor()) << "a literal address connects inside connect()";
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens > 0 || client.errors > 0; }));
  EXPECT_EQ(client.events, std::vector<std::string>{"open"}) << client.error;
  EXPECT_EQ(record->calls, 0);
}

TEST_F(ClientResolveTest, ANamesAddressesAreTriedInTurnWhileTheyRefuse) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  // Two refusing addresses before the server's (as ::1 before 127.0.0.1 for "localhost" on a
  // server that listens on IPv4 only).
  c.lookup =
      slowLookup(record, std::chrono::milliseconds(0),
                 {{loopback(test::unusedLoopbackPort()), loopback(test::unusedLoopbackPort()), loopback(app->port())}, {}});
  connect(loop, nameUrl("several.test", app->port()), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.opens > 0 || client.errors > 0; }));
  EXPECT_EQ(client.events, std::vector<std::string>{"open"}) << client.error;
  EXPECT_EQ(server.opens, 1);
}

TEST_F(ClientResolveTest, WhenEveryAddressRefusesThatIsOneError) {
  auto record = std::make_shared<LookupRecord>();
  ClientBehavior c = recordingClient();
  c.lookup = slowLookup(record, std::chrono::milliseconds(0),
                        {{loopback(test::unusedLoopbackPort()), loopback(test::unusedLoopbackPort())}, {}});
  connect(loop, nameUrl("refused.test", 80), c);
  ASSERT_TRUE(test::runUntil(loop, [&] { return client.errors > 0; }));
  test::runFor(loop, 30);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_EQ(client.error, "connection failed: Connection refused");
  EXPECT_EQ(clientConnections(), 0u);
}

TEST_F(ClientResolveTest, TheHandshakeTimeoutCoversALookupThatNeverAnswers) {
  auto gate = std::make_shared<Gate>();
  ClientBehavior c = recordingClient();
  c.handshakeTimeoutSeconds = 1;
  c.lookup = [gate, port = app->port()](const std::string&, uint16_t) {
    std::unique_lock lock(gate->mutex);
    gate->opened.wait_for(lock, std::chrono::seconds(30), [&] { return gate->open; });
    return net::Resolution{{loopback(port)}, {}};
  };
  connect(loop, nameUrl("hung.test", app->port()), c);
  ASSERT_TRUE(test::runUntil(
      loop, [&] { return client.errors > 0; }, 5000));
  gate->release();
  test::runFor(loop, 50);
  EXPECT_EQ(client.events, std::vector<std::string>{"error"});
  EXPECT_EQ(client.error, "cannot resolve hung.test: no answer within 1 s");
  EXPECT_EQ(server.opens, 0);
}

// Not about names, but the same rule: before open, terminate() drops the attempt. (It used to
// end the connection as if it had opened, and run a close handler it did not have yet.)
TEST_F(ClientResolveTest, TerminateWhileTheTcpConnectIsUnderwayRunsNoHandler) {
  ClientBehavior c = recordingClient();
  WebSocket* ws = connect(loop, url("/echo"), c);
  ASSERT_NE(ws, nullptr);
  ws->terminate();
  test::runFor(loop, 50);
  EXPECT_TRUE(client.events.empty()) << client.events.front();
  EXPECT_EQ(clientConnections(), 0u);
}

}  // namespace
}  // namespace duplex
