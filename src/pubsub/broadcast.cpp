#include "pubsub/broadcast.h"

#include <cstring>
#include <string>

#include "protocol/frame.h"
#include "server/server_connection.h"

namespace duplex::pubsub {
namespace {

// A frame in a chunk of its own, released by the caller once every connection queued it.
SharedFrame buildFrame(net::Loop& loop, std::string_view payload, Opcode opcode, bool compressed) {
  protocol::FrameHeader header;
  header.opcode = opcode;
  header.rsv1 = compressed;  // RFC 7692 6
  header.payloadSize = payload.size();
  size_t size = protocol::frameHeaderSize(payload.size(), false) + payload.size();
  net::Chunk* chunk = loop.buffers().acquire(size);
  size_t headerSize = protocol::writeFrameHeader(chunk->bytes(), header);
  if (!payload.empty()) std::memcpy(chunk->bytes() + headerSize, payload.data(), payload.size());
  chunk->used = static_cast<uint32_t>(size);
  return {chunk, 0, static_cast<uint32_t>(size)};
}

}  // namespace

size_t broadcast(net::Loop& loop, std::span<WebSocket* const> connections, std::string_view data,
                 Opcode opcode, size_t slowBytes) {
  SharedFrame plain;
  SharedFrame deflated;
  const Compression* deflatedFor = nullptr;
  bool deflatedIsCompressed = false;
  std::string compressed;
  size_t queued = 0;
  for (WebSocket* ws : connections) {
    if (!ws || !ws->isOpen() || ws->stalledAmount() > slowBytes) continue;
    const SharedFrame* frame = nullptr;
    if (!dynamic_cast<const ServerConnection*>(ws)) {
      // Masked per frame (RFC 6455 5.3): nothing to share.
    } else if (Compression* compression = ws->compression()) {
      if (compression->sendsAlone()) {
        if (!deflatedFor) {
          deflatedFor = compression;
          deflatedIsCompressed = compression->compress(data, compressed);
          if (deflatedIsCompressed) deflated = buildFrame(loop, compressed, opcode, true);
        }
        if (compression->sameSendSettings(*deflatedFor)) {
          if (deflatedIsCompressed) {
            frame = &deflated;
          } else {
            if (!plain.chunk) plain = buildFrame(loop, data, opcode, false);
            frame = &plain;
          }
        }
      }
    } else {
      if (!plain.chunk) plain = buildFrame(loop, data, opcode, false);
      frame = &plain;
    }
    if (frame ? ws->sendShared(*frame) : ws->send(data, opcode)) ++queued;
  }
  for (const SharedFrame* built : {&plain, &deflated}) {
    if (built->chunk) loop.buffers().release(built->chunk);
  }
  return queued;
}

}  // namespace duplex::pubsub
