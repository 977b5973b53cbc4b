#include "hub/in_process_engine.h"

#include <algorithm>
#include <stdexcept>

#include "hub/hub_protocol_writer.h"
#include "hub/publication_list.h"

namespace duplex::hub {

InProcessEngine::InProcessEngine(ChannelStore& store, InProcessEngineOptions options)
    : options_(options), storage_(store, options.storage) {}

InProcessEngine::~InProcessEngine() = default;

void InProcessEngine::addLoop(net::Loop& loop, pubsub::Topics& topics) {
  loops_.push_back(std::make_unique<LoopPart>(
      LoopPart{&loop, &topics, static_cast<uint32_t>(loops_.size()), false, {}}));
  crossLoop_.addLoop(loop, topics);
}

InProcessEngine::LoopPart* InProcessEngine::findPart(const net::Loop& loop) {
  for (auto& part : loops_) {
    if (part->loop == &loop) return part.get();
  }
  return nullptr;
}

InProcessEngine::LoopPart& InProcessEngine::partOf(net::Loop& loop) {
  if (LoopPart* part = findPart(loop)) return *part;
  throw std::logic_error("InProcessEngine: a loop that was not added (addLoop)");
}

// Claims and releases need no wake-up of their own: queued, they take their place among the
// publications, and the next publication or read (which wakes the storage thread) finds them
// first. Only that order matters: a publication queued after a claim reaches the loop.
void InProcessEngine::claim(LoopPart& part, std::string_view channel) {
  if (part.claimed.find(channel) != part.claimed.end()) return;
  part.claimed.emplace(std::string(channel), 0);
  storage_.run([this, index = part.index, channel = std::string(channel)](
                   ChannelStore&, StorageThread::Outbox&) { addChannelLoop(channel, index); },
               false);
}

void InProcessEngine::releaseIfUnused(LoopPart& part, std::string_view channel) {
  auto it = part.claimed.find(channel);
  if (it == part.claimed.end() || it->second != 0) return;  // a read may still attach one
  if (part.topics->subscriberCount(channel) != 0) return;
  // Anything stored before the release is processed still comes here, to nobody. A subscriber
  // that attaches later claims the channel again (through its read, or attach()), and that
  // claim is queued after this release.
  storage_.run([this, index = part.index, channel = std::move(part.claimed.extract(it).key())](
                   ChannelStore&, StorageThread::Outbox&) { removeChannelLoop(channel, index); },
               false);
}

void InProcessEngine::addChannelLoop(const std::string& channel, uint32_t index) {
  std::vector<uint32_t>& indexes = channelLoops_[channel];
  if (std::find(indexes.begin(), indexes.end(), index) == indexes.end()) indexes.push_back(index);
}

void InProcessEngine::removeChannelLoop(const std::string& channel, uint32_t index) {
  auto it = channelLoops_.find(channel);
  if (it == channelLoops_.end()) return;
  std::vector<uint32_t>& indexes = it->second;
  indexes.erase(std::remove(indexes.begin(), indexes.end(), index), indexes.end());
  if (indexes.empty()) channelLoops_.erase(it);
}

void InProcessEngine::wakeAtEndOfIteration(LoopPart& part) {
  if (part.wakeDeferred) return;
  part.wakeDeferred = true;
  part.loop->defer([this, &part] {
    part.wakeDeferred = false;
    storage_.wake();
  });
}

bool InProcessEngine::attach(WebSocket& ws, std::string_view channel) {
  LoopPart& part = partOf(ws.loop());
  if (!part.topics->subscribe(ws, channel)) return false;
  // Attached in a read's completion, the channel is claimed already (by that read). Attached
  // without one, it is claimed now: what is published after this call reaches `ws`.
  claim(part, channel);
  return true;
}

void InProcessEngine::detach(WebSocket& ws, std::string_view channel) {
  LoopPart& part = partOf(ws.loop());
  part.topics->unsubscribe(ws, channel);
  releaseIfUnused(part, channel);
}

void InProcessEngine::broadcast(net::Loop& from, std::string_view channel, std::string_view message,
                                const WebSocket* except) {
  partOf(from).topics->publish(channel, message, Opcode::Text, except);
  // The other loops get it at the end of the iteration, with everything else this loop
  // delivered meanwhile: one post (one wake-up) per loop that wants it, per iteration.
  crossLoop_.send(from, channel, message, Opcode::Text);
}

void InProcessEngine::publish(net::Loop& from, PublishRequest request, Done<PublishResult> done) {
  if (request.limits.historySize == 0) {
    // Nothing to store: delivered now, acknowledged with offset 0 at the end of the iteration.
    std::string push;
    writePubPush(push, request.channel, 0, request.data);
    broadcast(from, request.channel, push, nullptr);
    from.defer([done = std::move(done)]() mutable {
      PublishResult result;
      result.ok = true;
      done(std::move(result));
    });
    return;
  }
  LoopPart& caller = partOf(from);
  storage_.append(
      std::move(request),
      [this, caller = caller.loop, done = std::move(done)](const PublishRequest& publication,
                                                           const StoreResult<Appended>& stored,
                                                           StorageThread::Outbox& outbox) mutable {
        PublishResult result;
        result.commit = storage_.currentCommit();
        if (stored.ok()) {
          result.ok = true;
          result.appended = *stored;
          if (!stored->duplicate) {
            deliver(publication, stored->offset, outbox);
          }
        } else {
          result.error = stored.error().message;
        }
        // After the push on the caller's loop: an ack means delivered there.
        outbox.post(*caller, [done = std::move(done), result = std::move(result)]() mutable {
          done(std::move(result));
        });
      },
      false);
  wakeAtEndOfIteration(caller);
}

void InProcessEngine::deliver(const PublishRequest& publication, uint64_t offset,
                              StorageThread::Outbox& outbox) {
  // Only to the channel's loops: a loop without subscribers on it is not woken for it.
  auto loops = channelLoops_.find(publication.channel);
  if (loops == channelLoops_.end()) return;
  // Written once, shared by the loops; each loop frames it once for its subscribers.
  auto push = std::make_shared<std::string>();
  writePubPush(*push, publication.channel, offset, publication.data);
  auto channel = std::make_shared<std::string>(publication.channel);
  for (uint32_t index : loops->second) {
    LoopPart* part = loops_[index].get();
    outbox.post(*part->loop, [this, part, push, channel] {
      // Nobody here any more (they closed, which detach() does not see): released now, so
      // that at most this one publication woke the loop for nothing.
      if (part->topics->publish(*channel, *push) == 0) releaseIfUnused(*part, *channel);
    });
  }
}

ReadResult InProcessEngine::readNow(ChannelStore& store, const ReadRequest& request) {
  ReadResult result;
  auto position = request.limits.historySize
                      ? store.ensureChannel(request.channel, request.limits, request.nowMs)
                      : store.position(request.channel);
  if (!position.ok()) {
    result.error = position.error().message;
    return result;
  }
  result.position = *position;
  if (request.mode == ReadRequest::Mode::Position) {
    result.ok = true;
    return result;
  }
  const bool since = request.mode == ReadRequest::Mode::Since;
  // PublicationList writes the items of an array the caller opened: open it here, and give
  // back what follows the '['.
  std::string list = "[";
  PublicationList publications(
      list, request.maxBytes,
      since ? PublicationList::Keep::Oldest : PublicationList::Keep::Newest);
  auto visit = [&](const PublicationView& pub) { publications.add(pub.offset, pub.data); };
  if (since) {
    auto read =
        store.since(request.channel, request.afterOffset, request.epoch, request.limit, visit);
    if (!read.ok()) {
      result.error = read.error().message;
      return result;
    }
    result.recovery = read->recovery;
    result.limited = read->limited;
    result.position = read->position;
  } else {
    auto read = store.latest(request.channel, request.limit, visit);
    if (!read.ok()) {
      result.error = read.error().message;
      return result;
    }
  }
  publications.finish();
  result.overflowed = publications.overflowed();
  result.publications.assign(list, 1);
  result.ok = true;
  return result;
}

void InProcessEngine::read(net::Loop& from, ReadRequest request, Done<ReadResult> done) {
  LoopPart& caller = partOf(from);
  // Any read may be a subscribe's: its channel stays claimed for this loop until the
  // completion has run (and longer if it attached a subscriber).
  ++caller.claimed.try_emplace(request.channel, 0).first->second;
  storage_.run(
      [this, caller = &caller, request = std::move(request), done = std::move(done)](
          ChannelStore& store, StorageThread::Outbox& outbox) mutable {
        // Claimed in the job that reads: every publication stored after this read is handed
        // to the caller's loop, and posted there after this completion, in which the caller
        // attaches its subscriber.
        addChannelLoop(request.channel, caller->index);
        outbox.post(*caller->loop, [this, caller, channel = request.channel, done = std::move(done),
                                    result = readNow(store, request)]() mutable {
          done(std::move(result));
          --caller->claimed.find(channel)->second;
          releaseIfUnused(*caller, channel);
        });
      },
      false);
  wakeAtEndOfIteration(caller);
}

void InProcessEngine::listen(net::Loop&, std::string_view, Done<bool> done) {
  // Publications without history go to every loop's Topics as they are made: attached now,
  // a subscriber gets each one made from now on.
  done(true);
}

void InProcessEngine::checkStore(net::Loop& from, Done<std::optional<std::string>> done) {
  LoopPart& caller = partOf(from);
  storage_.run(
      [caller = caller.loop, done = std::move(done)](ChannelStore& store,
                                                     StorageThread::Outbox& outbox) mutable {
        std::optional<std::string> failure;
        // Any name does: the read is a search of the channels' index, as every recovery's is.
        if (auto read = store.position("readyz"); !read) failure = read.error().message;
        if (auto wrote = store.checkWritable(); !failure && !wrote) failure = wrote.error().message;
        outbox.post(*caller, [done = std::move(done), failure = std::move(failure)]() mutable {
          done(std::move(failure));
        });
      },
      false);
  wakeAtEndOfIteration(caller);
}

void InProcessEngine::join(net::Loop& from, std::string_view channel, PresenceMember member,
                           size_t max, Done<JoinResult> done) {
  JoinResult joined = JoinResult::Full;
  {
    std::lock_guard lock(presenceMutex_);
    auto& members = presence_[std::string(channel)];
    if (members.size() < max) {
      members.push_back(std::move(member));
      joined = JoinResult::Joined;
    } else if (members.empty()) {
      presence_.erase(std::string(channel));
    }
  }
  from.defer([done = std::move(done), joined]() mutable { done(std::move(joined)); });
}

void InProcessEngine::disconnectUser(net::Loop& from, std::string user,
                                     Done<DisconnectResult> done) {
  (void)from;  // askEveryLoop answers on the calling loop, which is `from`
  std::vector<net::Loop*> loops;
  for (auto& part : loops_) loops.push_back(part->loop);
  localDisconnect_.onLoops(loops, std::move(user), [done = std::move(done)](uint64_t count) {
    DisconnectResult result;
    result.connections = count;
    done(std::move(result));
  });
}

void InProcessEngine::setUserDisconnector(UserDisconnector disconnector) {
  localDisconnect_.set(std::move(disconnector));
}

void InProcessEngine::leave(std::string_view channel, std::string_view client) {
  std::lock_guard lock(presenceMutex_);
  auto it = presence_.find(std::string(channel));
  if (it == presence_.end()) return;
  auto& members = it->second;
  auto member = std::find_if(members.begin(), members.end(),
                             [&](const PresenceMember& m) { return m.client == client; });
  if (member != members.end()) members.erase(member);
  if (members.empty()) presence_.erase(it);
}

void InProcessEngine::presence(net::Loop& from, std::string_view channel,
                               Done<std::vector<PresenceMember>> done) {
  std::vector<PresenceMember> members;
  {
    std::lock_guard lock(presenceMutex_);
    auto it = presence_.find(std::string(channel));
    if (it != presence_.end()) members = it->second;
  }
  from.defer([done = std::move(done), members = std::move(members)]() mutable {
    done(std::move(members));
  });
}

void InProcessEngine::sweep(int64_t nowMs) {
  // Channels whose subscribers on this loop all closed and that saw no publication since.
  if (net::Loop* current = net::Loop::current()) {
    if (LoopPart* part = findPart(*current)) {
      std::vector<std::string> unused;
      for (const auto& [channel, reads] : part->claimed) {
        if (reads == 0 && part->topics->subscriberCount(channel) == 0) unused.push_back(channel);
      }
      for (const std::string& channel : unused) releaseIfUnused(*part, channel);
    }
  }
  // One sweep queued at a time: several hubs (one per loop) may call this every second.
  if (sweepQueued_.exchange(true)) return;
  storage_.run([this, nowMs](ChannelStore& store, StorageThread::Outbox&) {
    sweepQueued_.store(false);
    for (uint32_t i = 0; i < options_.trimStepsPerSweep; ++i) {
      auto step = store.trimStep(nowMs);
      if (!step.ok() || !step->more) break;  // errors are retried on the next sweep
    }
  });
}

}  // namespace duplex::hub
