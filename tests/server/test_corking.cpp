// Corking and its diagnostic switch (AppOptions::cork): frames sent during one loop iteration
// leave in one syscall, and with the switch off each leaves in its own, with the same bytes in
// the same order either way. The segment count tells the two apart (loopback, TCP_NODELAY: one
// send is one segment), so the switch cannot silently stop doing anything.
#include <string>
#include <vector>

#include "server_fixture.h"
#include "tcp_segments.h"

namespace duplex::test {
namespace {

class CorkingTest : public ServerFixture, public ::testing::WithParamInterface<bool> {};

TEST_P(CorkingTest, FiveFramesFromOneHandlerArriveWholeAndInOrder) {
  const bool cork = GetParam();
  AppOptions o = options();
  o.cork = cork;
  App& a = makeApp(o);
  WebSocketBehavior b = recording();
  b.message = [](WebSocket& ws, std::string_view data, Opcode) {
    for (char c : std::string("abcde")) ws.send(std::string(data) + c);
  };
  a.ws("/c", std::move(b));
  RawPeer peer(listen());
  ASSERT_TRUE(rawUpgrade(peer, "/c"));
  EXPECT_EQ(loop.corking(), cork);

  const int64_t before = dataSegmentsIn(peer.fd());
  ASSERT_TRUE(peer.send(clientFrame(Opcode::Text, "x")));
  std::vector<Frame> frames;
  ASSERT_TRUE(readFrames(peer, frames, [](const auto& f) { return f.size() >= 5; }));
  ASSERT_EQ(frames.size(), 5u);
  const char* expected[] = {"xa", "xb", "xc", "xd", "xe"};
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(frames[i].opcode, 0x1);
    EXPECT_EQ(frames[i].payload, expected[i]);
  }
  const int64_t after = dataSegmentsIn(peer.fd());
  if (before < 0 || after < 0) GTEST_SKIP() << "the kernel does not report tcpi_data_segs_in";
  if (cork) {
    EXPECT_EQ(after - before, 1) << "corked: the five frames leave in one send";
  } else {
    EXPECT_GT(after - before, 1) << "uncorked: each frame leaves in its own send";
  }
}

INSTANTIATE_TEST_SUITE_P(CorkOnAndOff, CorkingTest, ::testing::Bool(),
                         [](const auto& param) { return param.param ? "Corked" : "Uncorked"; });

}  // namespace
}  // namespace duplex::test
