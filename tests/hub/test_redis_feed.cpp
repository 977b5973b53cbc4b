// ChannelFeed (src/hub/redis_feed.h): the order in which one channel's publications and
// completions reach the loops when pub/sub messages and command replies race. Each test plays
// what Redis would say, in one order the network allows, and checks what the loops get.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/redis_feed.h"
#include "hub/redis_keys.h"
#include "hub/redis_shards.h"

namespace duplex::hub {
namespace {

// What the loops get, in order: "7" for a delivered offset, "read@5" for a read's completion,
// "ack@7" for a publish's, "gap" for a lost run.
struct Loops {
  std::vector<std::string> events;
  ChannelFeed feed{{
      [this](uint64_t offset, std::string_view) { events.push_back(std::to_string(offset)); },
      [this](std::string_view) { events.push_back("gap"); },
  }};
  ChannelFeed::Action read(uint64_t top) {
    return [this, top](bool inOrder) {
      events.push_back((inOrder ? "read@" : "failed-read@") + std::to_string(top));
    };
  }
  ChannelFeed::Action ack(uint64_t offset) {
    return [this, offset](bool) { events.push_back("ack@" + std::to_string(offset)); };
  }
};

using Events = std::vector<std::string>;

TEST(ChannelFeed, ReadThenLiveDeliversOnlyWhatFollowsTheTop) {
  Loops l;
  l.feed.readIssued();
  l.feed.live("e", 5, "x");  // before the read answered: might be <= its top
  l.feed.readAnswered("e", 5, l.read(5));
  l.feed.live("e", 6, "x");
  EXPECT_EQ(l.events, (Events{"read@5", "6"}));
}

TEST(ChannelFeed, LiveMessagesAboveAnInFlightReadWaitForIt) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 4, l.read(4));  // known from here
  l.feed.readIssued();
  // 5 and 6 arrive before the second read answers: its top may be 5, 6 or more.
  l.feed.live("e", 5, "x");
  l.feed.live("e", 6, "x");
  EXPECT_EQ(l.events, (Events{"read@4"}));
  l.feed.readAnswered("e", 5, l.read(5));
  EXPECT_EQ(l.events, (Events{"read@4", "5", "read@5", "6"}));
}

TEST(ChannelFeed, AReadWhoseTopIsNotDeliveredYetWaitsForTheMissingOffsets) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 4, l.read(4));
  l.feed.readIssued();
  l.feed.readAnswered("e", 7, l.read(7));  // 5..7 still on their way over pub/sub
  EXPECT_EQ(l.events, (Events{"read@4"}));
  EXPECT_TRUE(l.feed.needsCatchUp());
  l.feed.live("e", 5, "x");
  l.feed.live("e", 6, "x");
  l.feed.live("e", 7, "x");
  l.feed.live("e", 8, "x");
  EXPECT_EQ(l.events, (Events{"read@4", "5", "6", "7", "read@7", "8"}));
  EXPECT_FALSE(l.feed.needsCatchUp());
}

TEST(ChannelFeed, CatchUpFillsWhatPubSubLost) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 2, l.read(2));
  l.feed.live("e", 5, "x");  // 3 and 4 lost
  EXPECT_EQ(l.events, (Events{"read@2"}));
  ASSERT_TRUE(l.feed.needsCatchUp());
  EXPECT_EQ(l.feed.delivered(), 2u);
  l.feed.catchUpIssued();
  EXPECT_FALSE(l.feed.needsCatchUp());
  l.feed.caughtUp("e", 5, true, {{3, "x"}, {4, "x"}, {5, "x"}});
  EXPECT_EQ(l.events, (Events{"read@2", "3", "4", "5"}));
}

TEST(ChannelFeed, AnAckWaitsUntilItsOffsetIsDeliveredHere) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 0, l.read(0));
  // Another node's 1 is still on its way when our publish's reply says 2.
  l.feed.stored("e", 2, "mine", l.ack(2));
  EXPECT_EQ(l.events, (Events{"read@0"}));
  l.feed.live("e", 1, "theirs");
  l.feed.live("e", 2, "mine");  // our own message comes back: a duplicate
  EXPECT_EQ(l.events, (Events{"read@0", "1", "2", "ack@2"}));
}

TEST(ChannelFeed, OwnPublishDeliveredFromTheReplyBeforeItsEcho) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 3, l.read(3));
  l.feed.stored("e", 4, "mine", l.ack(4));
  l.feed.live("e", 4, "mine");
  EXPECT_EQ(l.events, (Events{"read@3", "4", "ack@4"}));
}

TEST(ChannelFeed, TrimmedWhileCutOffIsAGapAndGoesOnFromTheTop) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 2, l.read(2));
  l.feed.resync();  // the Subscriber came back
  ASSERT_TRUE(l.feed.needsCatchUp());
  l.feed.catchUpIssued();
  l.feed.caughtUp("e", 90, false, {});
  l.feed.live("e", 91, "x");
  EXPECT_EQ(l.events, (Events{"read@2", "gap", "91"}));
}

TEST(ChannelFeed, ANewEpochIsAGap) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 10, l.read(10));
  l.feed.live("f", 1, "x");  // Redis lost the channel and it started over
  EXPECT_EQ(l.events, (Events{"read@10", "gap", "1"}));
  EXPECT_EQ(l.feed.epoch(), "f");
}

TEST(ChannelFeed, AFailedCatchUpFailsTheReadWaitingForIt) {
  Loops l;
  l.feed.readIssued();
  l.feed.readAnswered("e", 1, l.read(1));
  l.feed.readIssued();
  l.feed.readAnswered("e", 3, l.read(3));
  l.feed.catchUpIssued();
  l.feed.catchUpFailed();
  EXPECT_EQ(l.events, (Events{"read@1", "failed-read@3"}));
}

TEST(ChannelFeed, AttachedWithoutAReadStartsFromTheFirstMessage) {
  Loops l;
  l.feed.live("e", 7, "x");
  l.feed.live("e", 8, "x");
  l.feed.live("e", 8, "x");
  EXPECT_EQ(l.events, (Events{"7", "8"}));
}

TEST(RedisKeys, MessagesRoundTrip) {
  std::string wire = redis_keys::encode('p', "n1", "abc", 42, R"({"a":"b c"})");
  auto m = redis_keys::decode(wire);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, 'p');
  EXPECT_EQ(m->node, "n1");
  EXPECT_EQ(m->epoch, "abc");
  EXPECT_EQ(m->offset, 42u);
  EXPECT_EQ(m->body, R"({"a":"b c"})");
  auto none = redis_keys::decode(redis_keys::encode('b', "n1", "", 0, "x"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->epoch, "");
  EXPECT_FALSE(redis_keys::decode("pn1 e"));
  EXPECT_EQ(redis_keys::channelOf(redis_keys::pubsub("talk:main")), "talk:main");
  EXPECT_EQ(redis_keys::channelOf("other"), "");
}

TEST(RedisShards, StableSpreadAndMinimalMoves) {
  // Known values: every node must agree, build after build.
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  size_t counts[3] = {};
  size_t moved = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string channel = "talk:" + std::to_string(i);
    size_t two = shardOf(channel, 2), three = shardOf(channel, 3);
    ASSERT_LT(three, 3u);
    ++counts[three];
    if (two != three) {
      ++moved;
      EXPECT_EQ(three, 2u);  // a channel moves only to the new shard
    }
  }
  for (size_t c : counts) EXPECT_NEAR(static_cast<double>(c), 1000.0, 150.0);
  EXPECT_NEAR(static_cast<double>(moved), 1000.0, 150.0);
  EXPECT_EQ(shardOf("x", 1), 0u);
}

}  // namespace
}  // namespace duplex::hub
