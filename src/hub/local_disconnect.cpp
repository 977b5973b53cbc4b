#include "hub/local_disconnect.h"

#include <utility>

#include "net/every_loop.h"

namespace duplex::hub {

void LocalDisconnect::set(UserDisconnector disconnector) {
  auto shared = std::make_shared<const UserDisconnector>(std::move(disconnector));
  std::lock_guard lock(mutex_);
  disconnector_ = std::move(shared);
}

std::shared_ptr<const UserDisconnector> LocalDisconnect::get() const {
  std::lock_guard lock(mutex_);
  return disconnector_;
}

void LocalDisconnect::onLoops(const std::vector<net::Loop*>& loops, std::string user,
                              std::function<void(uint64_t)> done) const {
  net::askEveryLoop<uint64_t>(
      loops,
      [disconnector = get(), user = std::move(user)](net::Loop& loop) -> uint64_t {
        return disconnector ? (*disconnector)(loop, user) : 0;
      },
      [done = std::move(done)](std::vector<uint64_t> counts) {
        uint64_t sum = 0;
        for (uint64_t n : counts) sum += n;
        done(sum);
      });
}

}  // namespace duplex::hub
