// The Redis engine's presence (redis_engine.h): a hash per channel, client id ->
// "expiryMs user". Joins go through a script that enforces the namespace's maximum (and drops
// expired members on the way); this node rewrites its own members' expiries every
// presenceTtlMs / 3, so those of a node that died are skipped by reads, and deleted by the next
// join, once their expiry passed.
#include <charconv>
#include <chrono>

#include "hub/redis_engine.h"
#include "hub/redis_keys.h"
#include "hub/redis_scripts.h"

namespace duplex::hub {
namespace {

int64_t wallClockMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// "expiryMs user" -> expiry, user.
bool parseMember(std::string_view value, int64_t& expiry, std::string_view& user) {
  size_t space = value.find(' ');
  if (space == std::string_view::npos) return false;
  auto [end, ec] = std::from_chars(value.data(), value.data() + space, expiry);
  if (ec != std::errc() || end != value.data() + space) return false;
  user = value.substr(space + 1);
  return true;
}

}  // namespace

std::string RedisEngine::memberValue(std::string_view user) const {
  std::string value = std::to_string(wallClockMs() + options_.presenceTtlMs);
  value += ' ';
  value.append(user);
  return value;
}

void RedisEngine::join(net::Loop& from, std::string_view channel, PresenceMember member, size_t max,
                       Done<bool> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, name = std::string(channel), member = std::move(member), max,
                    done = std::move(done)]() mutable {
    std::vector<std::string> args{member.client, memberValue(member.user), std::to_string(max),
                                  std::to_string(wallClockMs()),
                                  std::to_string(options_.presenceTtlMs)};
    joinScript().run(*shardFor(name).connection, {redis_keys::presence(name)}, std::move(args),
                     [this, &caller, name, member = std::move(member),
                      done = std::move(done)](redis::Result&& reply) mutable {
                       // The interface has no error here: a Redis that did not answer counts as
                       // full.
                       const bool joined =
                           reply.ok && !reply.reply.isError() && reply.reply.integer == 1;
                       if (joined) members_[name][member.client] = member.user;
                       toLoop(caller, [done = std::move(done), joined]() mutable {
                         bool answer = joined;
                         done(std::move(answer));
                       });
                     });
  });
}

void RedisEngine::leave(std::string_view channel, std::string_view client) {
  net::Loop* loop = net::Loop::current();
  if (!loop) return;
  toEngine(partOf(*loop), [this, name = std::string(channel), client = std::string(client)] {
    auto it = members_.find(name);
    if (it != members_.end() && (it->second.erase(client), it->second.empty())) {
      members_.erase(it);
    }
    // If Redis misses this, the member's expiry removes it.
    shardFor(name).connection->command({"HDEL", redis_keys::presence(name), client},
                                       [](redis::Result&&) {});
  });
}

void RedisEngine::presence(net::Loop& from, std::string_view channel,
                           Done<std::vector<PresenceMember>> done) {
  LoopPart& caller = partOf(from);
  toEngine(caller, [this, &caller, name = std::string(channel), done = std::move(done)]() mutable {
    shardFor(name).connection->command(
        {"HGETALL", redis_keys::presence(name)},
        [this, &caller, done = std::move(done)](redis::Result&& reply) mutable {
          std::vector<PresenceMember> members;
          if (reply.ok && reply.reply.type == redis::Reply::Type::Array) {
            const int64_t now = wallClockMs();
            const auto& items = reply.reply.elements;
            for (size_t i = 0; i + 1 < items.size(); i += 2) {
              int64_t expiry = 0;
              std::string_view user;
              if (!parseMember(items[i + 1].string, expiry, user) || expiry < now) continue;
              members.push_back({items[i].string, std::string(user)});
            }
          }
          toLoop(caller, [done = std::move(done), members = std::move(members)]() mutable {
            done(std::move(members));
          });
        });
  });
}

void RedisEngine::refreshPresence() {
  for (const auto& [name, clients] : members_) {
    if (clients.empty()) continue;
    std::vector<std::string> command{"HSET", redis_keys::presence(name)};
    for (const auto& [client, user] : clients) {
      command.push_back(client);
      command.push_back(memberValue(user));
    }
    redis::Connection& connection = *shardFor(name).connection;
    connection.command(std::move(command), [](redis::Result&&) {});
    connection.command(
        {"PEXPIRE", redis_keys::presence(name), std::to_string(options_.presenceTtlMs)},
        [](redis::Result&&) {});
  }
}

}  // namespace duplex::hub
