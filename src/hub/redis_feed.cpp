#include "hub/redis_feed.h"

#include <limits>

namespace duplex::hub {

bool ChannelFeed::checkEpoch(std::string_view epoch, uint64_t restartAfter) {
  if (epoch.empty() || epoch == epoch_) return true;
  if (epoch_.empty()) {
    epoch_ = std::string(epoch);
    return true;
  }
  epoch_ = std::string(epoch);
  restart(restartAfter, "the channel's history was recreated (new epoch)");
  return false;
}

void ChannelFeed::restart(uint64_t after, std::string_view why) {
  if (known_) hooks_.gap(why);
  known_ = true;
  delivered_ = after;
  confirmedTop_ = after;
  buffer_.erase(buffer_.begin(), buffer_.upper_bound(after));
  failWaiting();
}

void ChannelFeed::failWaiting() {
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [offset, action] : waiting) action(false);
}

void ChannelFeed::live(std::string_view epoch, uint64_t offset, std::string_view data) {
  if (!checkEpoch(epoch, offset - 1)) {
    buffer_.emplace(offset, std::string(data));
    return pump();
  }
  // The usual case: the next offset, nothing held back, no read that it could overtake.
  if (known_ && offset == delivered_ + 1 && buffer_.empty() &&
      (readsInFlight_ == 0 || offset <= confirmedTop_)) {
    delivered_ = offset;
    hooks_.deliver(offset, data);
    return pump();
  }
  if (!known_) {
    if (readsInFlight_ == 0 && waiting_.empty()) {
      // Attached without a read (a personal channel): start from the first message seen.
      known_ = true;
      delivered_ = offset - 1;
    }
  }
  if (!known_ || offset > delivered_) buffer_.emplace(offset, std::string(data));
  pump();
}

void ChannelFeed::stored(std::string_view epoch, uint64_t offset, std::string data, Action then) {
  if (!checkEpoch(epoch, offset - 1)) {
    buffer_.emplace(offset, std::move(data));
  } else {
    if (!known_ && readsInFlight_ == 0 && waiting_.empty()) {
      known_ = true;
      delivered_ = offset - 1;
    }
    if (!known_ || offset > delivered_) buffer_.emplace(offset, std::move(data));
  }
  if (offset > confirmedTop_) confirmedTop_ = offset;
  waiting_.emplace(offset, std::move(then));
  pump();
}

void ChannelFeed::readAnswered(std::string_view epoch, uint64_t top, Action then) {
  --readsInFlight_;
  if (!known_) {
    known_ = true;
    epoch_ = std::string(epoch);
    delivered_ = top;
    confirmedTop_ = top;
    buffer_.erase(buffer_.begin(), buffer_.upper_bound(top));
  } else {
    checkEpoch(epoch, top);
  }
  if (top > confirmedTop_) confirmedTop_ = top;
  waiting_.emplace(top, std::move(then));
  pump();
}

void ChannelFeed::readFailed() {
  --readsInFlight_;
  pump();
}

bool ChannelFeed::needsCatchUp() const {
  if (!known_ || catchUpInFlight_) return false;
  if (resyncWanted_) return true;
  const uint64_t next = delivered_ + 1;
  if (!waiting_.empty() && waiting_.begin()->first >= next && !buffer_.contains(next)) return true;
  // A hole in the live messages: the one after delivered_ is missing, later ones are here.
  return !buffer_.empty() && buffer_.begin()->first > next;
}

void ChannelFeed::caughtUp(std::string_view epoch, uint64_t top, bool recovered,
                           std::vector<Entry> entries) {
  catchUpInFlight_ = false;
  resyncWanted_ = false;
  if (top > confirmedTop_) confirmedTop_ = top;
  if (!epoch.empty() && epoch != epoch_) {
    epoch_ = std::string(epoch);
    restart(top, "the channel's history was recreated (new epoch)");
  } else if (!recovered) {
    restart(top, "publications were trimmed from the stream before this node could read them");
  } else {
    for (Entry& entry : entries) {
      if (entry.offset > delivered_) buffer_.emplace(entry.offset, std::move(entry.data));
    }
  }
  pump();
}

void ChannelFeed::catchUpFailed() {
  catchUpInFlight_ = false;
  failWaiting();
}

void ChannelFeed::pump() {
  if (!known_) return;
  for (;;) {
    while (!waiting_.empty() && waiting_.begin()->first <= delivered_) {
      auto node = waiting_.extract(waiting_.begin());
      node.mapped()(true);
    }
    // Reads in flight answer tops of at least confirmedTop_: nothing beyond may go before them.
    const uint64_t frontier =
        readsInFlight_ > 0 ? confirmedTop_ : std::numeric_limits<uint64_t>::max();
    auto next = buffer_.find(delivered_ + 1);
    if (next == buffer_.end() || next->first > frontier) break;
    delivered_ = next->first;
    std::string data = std::move(next->second);
    buffer_.erase(next);
    hooks_.deliver(delivered_, data);
  }
  // Anything left at or below what was delivered is a duplicate.
  buffer_.erase(buffer_.begin(), buffer_.upper_bound(delivered_));
}

}  // namespace duplex::hub
