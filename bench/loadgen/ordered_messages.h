#pragma once
// The messages of the echo and fan-out runs: the run's type (text or binary) and payload kind,
// and the check every received message must pass: the right type, a payload PayloadCodec wrote,
// and the next message, in order, of the one connection the receiver hears from. A server that
// drops, reorders, corrupts or misroutes a message fails the run here.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "options.h"
#include "payload.h"
#include "protocol/opcode.h"

namespace bench {

class OrderedMessages {
 public:
  // `receivers`: connection ids 0 .. receivers-1 may receive.
  OrderedMessages(const Options& options, uint32_t receivers);

  const PayloadCodec& codec() const { return codec_; }
  duplex::Opcode opcode() const { return opcode_; }

  // Whether a message connection `receiver` got is the next one of connection `sender`; sets
  // its sequence number. Otherwise false, with `why` set (naming the receiver).
  bool isNext(uint32_t receiver, uint32_t sender, duplex::Opcode opcode, std::string_view payload,
              uint32_t& seq, std::string& why);

 private:
  PayloadCodec codec_;
  duplex::Opcode opcode_;
  std::vector<uint32_t> nextReceive_;  // per receiver: the sequence number it must get next
};

}  // namespace bench
