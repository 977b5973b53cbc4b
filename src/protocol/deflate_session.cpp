#include "deflate_session.h"

namespace duplex::protocol {

DeflaterSettings sendSettings(const DeflateParams& agreed, Role role,
                              const PerMessageDeflateConfig& config) {
  DeflaterSettings settings;
  bool server = role == Role::Server;
  settings.windowBits = server ? agreed.serverMaxWindowBits : agreed.clientMaxWindowBits;
  settings.noContextTakeover =
      server ? agreed.serverNoContextTakeover : agreed.clientNoContextTakeover;
  settings.level = config.level;
  settings.memLevel = config.memLevel;
  return settings;
}

InflaterSettings receiveSettings(const DeflateParams& agreed, Role role) {
  InflaterSettings settings;
  bool server = role == Role::Server;
  settings.windowBits = server ? agreed.clientMaxWindowBits : agreed.serverMaxWindowBits;
  settings.noContextTakeover =
      server ? agreed.clientNoContextTakeover : agreed.serverNoContextTakeover;
  return settings;
}

size_t minMessageSizeFor(const DeflaterSettings& send, const PerMessageDeflateConfig& config) {
  return config.minMessageSize.value_or(send.noContextTakeover ? kMinMessageSizeAlone
                                                               : kMinMessageSizeWithTakeover);
}

PerMessageDeflate::PerMessageDeflate(const DeflateParams& agreed, Role role,
                                     const PerMessageDeflateConfig& config)
    : deflater_(sendSettings(agreed, role, config)),
      inflater_(receiveSettings(agreed, role)),
      minMessageSize_(minMessageSizeFor(deflater_.settings(), config)) {}

bool PerMessageDeflate::compress(std::string_view message, std::string& out) {
  if (message.size() < minMessageSize_) return false;
  size_t start = out.size();
  if (!deflater_.compress(message, out)) return false;  // no memory: send it plain
  if (deflater_.settings().noContextTakeover && out.size() - start >= message.size()) {
    out.resize(start);
    return false;
  }
  return true;
}

void PerMessageDeflate::releaseIdle() {
  deflater_.release();
  inflater_.release();
}

}  // namespace duplex::protocol
