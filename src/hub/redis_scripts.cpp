#include "hub/redis_scripts.h"

#include <openssl/sha.h>

#include <cstdio>

namespace duplex::hub {
namespace {

constexpr std::string_view kPublish = R"lua(
local meta, stream, idem = KEYS[1], KEYS[2], KEYS[3]
if idem then
  local seen = redis.call('GET', idem)
  if seen then
    local space = string.find(seen, ' ', 1, true)
    return {1, tonumber(string.sub(seen, 1, space - 1)), string.sub(seen, space + 1)}
  end
end
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  epoch = ARGV[6]
  redis.call('HSET', meta, 'epoch', epoch)
end
local offset = redis.call('HINCRBY', meta, 'top', 1)
local id = string.format('%d-0', offset)
redis.call('XADD', stream, 'MAXLEN', ARGV[2], id, 'd', ARGV[1], 't', ARGV[5])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', stream, ARGV[3]) end
if idem then redis.call('SET', idem, string.format('%d ', offset) .. epoch, 'PX', ARGV[4]) end
redis.call('PUBLISH', ARGV[7],
           'p' .. ARGV[8] .. ' ' .. epoch .. ' ' .. string.format('%d ', offset) .. ARGV[1])
return {0, offset, epoch}
)lua";

constexpr std::string_view kRead = R"lua(
local meta, stream = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch then
  if ARGV[2] == '1' then
    epoch = ARGV[3]
    redis.call('HSET', meta, 'epoch', epoch, 'top', 0)
  else
    epoch = ''
  end
end
local top = tonumber(redis.call('HGET', meta, 'top') or '0')
local mode = ARGV[1]
if mode == 'p' then return {epoch, top, 1, {}} end
local limit = tonumber(ARGV[4])
local cutoff = tonumber(ARGV[7])
local out = {}
local function offsetOf(id) return tonumber(string.match(id, '^(%d+)')) end
local function field(entry, name)
  local f = entry[2]
  for i = 1, #f, 2 do if f[i] == name then return f[i + 1] end end
  return nil
end
if mode == 'l' then
  if limit == 0 then return {epoch, top, 1, out} end
  local entries = redis.call('XREVRANGE', stream, '+', '-', 'COUNT', limit)
  for i = #entries, 1, -1 do
    local e = entries[i]
    if tonumber(field(e, 't') or '0') >= cutoff then
      out[#out + 1] = offsetOf(e[1])
      out[#out + 1] = field(e, 'd')
    end
  end
  return {epoch, top, 1, out}
end
local after = tonumber(ARGV[5])
local given = ARGV[6]
if given ~= epoch and not (given == '' and after == 0) then return {epoch, top, 0, out} end
if after > top then return {epoch, top, 0, out} end
if after == top then return {epoch, top, 1, out} end
if limit == 0 then return {epoch, top, 1, out} end
local entries = redis.call('XRANGE', stream, string.format('(%d-0', after), '+', 'COUNT', limit)
if #entries == 0 or offsetOf(entries[1][1]) ~= after + 1 or
   tonumber(field(entries[1], 't') or '0') < cutoff then
  return {epoch, top, 0, out}
end
for i = 1, #entries do
  out[#out + 1] = offsetOf(entries[i][1])
  out[#out + 1] = field(entries[i], 'd')
end
return {epoch, top, 1, out}
)lua";

constexpr std::string_view kJoin = R"lua(
local h = KEYS[1]
local now = tonumber(ARGV[4])
if redis.call('HEXISTS', h, ARGV[1]) == 0 then
  local all = redis.call('HGETALL', h)
  local live = 0
  for i = 1, #all, 2 do
    local expiry = tonumber(string.match(all[i + 1], '^(%d+)'))
    if expiry and expiry < now then redis.call('HDEL', h, all[i]) else live = live + 1 end
  end
  if live >= tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', h, ARGV[1], ARGV[2])
redis.call('PEXPIRE', h, ARGV[5])
return 1
)lua";

}  // namespace

RedisScript::RedisScript(std::string_view text) : source(text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  sha1.assign(hex, 2 * SHA_DIGEST_LENGTH);
}

void RedisScript::run(redis::Connection& connection, std::vector<std::string> keys,
                      std::vector<std::string> args, redis::Connection::Callback done) const {
  std::vector<std::string> command;
  command.reserve(3 + keys.size() + args.size());
  command.emplace_back("EVALSHA");
  command.push_back(sha1);
  command.push_back(std::to_string(keys.size()));
  for (auto& k : keys) command.push_back(std::move(k));
  for (auto& a : args) command.push_back(std::move(a));
  connection.command(command, [this, &connection, command,
                               done = std::move(done)](redis::Result&& result) mutable {
    if (result.ok && result.reply.isError() && result.reply.string.starts_with("NOSCRIPT")) {
      command[0] = "EVAL";
      command[1] = std::string(source);
      connection.command(std::move(command), std::move(done));
      return;
    }
    done(std::move(result));
  });
}

const RedisScript& publishScript() {
  static const RedisScript script(kPublish);
  return script;
}
const RedisScript& readScript() {
  static const RedisScript script(kRead);
  return script;
}
const RedisScript& joinScript() {
  static const RedisScript script(kJoin);
  return script;
}

}  // namespace duplex::hub
