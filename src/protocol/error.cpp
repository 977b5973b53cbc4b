#include "protocol/error.h"

#include <iterator>

#include "protocol/close_code.h"

namespace duplex::protocol {
namespace {

struct ErrorInfo {
  std::string_view name;
  std::string_view message;
  CloseCode code;
};

// Indexed by Error. The messages go into close frames: short, and never over 123 bytes.
constexpr ErrorInfo kErrors[] = {
    {"None", "", CloseCode::Normal},
    {"ReservedBitsSet", "RSV2 or RSV3 set without an extension that defines them",
     CloseCode::ProtocolError},
    {"BadOpcode", "reserved opcode", CloseCode::ProtocolError},
    {"CompressionNotNegotiated", "RSV1 set but no compression was negotiated",
     CloseCode::ProtocolError},
    {"CompressedContinuation", "RSV1 set on a continuation frame", CloseCode::ProtocolError},
    {"CompressedControl", "RSV1 set on a control frame", CloseCode::ProtocolError},
    {"FragmentedControl", "fragmented control frame", CloseCode::ProtocolError},
    {"ControlTooBig", "control frame payload longer than 125 bytes", CloseCode::ProtocolError},
    {"UnmaskedFrameFromClient", "client frame not masked", CloseCode::ProtocolError},
    {"MaskedFrameFromServer", "server frame masked", CloseCode::ProtocolError},
    {"NonMinimalLength", "payload length not minimally encoded", CloseCode::ProtocolError},
    {"LengthTopBitSet", "64-bit payload length with the top bit set", CloseCode::ProtocolError},
    {"UnexpectedContinuation", "continuation frame without a message to continue",
     CloseCode::ProtocolError},
    {"MessageNotFinished", "new data frame while a fragmented message is open",
     CloseCode::ProtocolError},
    {"FrameTooBig", "frame too big", CloseCode::MessageTooBig},
    {"MessageTooBig", "message too big", CloseCode::MessageTooBig},
    {"InvalidUtf8", "invalid UTF-8 in text message", CloseCode::InvalidPayload},
    {"TruncatedUtf8", "text message ends inside a UTF-8 sequence", CloseCode::InvalidPayload},
    {"CloseOneByte", "close payload of 1 byte", CloseCode::ProtocolError},
    {"InvalidCloseCode", "invalid close code", CloseCode::ProtocolError},
    {"InvalidCloseReason", "close reason is not valid UTF-8", CloseCode::InvalidPayload},
    {"CorruptCompressedData", "cannot inflate message", CloseCode::InvalidPayload},
    {"InflateNoMemory", "out of memory inflating a message", CloseCode::InternalError},
    {"ConnectionLost", "connection lost without a close frame", CloseCode::Abnormal},
    {"CloseTimeout", "close timeout", CloseCode::Abnormal},
    {"SendQueueFull", "send queue over maxBackpressure", CloseCode::Abnormal},
    {"Terminated", "terminated", CloseCode::Abnormal},
};
static_assert(std::size(kErrors) == static_cast<size_t>(Error::Terminated) + 1);

const ErrorInfo& info(Error error) {
  auto index = static_cast<size_t>(error);
  return kErrors[index < std::size(kErrors) ? index : 0];
}

}  // namespace

std::string_view errorName(Error error) {
  return info(error).name;
}

std::string_view errorMessage(Error error) {
  return info(error).message;
}

uint16_t closeCodeFor(Error error) {
  return static_cast<uint16_t>(info(error).code);
}

}  // namespace duplex::protocol
