// Namespaces: the configuration (defaults, every option, every refusal), channel name rules,
// lookup, personal channels, grants and the access rules, one row per rule.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/namespaces.h"

namespace duplex::hub {
namespace {

TEST(NamespaceOptions, DefaultsAreThoseOfTheProtocol) {
  NamespaceOptions o;
  EXPECT_EQ(o.historySize, 0u);
  EXPECT_EQ(o.historyTtlSeconds, 0u);
  EXPECT_EQ(o.publish, PublishFrom::Clients);
  EXPECT_FALSE(o.presence);
  EXPECT_TRUE(o.anonymous);
  EXPECT_FALSE(o.grantRequired);
  EXPECT_EQ(o.maxDataBytes, 16384u);
  EXPECT_EQ(o.presenceMax, 1000u);
  EXPECT_EQ(o.idempotencyWindowSeconds, 300u);
  EXPECT_EQ(o.publishRate, 0.0);  // no limit
  EXPECT_EQ(o.publishBurst, 0.0);

  NamespaceOptions personal = defaultPersonalOptions();
  EXPECT_EQ(personal.historySize, 0u);
  EXPECT_EQ(personal.publish, PublishFrom::Server);
  EXPECT_FALSE(personal.anonymous);
}

TEST(NamespacesConfig, ReadsEveryOption) {
  auto config = Namespaces::fromJson(R"({
    "namespaces": {
      "talk": {"history_size": 1000, "history_ttl_seconds": 3600, "publish": "clients",
               "presence": true, "anonymous": true, "grant_required": false,
               "max_data_bytes": 2048, "presence_max": 50, "idempotency_window_seconds": 60,
               "publish_rate": 10, "publish_burst": 15},
      "news": {"publish": "server"},
      "slow": {"publish_rate": 0.5},
      "private": {"anonymous": false, "grant_required": true},
      "plain": {}
    },
    "personal": {"history_size": 100, "history_ttl_seconds": 86400, "max_data_bytes": 512,
                 "idempotency_window_seconds": 10}
  })");
  ASSERT_TRUE(config.ok()) << config.error().message;
  const Namespaces& ns = *config;
  EXPECT_EQ(ns.size(), 5u);
  const NamespaceOptions* talk = ns.find("talk");
  ASSERT_NE(talk, nullptr);
  NamespaceOptions want;
  want.historySize = 1000;
  want.historyTtlSeconds = 3600;
  want.presence = true;
  want.maxDataBytes = 2048;
  want.presenceMax = 50;
  want.idempotencyWindowSeconds = 60;
  want.publishRate = 10;
  want.publishBurst = 15;
  EXPECT_EQ(*talk, want);
  EXPECT_EQ(publishBurstOf(*talk), 15.0);
  EXPECT_EQ(ns.find("slow")->publishRate, 0.5);
  EXPECT_EQ(publishBurstOf(*ns.find("slow")), 1.0);  // max(1, 2 * rate)
  EXPECT_EQ(ns.find("news")->publish, PublishFrom::Server);
  EXPECT_FALSE(ns.find("private")->anonymous);
  EXPECT_TRUE(ns.find("private")->grantRequired);
  EXPECT_EQ(*ns.find("plain"), NamespaceOptions{});
  EXPECT_EQ(ns.find("nosuch"), nullptr);

  NamespaceOptions personal = defaultPersonalOptions();
  personal.historySize = 100;
  personal.historyTtlSeconds = 86400;
  personal.maxDataBytes = 512;
  personal.idempotencyWindowSeconds = 10;
  EXPECT_EQ(ns.personalOptions(), personal);
}

TEST(NamespacesConfig, EmptyConfigurationsHaveOnlyPersonalChannels) {
  for (const char* text : {"{}", R"({"namespaces":{}})"}) {
    auto config = Namespaces::fromJson(text);
    ASSERT_TRUE(config.ok()) << config.error().message;
    EXPECT_EQ(config->size(), 0u);
    EXPECT_EQ(config->personalOptions(), defaultPersonalOptions());
  }
}

TEST(NamespacesConfig, RefusesWhatItDoesNotUnderstandAndSaysWhere) {
  struct Row {
    const char* config;
    const char* message;
  };
  const Row rows[] = {
      {"", "the configuration is not JSON: "},
      {"{", "the configuration is not JSON: "},
      {"[]", "the configuration must be a JSON object"},
      {R"({"namespace": {}})",
       R"("namespace": unknown configuration key (known: namespaces, personal, proxy))"},
      {R"({"namespaces": []})", "namespaces: must be an object of namespace name to options"},
      {R"({"namespaces": {"talk": 1}})", "namespaces.talk: must be an object"},
      {R"({"namespaces": {"talk": {"histroy_size": 5}}})",
       "namespaces.talk.histroy_size: unknown option (known: history_size, history_ttl_seconds, "
       "publish, presence, anonymous, grant_required, max_data_bytes, presence_max, "
       "idempotency_window_seconds, publish_rate, publish_burst, subscribe_proxy, publish_proxy)"},
      {R"({"namespaces": {"talk": {"publish_rate": -1}}})",
       "namespaces.talk.publish_rate: must be a number from 0 to 1000000000"},
      {R"({"namespaces": {"talk": {"publish_rate": "10"}}})",
       "namespaces.talk.publish_rate: must be a number from 0 to 1000000000"},
      {R"({"namespaces": {"talk": {"publish_rate": 1e12}}})",
       "namespaces.talk.publish_rate: must be a number from 0 to 1000000000"},
      {R"({"namespaces": {"talk": {"publish_rate": 5, "publish_burst": 0.5}}})",
       "namespaces.talk.publish_burst: must be a number from 1 to 1000000000"},
      {R"({"namespaces": {"talk": {"publish_burst": 5}}})",
       "namespaces.talk.publish_burst: needs publish_rate"},
      {R"({"personal": {"publish_rate": 5}})",
       "personal.publish_rate: not an option of personal channels"},
      {R"({"namespaces": {"talk": {"history_size": -1}}})",
       "namespaces.talk.history_size: must be a non-negative integer"},
      {R"({"namespaces": {"talk": {"history_size": 1.5}}})",
       "namespaces.talk.history_size: must be a non-negative integer"},
      {R"({"namespaces": {"talk": {"history_size": "10"}}})",
       "namespaces.talk.history_size: must be a non-negative integer"},
      {R"({"namespaces": {"talk": {"history_ttl_seconds": null}}})",
       "namespaces.talk.history_ttl_seconds: must be a non-negative integer"},
      {R"({"namespaces": {"talk": {"max_data_bytes": 0}}})",
       "namespaces.talk.max_data_bytes: must be at least 1"},
      {R"({"namespaces": {"talk": {"presence_max": 0}}})",
       "namespaces.talk.presence_max: must be at least 1"},
      {R"({"namespaces": {"talk": {"idempotency_window_seconds": true}}})",
       "namespaces.talk.idempotency_window_seconds: must be a non-negative integer"},
      {R"({"namespaces": {"talk": {"presence": "yes"}}})",
       "namespaces.talk.presence: must be true or false"},
      {R"({"namespaces": {"talk": {"anonymous": 1}}})",
       "namespaces.talk.anonymous: must be true or false"},
      {R"({"namespaces": {"talk": {"grant_required": null}}})",
       "namespaces.talk.grant_required: must be true or false"},
      {R"({"namespaces": {"talk": {"publish": "everyone"}}})",
       R"(namespaces.talk.publish: must be "clients" or "server")"},
      {R"({"namespaces": {"talk": {"publish": true}}})",
       R"(namespaces.talk.publish: must be "clients" or "server")"},
      {R"({"namespaces": {"ta:lk": {}}})",
       "namespaces.ta:lk: a namespace name is 1 or more of [A-Za-z0-9_.@=-] (no ':' or '#')"},
      {R"({"namespaces": {"#talk": {}}})",
       "namespaces.#talk: a namespace name is 1 or more of [A-Za-z0-9_.@=-] (no ':' or '#')"},
      {R"({"namespaces": {"": {}}})",
       "namespaces.: a namespace name is 1 or more of [A-Za-z0-9_.@=-] (no ':' or '#')"},
      {R"({"namespaces": {"talk": {}, "talk": {}}})", "namespaces.talk: configured twice"},
      {R"({"personal": 1})", "personal: must be an object"},
      {R"({"personal": {"publish": "clients"}})",
       "personal.publish: not an option of personal channels (known: history_size, "
       "history_ttl_seconds, max_data_bytes, idempotency_window_seconds; they are published by "
       "the server API and read by their own user)"},
      {R"({"personal": {"presence": true}})", "personal.presence: not an option of personal"},
      {R"({"personal": {"history_size": -5}})",
       "personal.history_size: must be a non-negative integer"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.config);
    auto config = Namespaces::fromJson(row.config);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.error().code, ErrorCode::BadRequest);
    // A prefix: the end of some messages is simdjson's or a long list.
    EXPECT_EQ(config.error().message.substr(0, std::string_view(row.message).size()), row.message);
  }
}

TEST(ChannelNames, Rules) {
  struct Row {
    std::string channel;
    const char* error;  // nullptr: valid
  };
  const std::vector<Row> rows = {
      {"talk:main", nullptr},
      {"team:42:todo", nullptr},  // the namespace ends at the first ':'
      {"a:b", nullptr},
      {"x_.@=-:Y_.@=-09", nullptr},
      {"#alice", nullptr},
      {"#alice@example.com", nullptr},
      {"#a:b", nullptr},
      {"talk:" + std::string(250, 'x'), nullptr},  // 255 bytes
      {"talk:" + std::string(251, 'x'), "a channel name is at most 255 bytes"},
      {"", "the channel name is empty"},
      {"#", "a personal channel is '#' and a user id"},
      {"talk", "a channel is namespace:name, or #user"},
      {":main", "a channel is namespace:name, or #user"},
      {"talk:", "a channel is namespace:name, or #user"},
      {"talk:#main", "'#' may only start a personal channel's name"},
      {"##alice", "'#' may only start a personal channel's name"},
      {"#al#ice", "'#' may only start a personal channel's name"},
      {"talk:ma in", "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
      {"talk:*", "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
      {"talk:é", "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
      {"talk:a/b", "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
      {std::string("talk:a\0b", 8),
       "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
      {"#bob smith", "a channel name has only the characters A-Z a-z 0-9 _ . : @ = -"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.channel);
    auto error = validateChannelName(row.channel);
    if (!row.error) {
      EXPECT_FALSE(error) << error->message;
    } else {
      ASSERT_TRUE(error);
      EXPECT_EQ(error->code, ErrorCode::BadRequest);
      EXPECT_EQ(error->message, row.error);
    }
  }
}

TEST(ChannelNames, PersonalChannelOfAUser) {
  EXPECT_EQ(personalChannel("alice"), "#alice");
  EXPECT_EQ(personalChannel("alice@example.com"), "#alice@example.com");
  EXPECT_EQ(personalChannel(""), std::nullopt);           // anonymous
  EXPECT_EQ(personalChannel("bob smith"), std::nullopt);  // cannot name a channel
  EXPECT_EQ(personalChannel("#x"), std::nullopt);
  EXPECT_EQ(personalChannel(std::string(254, 'u')), "#" + std::string(254, 'u'));
  EXPECT_EQ(personalChannel(std::string(255, 'u')), std::nullopt);
}

TEST(Namespaces, Lookup) {
  Namespaces ns;
  NamespaceOptions talk;
  talk.historySize = 10;
  ASSERT_TRUE(ns.add("talk", talk));
  EXPECT_FALSE(ns.add("bad:name", talk));
  EXPECT_FALSE(ns.add("", talk));

  auto info = ns.lookup("talk:main");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->channel, "talk:main");
  EXPECT_EQ(info->ns, "talk");
  EXPECT_FALSE(info->personal());
  EXPECT_EQ(info->options->historySize, 10u);

  info = ns.lookup("talk:team:42");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->ns, "talk");

  info = ns.lookup("#alice");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->personal());
  EXPECT_EQ(info->user, "alice");
  EXPECT_EQ(info->ns, "");
  EXPECT_EQ(*info->options, defaultPersonalOptions());

  info = ns.lookup("chat:main");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::NotFound);
  EXPECT_EQ(info.error().message, R"(namespace "chat" is not configured)");
  info = ns.lookup("Talk:main");  // names are case-sensitive
  EXPECT_EQ(info.error().code, ErrorCode::NotFound);

  info = ns.lookup("talk main");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().code, ErrorCode::BadRequest);

  // Personal channels keep their fixed rules whatever options they are given.
  NamespaceOptions open;
  open.historySize = 5;
  open.presence = true;
  ns.setPersonalOptions(open);
  EXPECT_EQ(ns.personalOptions().historySize, 5u);
  EXPECT_EQ(ns.personalOptions().publish, PublishFrom::Server);
  EXPECT_FALSE(ns.personalOptions().anonymous);
  EXPECT_FALSE(ns.personalOptions().presence);
}

TEST(Grants, ExactOrPrefixEndingInStar) {
  struct Row {
    const char* grant;
    const char* channel;
    bool matches;
  };
  const Row rows[] = {
      {"private:alice", "private:alice", true},
      {"private:alice", "private:alice2", false},
      {"private:alice", "private:ali", false},
      {"team:42:*", "team:42:todo", true},
      {"team:42:*", "team:42:todo:x", true},
      {"team:42:*", "team:421:todo", false},
      {"team:42:*", "team:4", false},
      {"team:*", "team:42:todo", true},
      {"team*", "teams:x", true},  // a prefix, not a segment
      {"*", "anything:at:all", true},
      {"team:*:todo", "team:42:todo", false},  // '*' only at the end
      {"", "talk:main", false},
      {"TALK:main", "talk:main", false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.grant) + " ~ " + row.channel);
    EXPECT_EQ(grantMatches(row.grant, row.channel), row.matches);
  }
  std::vector<std::string> grants = {"private:alice", "team:42:*"};
  EXPECT_TRUE(grantsAllow(grants, "team:42:x"));
  EXPECT_TRUE(grantsAllow(grants, "private:alice"));
  EXPECT_FALSE(grantsAllow(grants, "private:bob"));
  EXPECT_FALSE(grantsAllow({}, "private:alice"));
}

// The access rules over a small configuration: one row per rule.
class Access : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = Namespaces::fromJson(R"({"namespaces": {
        "talk": {"presence": true},
        "news": {"publish": "server"},
        "members": {"anonymous": false},
        "private": {"anonymous": false, "grant_required": true, "max_data_bytes": 10},
        "quiet": {}}})");
    ASSERT_TRUE(config.ok()) << config.error().message;
    ns_ = std::move(*config);
  }

  ChannelInfo info(std::string_view channel) {
    auto found = ns_.lookup(channel);
    EXPECT_TRUE(found.ok()) << channel;
    return *found;
  }

  Namespaces ns_;
};

std::string codeOf(const std::optional<HubError>& error) {
  return error ? std::string(errorCodeName(error->code)) : "ok";
}

TEST_F(Access, SubscribeHistoryPresencePublish) {
  const std::vector<std::string> aliceGrants = {"private:alice", "private:team:*"};
  const Principal anonymous{};
  const Principal alice{true, "alice", aliceGrants};
  const Principal bob{true, "bob", {}};
  const Principal anonymousToken{true, "", {}};
  enum Op { Subscribe, History, Presence, Publish };
  struct Row {
    Op op;
    const char* channel;
    const Principal* who;
    const char* want;  // "ok" or the error code
  };
  const Row rows[] = {
      // Anonymous namespaces: anyone.
      {Subscribe, "talk:main", &anonymous, "ok"},
      {History, "talk:main", &anonymous, "ok"},
      {Presence, "talk:main", &anonymous, "ok"},
      {Publish, "talk:main", &anonymous, "ok"},
      // Presence only where it is on.
      {Presence, "quiet:main", &alice, "forbidden"},
      // Server-published namespaces: read by all, published by none of the clients.
      {Subscribe, "news:today", &anonymous, "ok"},
      {Publish, "news:today", &alice, "forbidden"},
      // Non-anonymous: a token is needed; any token, even an anonymous one.
      {Subscribe, "members:main", &anonymous, "unauthorized"},
      {History, "members:main", &anonymous, "unauthorized"},
      {Publish, "members:main", &anonymous, "unauthorized"},
      {Subscribe, "members:main", &bob, "ok"},
      {Subscribe, "members:main", &anonymousToken, "ok"},
      // grant_required: the token's channels claim must grant the channel.
      {Subscribe, "private:alice", &alice, "ok"},
      {Subscribe, "private:team:7", &alice, "ok"},
      {Publish, "private:alice", &alice, "ok"},
      {Subscribe, "private:bob", &alice, "forbidden"},
      {Subscribe, "private:alice", &bob, "forbidden"},
      {History, "private:alice", &bob, "forbidden"},
      {Subscribe, "private:alice", &anonymous, "unauthorized"},
      // Personal channels: only the user itself subscribes; no client publishes.
      {Subscribe, "#alice", &alice, "ok"},
      {History, "#alice", &alice, "ok"},
      {Subscribe, "#alice", &bob, "forbidden"},
      {Subscribe, "#alice", &anonymous, "forbidden"},
      {Publish, "#alice", &alice, "forbidden"},
      {Presence, "#alice", &alice, "forbidden"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(std::string(row.channel) + " as " + std::string(row.who->user));
    ChannelInfo channel = info(row.channel);
    std::optional<HubError> error;
    switch (row.op) {
      case Subscribe:
        error = checkSubscribe(channel, *row.who);
        break;
      case History:
        error = checkHistory(channel, *row.who);
        break;
      case Presence:
        error = checkPresence(channel, *row.who);
        break;
      case Publish:
        error = checkPublish(channel, *row.who, 2);
        break;
    }
    EXPECT_EQ(codeOf(error), row.want) << (error ? error->message : "");
  }
}

TEST_F(Access, MessagesSayWhatIsMissing) {
  const Principal anonymous{};
  EXPECT_EQ(checkPublish(info("news:today"), anonymous, 1)->message,
            "publishing to news:* is for the server API only");
  EXPECT_EQ(checkSubscribe(info("members:x"), anonymous)->message,
            R"(namespace "members" needs a token; connect with one)");
  const Principal bob{true, "bob", {}};
  EXPECT_EQ(checkSubscribe(info("private:x"), bob)->message,
            R"(the token does not grant the channel "private:x")");
  EXPECT_EQ(checkPresence(info("quiet:x"), bob)->message,
            R"(presence is off in namespace "quiet")");
}

TEST_F(Access, DataSizeLimit) {
  const std::vector<std::string> grants = {"private:*"};
  const Principal alice{true, "alice", grants};
  EXPECT_FALSE(checkPublish(info("private:x"), alice, 10));
  auto error = checkPublish(info("private:x"), alice, 11);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, ErrorCode::TooLarge);
  EXPECT_EQ(error->message, "data is 11 bytes; this channel takes at most 10");
  EXPECT_FALSE(checkPublish(info("talk:x"), alice, 16384));
  EXPECT_EQ(codeOf(checkPublish(info("talk:x"), alice, 16385)), "too_large");
  // The server API may publish anywhere, personal and server-only channels included, within
  // the size limit.
  EXPECT_FALSE(checkServerPublish(info("news:x"), 100));
  EXPECT_FALSE(checkServerPublish(info("#alice"), 100));
  EXPECT_EQ(codeOf(checkServerPublish(info("private:x"), 11)), "too_large");
}

}  // namespace
}  // namespace duplex::hub
