// Micro-benchmarks of the protocol core's hot paths: masking, UTF-8 validation and frame
// parsing. Run: build/<dir>/tests/protocol/protocol_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "protocol/frame.h"
#include "protocol/mask.h"
#include "protocol/receiver.h"
#include "protocol/utf8.h"

namespace {

using namespace duplex;
using namespace duplex::protocol;

const uint8_t kKey[4] = {0x37, 0xfa, 0x21, 0x3d};

void BM_ApplyMask(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)), 0x5a);
  for (auto _ : state) {
    applyMask(data.data(), data.size(), kKey);
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ApplyMask)->Arg(20)->Arg(1024)->Arg(64 * 1024);

// The same, at an odd address and key phase, to see what misalignment costs.
void BM_ApplyMaskUnaligned(benchmark::State& state) {
  std::vector<uint8_t> data(static_cast<size_t>(state.range(0)) + 1, 0x5a);
  for (auto _ : state) {
    applyMask(data.data() + 1, data.size() - 1, kKey, 3);
    benchmark::DoNotOptimize(data.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_ApplyMaskUnaligned)->Arg(64 * 1024);

std::string asciiText(size_t size) {
  std::string s;
  while (s.size() < size) s += "The quick brown fox jumps over the lazy dog. ";
  s.resize(size);
  return s;
}

// Mostly non-ASCII: Latin, Greek, CJK and emoji, so every DFA path is exercised.
std::string mixedText(size_t size) {
  std::string s;
  while (s.size() + 32 < size)
    s += "caf\xc3\xa9 \xce\xba\xe1\xbd\xb9\xcf\x83 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 ";
  while (s.size() < size) s += 'x';
  return s;
}

void BM_Utf8Ascii(benchmark::State& state) {
  const std::string text = asciiText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(isValidUtf8(text));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Utf8Ascii)->Arg(20)->Arg(64 * 1024);

void BM_Utf8Mixed(benchmark::State& state) {
  const std::string text = mixedText(static_cast<size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(isValidUtf8(text));
  state.SetBytesProcessed(int64_t(state.iterations()) * state.range(0));
}
BENCHMARK(BM_Utf8Mixed)->Arg(64 * 1024);

// A masked text frame as a client sends it, parsed by a server Receiver. The frame is copied
// back into the input each round because the Receiver unmasks in place.
void receiveFrames(benchmark::State& state, Opcode opcode) {
  const size_t size = static_cast<size_t>(state.range(0));
  const std::string payload = asciiText(size);
  FrameHeader header;
  header.opcode = opcode;
  header.maskKey = kKey;
  const std::string frame = buildFrame(header, payload);
  std::vector<uint8_t> buffer(frame.begin(), frame.end());
  ReceiverConfig config;
  Receiver receiver;
  for (auto _ : state) {
    std::memcpy(buffer.data(), frame.data(), frame.size());
    std::span<uint8_t> input(buffer);
    Event e = receiver.next(input, config);
    benchmark::DoNotOptimize(e.payload.data());
    if (e.kind != Event::Kind::Message) state.SkipWithError("no message");
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(frame.size()));
}

void BM_ReceiverText(benchmark::State& state) {
  receiveFrames(state, Opcode::Text);
}
BENCHMARK(BM_ReceiverText)->Arg(20)->Arg(64 * 1024);

void BM_ReceiverBinary(benchmark::State& state) {
  receiveFrames(state, Opcode::Binary);
}
BENCHMARK(BM_ReceiverBinary)->Arg(20)->Arg(64 * 1024);

// The slow path: a 64 KiB frame arriving in 1500-byte reads (one Ethernet MTU each), copied
// into the Receiver's spill.
void BM_ReceiverChunked(benchmark::State& state) {
  const std::string payload = asciiText(64 * 1024);
  FrameHeader header;
  header.opcode = Opcode::Text;
  header.maskKey = kKey;
  const std::string frame = buildFrame(header, payload);
  std::vector<uint8_t> buffer(frame.size());
  ReceiverConfig config;
  Receiver receiver;
  for (auto _ : state) {
    std::memcpy(buffer.data(), frame.data(), frame.size());
    size_t messages = 0;
    for (size_t pos = 0; pos < buffer.size(); pos += 1500) {
      std::span<uint8_t> input(buffer.data() + pos, std::min<size_t>(1500, buffer.size() - pos));
      for (;;) {
        Event e = receiver.next(input, config);
        if (e.kind == Event::Kind::NeedMore) break;
        benchmark::DoNotOptimize(e.payload.data());
        ++messages;
      }
    }
    if (messages != 1) state.SkipWithError("expected one message");
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(frame.size()));
}
BENCHMARK(BM_ReceiverChunked);

}  // namespace

BENCHMARK_MAIN();
