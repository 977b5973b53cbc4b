#include "ordered_messages.h"

namespace bench {

OrderedMessages::OrderedMessages(const Options& options, uint32_t receivers)
    : codec_(options.bytes, options.payload),
      opcode_(options.binary ? duplex::Opcode::Binary : duplex::Opcode::Text),
      nextReceive_(receivers, 0) {}

bool OrderedMessages::isNext(uint32_t receiver, uint32_t sender, duplex::Opcode opcode,
                             std::string_view payload, uint32_t& seq, std::string& why) {
  const std::string who = "connection " + std::to_string(receiver) + ": ";
  if (opcode != opcode_) {
    why = who + "got a message of the wrong type";
    return false;
  }
  uint32_t from = 0;
  if (!codec_.read(payload, from, seq, why)) {
    why = who + why;
    return false;
  }
  const uint32_t expected = nextReceive_[receiver]++;
  if (from != sender || seq != expected) {
    why = who + "expected message " + std::to_string(expected) + " of connection " +
          std::to_string(sender) + ", got message " + std::to_string(seq) + " of connection " +
          std::to_string(from);
    return false;
  }
  return true;
}

}  // namespace bench
