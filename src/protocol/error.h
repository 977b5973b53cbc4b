#pragma once
// Why a WebSocket connection failed, as named values (the way Beast's websocket::error names
// them): every rule a peer can break, each with the close code it earns (RFC 6455 7.4.1), and
// the ways a connection ends without a closing handshake (1006). A close handler reads it with
// WebSocket::error(); logs print errorName(). A clean close (either side sent a close frame
// and the other answered) has Error::None.
#include <cstdint>
#include <string_view>

namespace duplex::protocol {

enum class Error : uint8_t {
  None = 0,
  // Framing (1002 ProtocolError unless said otherwise), found by the Receiver.
  ReservedBitsSet,           // RSV2 or RSV3 without an extension that defines them
  BadOpcode,                 // a reserved opcode
  CompressionNotNegotiated,  // RSV1 without permessage-deflate
  CompressedContinuation,    // RSV1 on a continuation frame (RFC 7692 6.1)
  CompressedControl,         // RSV1 on a control frame
  FragmentedControl,         // RFC 6455 5.5: control frames must not be fragmented
  ControlTooBig,             // a control frame's payload over 125 bytes
  UnmaskedFrameFromClient,   // RFC 6455 5.1
  MaskedFrameFromServer,     // RFC 6455 5.1
  NonMinimalLength,          // RFC 6455 5.2: the shortest length encoding is required
  LengthTopBitSet,           // a 64-bit length with its most significant bit set
  UnexpectedContinuation,    // a continuation frame with no message to continue
  MessageNotFinished,        // a new data frame while a fragmented message is open
  FrameTooBig,               // 1009: over maxFrameSize
  MessageTooBig,             // 1009: over maxMessageSize (on the wire, or once inflated)
  InvalidUtf8,               // 1007: text that is not UTF-8 (checked after inflating)
  TruncatedUtf8,             // 1007: text ending inside a UTF-8 sequence
  CloseOneByte,              // a close payload of one byte
  InvalidCloseCode,          // a close code that may not be sent (1005, 1006, 999, ...)
  InvalidCloseReason,        // 1007: a close reason that is not UTF-8
  // permessage-deflate (RFC 7692), found by the connection after the Receiver.
  CorruptCompressedData,  // 1007: the message does not inflate
  InflateNoMemory,        // 1011: zlib could not allocate
  // Endings without a closing handshake: 1006, never sent on the wire.
  ConnectionLost,  // the transport ended before a close frame arrived
  CloseTimeout,    // the peer did not answer our close frame (or close TCP) in time
  SendQueueFull,   // the peer stopped reading and the queue passed maxBackpressure
  Terminated,      // the application dropped the connection (WebSocket::terminate)
};

// "MaskedFrameFromServer", ... : stable, for logs and tests.
std::string_view errorName(Error error);
// A short sentence, fit for a close frame's reason (at most 123 bytes): "server frame masked".
std::string_view errorMessage(Error error);
// The close code the error earns: 1002, 1007, 1009, 1011, or 1006 for the endings (which
// are never sent); 1000 for None.
uint16_t closeCodeFor(Error error);

}  // namespace duplex::protocol
