// One test per bug the fuzz targets found in src/ (docs/fuzzing.md: how to add one). Each
// feeds the input that found it to the API directly, so that the test says what went wrong
// without the fuzz harness; the minimised input itself, when the harness reproduces it, is
// also kept in tests/fuzz/regressions/<target>/ for replay_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <span>

#include "protocol/receiver.h"

namespace duplex::protocol {
namespace {

// fuzz/frame_stream, 2026-11: a close frame whose header and first payload byte have arrived,
// then a read of nothing passed as a default (null) span. Receiver::next goes on to collect the
// control payload and calls memcpy(control, input.data() = nullptr, 0): undefined behaviour
// (memcpy's source is declared nonnull), reported by UBSan at receiver.cpp, "4. Payload bytes"
// ("null pointer passed as argument 2"). This test fails in the ASan+UBSan tree until the
// Receiver stops copying (or returns NeedMore) when the input is empty.
TEST(FuzzRegression, EmptyNullSpanWhileControlPayloadIsPending) {
  Receiver receiver;
  const ReceiverConfig config;  // server: frames are masked
  // Close 1000, masked with 37 fa 21 3d: only the first of its two payload bytes is here.
  uint8_t first[] = {0x88, 0x82, 0x37, 0xfa, 0x21, 0x3d, 0x03 ^ 0x37};
  std::span<uint8_t> input(first);
  EXPECT_EQ(receiver.next(input, config).kind, Event::Kind::NeedMore);

  std::span<uint8_t> none;  // data() == nullptr
  EXPECT_EQ(receiver.next(none, config).kind, Event::Kind::NeedMore);

  uint8_t last[] = {0xe8 ^ 0xfa};
  std::span<uint8_t> rest(last);
  const Event close = receiver.next(rest, config);
  EXPECT_EQ(close.kind, Event::Kind::Close);
  EXPECT_EQ(close.code, 1000);
}

// The same empty read in the other states that keep a partial frame: inside a data frame's
// payload, and inside a header. These do not reach memcpy today; kept so they never do.
TEST(FuzzRegression, EmptyNullSpanInsideDataPayloadAndHeader) {
  Receiver receiver;
  const ReceiverConfig config;
  uint8_t partialText[] = {0x81, 0x82, 0x37, 0xfa, 0x21, 0x3d, 'o' ^ 0x37};
  std::span<uint8_t> input(partialText);
  EXPECT_EQ(receiver.next(input, config).kind, Event::Kind::NeedMore);
  std::span<uint8_t> none;
  EXPECT_EQ(receiver.next(none, config).kind, Event::Kind::NeedMore);
  uint8_t endOfText[] = {'k' ^ 0xfa, 0x89};  // ...and the first byte of a ping's header
  std::span<uint8_t> rest(endOfText);
  const Event message = receiver.next(rest, config);
  ASSERT_EQ(message.kind, Event::Kind::Message);
  EXPECT_EQ(message.payload, "ok");
  EXPECT_EQ(receiver.next(rest, config).kind, Event::Kind::NeedMore);
  EXPECT_EQ(receiver.next(none, config).kind, Event::Kind::NeedMore);
  uint8_t pingRest[] = {0x80, 1, 2, 3, 4};
  std::span<uint8_t> ping(pingRest);
  EXPECT_EQ(receiver.next(ping, config).kind, Event::Kind::Ping);
}

}  // namespace
}  // namespace duplex::protocol
