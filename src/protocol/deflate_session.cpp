#include "deflate_session.h"

#include <map>
#include <tuple>

namespace duplex::protocol {
namespace {

// The thread's shared streams for messages that stand alone. A loop runs on one thread and
// compresses one message at a time, so one stream per setting serves every connection.
Deflater& sharedDeflater(const DeflaterSettings& settings) {
  thread_local std::map<std::tuple<int, int, int, bool>, std::unique_ptr<Deflater>> streams;
  auto& slot = streams[{settings.windowBits, settings.level, settings.memLevel, settings.zlibOnly}];
  if (!slot) slot = std::make_unique<Deflater>(settings);
  return *slot;
}

Inflater& sharedInflater(const InflaterSettings& settings, bool fresh) {
  thread_local std::map<int, std::unique_ptr<Inflater>> streams;
  auto& slot = streams[settings.windowBits];
  // A failed Inflater stays failed (its verdict is final for its own connection): one peer's
  // corrupt message must not poison the stream for everyone else.
  if (!slot || fresh) slot = std::make_unique<Inflater>(settings);
  return *slot;
}

}  // namespace

DeflaterSettings sendSettings(const DeflateParams& agreed, Role role,
                              const PerMessageDeflateConfig& config) {
  DeflaterSettings settings;
  bool server = role == Role::Server;
  settings.windowBits = server ? agreed.serverMaxWindowBits : agreed.clientMaxWindowBits;
  settings.noContextTakeover =
      server ? agreed.serverNoContextTakeover : agreed.clientNoContextTakeover;
  settings.level = config.level;
  settings.memLevel = config.memLevel;
  settings.zlibOnly = config.zlibOnly;
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
    : send_(protocol::sendSettings(agreed, role, config)),
      receive_(protocol::receiveSettings(agreed, role)),
      minMessageSize_(minMessageSizeFor(send_, config)) {
  if (!send_.noContextTakeover) ownDeflater_ = std::make_unique<Deflater>(send_);
  if (!receive_.noContextTakeover) ownInflater_ = std::make_unique<Inflater>(receive_);
}

PerMessageDeflate::~PerMessageDeflate() = default;

bool PerMessageDeflate::compress(std::string_view message, std::string& out) {
  if (message.size() < minMessageSize_) return false;
  Deflater& deflater = ownDeflater_ ? *ownDeflater_ : sharedDeflater(send_);
  size_t start = out.size();
  if (!deflater.compress(message, out)) return false;  // no memory: it goes plain
  // Skipping a compressed message is only safe when it did not enter a shared history.
  if (!ownDeflater_ && out.size() - start >= message.size()) {
    out.resize(start);
    return false;
  }
  return true;
}

InflateStatus PerMessageDeflate::inflate(std::string_view payload, std::string& out,
                                         size_t maxSize) {
  Inflater& inflater = ownInflater_ ? *ownInflater_ : sharedInflater(receive_, false);
  InflateStatus status = inflater.inflateMessage(payload, out, maxSize);
  if (status != InflateStatus::Ok) {
    error_ = inflater.error();
    if (!ownInflater_) sharedInflater(receive_, true);  // replace the failed shared stream
  }
  return status;
}

size_t PerMessageDeflate::memoryBytes() const {
  return (ownDeflater_ ? ownDeflater_->memoryBytes() : 0) +
         (ownInflater_ ? ownInflater_->memoryBytes() : 0);
}

}  // namespace duplex::protocol
