// Client behaviour: creation, typed getters, handles, listeners, status.

#include "hotfix/client.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/log.h"
#include "support/set_on_destroy.h"

namespace hotfix {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kFlags[] = R"({"version": 1, "flags": {
  "fix-123": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"},
  "banner": {"variants": {"a": "Hello", "b": "Bonjour"}, "default": "a",
             "rules": [{"if": [{"attribute": "lang", "op": "eq", "value": "fr"}], "serve": "b"}]},
  "limit": {"variants": {"low": 10, "high": 1e30, "frac": 2.75}, "default": "low",
            "rules": [{"if": [{"attribute": "tier", "op": "eq", "value": "huge"}], "serve": "high"},
                      {"if": [{"attribute": "tier", "op": "eq", "value": "frac"}], "serve": "frac"}]},
  "config": {"variants": {"v": {"retries": 3}}, "default": "v"},
  "eu-only": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "off",
              "rules": [{"if": [{"attribute": "region", "op": "eq", "value": "eu"}], "serve": "on"}]}
}})";

std::unique_ptr<Client> MakeClient(const std::string& json = kFlags) {
  ClientOptions options;
  options.bootstrap_json = json;
  auto client = Client::Create(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return *std::move(client);
}

// Waits (at most 20 s) until `done` is true.
bool WaitFor(const std::atomic<bool>& done) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!done.load()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// Version v with one number flag serving v: every publication changes it.
std::string Numbered(int version) {
  return absl::StrCat(R"({"version": )", version,
                      R"(, "flags": {"n": {"variants": {"x": )", version,
                      R"(}, "default": "x"}}})");
}

std::string WithVersion(int version, const std::string& fix_default) {
  return absl::StrCat(R"({"version": )", version, R"(, "flags": {
    "fix-123": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": ")",
                      fix_default, R"("},
    "other": {"variants": {"on": true}, "default": "on"}}})");
}

TEST(ClientTest, EmptyClientServesDefaultsAndSaysNotReady) {
  auto client = Client::Create(ClientOptions());
  ASSERT_TRUE(client.ok());
  EXPECT_FALSE((*client)->Enabled("fix-123"));
  EXPECT_EQ((*client)->GetString("banner", "dflt"), "dflt");
  EXPECT_EQ((*client)->Evaluate("fix-123").error, ErrorKind::kNotReady);
  EXPECT_FALSE((*client)->Flag("fix-123").Enabled());
  EXPECT_EQ((*client)->version(), 0u);
  EXPECT_FALSE((*client)->WaitUntilReady(absl::Milliseconds(1)));
  EXPECT_EQ((*client)->GetStatus().origin, SnapshotOrigin::kNone);
  EXPECT_EQ((*client)->GetStatus().state, SourceState::kOff);
}

TEST(ClientTest, InvalidBootstrapFailsCreationNamingThePath) {
  ClientOptions options;
  options.bootstrap_json =
      R"({"version": 1, "flags": {"x": {"variants": {}, "default": "a"}}})";
  auto client = Client::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client.status().message(),
              HasSubstr("bootstrap: flags.x.variants"));
}

TEST(ClientTest, MissingBootstrapFileFailsCreation) {
  ClientOptions options;
  options.bootstrap_path = "/nonexistent/flags.json";
  auto client = Client::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("/nonexistent/flags.json"));
}

TEST(ClientTest, TypedGettersServeValuesOrDefaults) {
  auto client = MakeClient();
  EXPECT_TRUE(client->Enabled("fix-123"));
  EXPECT_TRUE(client->GetBool("fix-123", false));
  EXPECT_EQ(client->GetString("banner", "x"), "Hello");
  EXPECT_EQ(client->GetString("banner", "x", Context("u").Set("lang", "fr")),
            "Bonjour");
  EXPECT_EQ(client->GetInt("limit", -1), 10);
  EXPECT_EQ(client->GetInt("limit", -1, Context("u").Set("tier", "huge")),
            -1);  // out of range
  EXPECT_EQ(client->GetInt("limit", -1, Context("u").Set("tier", "frac")),
            2);  // truncates
  EXPECT_DOUBLE_EQ(
      client->GetDouble("limit", 0, Context("u").Set("tier", "frac")), 2.75);
  EXPECT_EQ(client->GetJson("config", "{}"), R"({"retries":3})");
  // Wrong type or unknown flag: the caller's default.
  EXPECT_FALSE(client->Enabled("banner"));
  EXPECT_EQ(client->GetString("fix-123", "dflt"), "dflt");
  EXPECT_EQ(client->GetInt("nope", 7), 7);
  EXPECT_FALSE(client->Enabled("nope"));
}

TEST(ClientTest, EvaluateReportsVersionAndReason) {
  auto client = MakeClient();
  const EvaluationDetail d =
      client->Evaluate("eu-only", Context("u").Set("region", "eu"));
  EXPECT_EQ(d.reason, Reason::kRuleMatch);
  EXPECT_EQ(d.rule_index, 0);
  EXPECT_EQ(d.variant, "on");
  EXPECT_EQ(d.snapshot_version, 1u);
  EXPECT_EQ(client->GetStatus().origin, SnapshotOrigin::kBootstrap);
  EXPECT_TRUE(client->WaitUntilReady(absl::ZeroDuration()));
}

TEST(ClientTest, StringValuesOutliveTheirSnapshot) {
  auto client = MakeClient();
  const std::string_view hello = client->GetString("banner", "");
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  ASSERT_TRUE(client->Publish(WithVersion(3, "on")).ok());
  EXPECT_EQ(hello, "Hello");  // still readable: interned for the client's life
}

TEST(FlagHandleTest, HandleFollowsEveryPublication) {
  auto client = MakeClient(WithVersion(1, "on"));
  FlagHandle fix = client->Flag("fix-123");
  FlagHandle missing = client->Flag("later");
  EXPECT_TRUE(fix.Enabled());
  EXPECT_FALSE(missing.Enabled());
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  EXPECT_FALSE(fix.Enabled());
  // Now a rule-based (dynamic) definition.
  ASSERT_TRUE(client
                  ->Publish(R"({"version": 3, "flags": {"fix-123": {
      "variants": {"on": true, "off": false}, "off_variant": "off", "default": "off",
      "rules": [{"if": [{"attribute": "region", "op": "eq", "value": "eu"}], "serve": "on"}]},
      "later": {"variants": {"on": true}, "default": "on"}}})")
                  .ok());
  EXPECT_TRUE(fix.Enabled(Context("u").Set("region", "eu")));
  EXPECT_FALSE(fix.Enabled(Context("u").Set("region", "us")));
  EXPECT_TRUE(missing.Enabled());
  EXPECT_EQ(fix.Evaluate(Context("u").Set("region", "eu")).snapshot_version,
            3u);
  EXPECT_EQ(fix.key(), "fix-123");
  // Same key, same cell.
  EXPECT_TRUE(client->Flag("later").Enabled());
}

TEST(FlagHandleTest, TypedGettersThroughHandles) {
  auto client = MakeClient();
  EXPECT_EQ(
      client->Flag("banner").GetString("x", Context("u").Set("lang", "fr")),
      "Bonjour");
  EXPECT_EQ(client->Flag("limit").GetInt(0), 10);
  EXPECT_EQ(client->Flag("limit").GetDouble(0), 10.0);
  EXPECT_EQ(client->Flag("config").GetJson(""), R"({"retries":3})");
  EXPECT_TRUE(client->Flag("fix-123").GetBool(false));
  EXPECT_EQ(client->Flag("nope").Evaluate().error, ErrorKind::kFlagNotFound);
}

TEST(ListenerTest, FiresOnceWithChangedKeys) {
  auto client = MakeClient(WithVersion(1, "on"));
  std::vector<ChangeEvent> events;
  client->AddListener([&](const ChangeEvent& e) { events.push_back(e); });
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].old_version, 1u);
  EXPECT_EQ(events[0].new_version, 2u);
  EXPECT_THAT(events[0].changed_keys, ElementsAre("fix-123"));
  EXPECT_EQ(events[0].origin, SnapshotOrigin::kTest);
  // The same document again changes nothing: no event.
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  EXPECT_EQ(events.size(), 1u);
  // A removed and an added flag are both reported.
  ASSERT_TRUE(client
                  ->Publish(R"({"version": 3, "flags": {
      "fix-123": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "off"},
      "new": {"variants": {"on": true}, "default": "on"}}})")
                  .ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_THAT(events[1].changed_keys, ElementsAre("new", "other"));
}

TEST(ListenerTest, EventsAreNumberedAndTheStatusCountsThem) {
  auto client = MakeClient(WithVersion(1, "on"));
  std::vector<std::uint64_t> sequences;
  client->AddListener(
      [&](const ChangeEvent& e) { sequences.push_back(e.sequence); });
  const std::uint64_t before = client->GetStatus().changes;
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());  // no change
  ASSERT_TRUE(client->Publish(WithVersion(3, "on")).ok());
  EXPECT_THAT(sequences, ElementsAre(before + 1, before + 2));
  EXPECT_EQ(client->GetStatus().changes, before + 2);
}

TEST(ListenerTest, AListenerHearsNoChangeAcceptedBeforeItWasAdded) {
  auto client = MakeClient(WithVersion(1, "on"));
  absl::Notification first_running, release_first;
  client->AddListener([&](const ChangeEvent& e) {
    if (e.new_version != 2) return;
    first_running.Notify();
    release_first.WaitForNotification();
  });
  std::thread publisher(
      [&] { EXPECT_TRUE(client->Publish(WithVersion(2, "off")).ok()); });
  first_running.WaitForNotification();
  // Version 2's delivery is under way on `publisher`: version 3 is accepted
  // and its event queued behind it.
  ASSERT_TRUE(client->Publish(WithVersion(3, "on")).ok());
  EXPECT_EQ(client->version(), 3u);
  // A listener added now has seen version 3 (through version()): it must not
  // be told of it again, only of later changes.
  std::mutex heard_mu;
  std::vector<std::uint64_t> heard;
  client->AddListener([&](const ChangeEvent& e) {
    std::lock_guard<std::mutex> lock(heard_mu);
    heard.push_back(e.new_version);
  });
  release_first.Notify();
  publisher.join();
  ASSERT_TRUE(client->Publish(WithVersion(4, "off")).ok());
  std::lock_guard<std::mutex> lock(heard_mu);
  EXPECT_THAT(heard, ElementsAre(4u));
}

TEST(ListenerTest, RejectedDocumentChangesNothing) {
  auto client = MakeClient(WithVersion(1, "on"));
  int calls = 0;
  client->AddListener([&](const ChangeEvent&) { ++calls; });
  const absl::Status status =
      client->Publish(R"({"version": 2, "flags": {"fix-123": {
      "variants": {"on": true}, "default": "onn"}}})");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("flags.fix-123.default"));
  EXPECT_EQ(calls, 0);
  EXPECT_TRUE(client->Enabled("fix-123"));
  EXPECT_EQ(client->version(), 1u);
}

TEST(ListenerTest, ThrowingListenerIsLoggedNotFatal) {
  std::vector<std::string> logged;
  SetLogSink([&](LogLevel, std::string_view m) { logged.emplace_back(m); });
  auto client = MakeClient(WithVersion(1, "on"));
  int later_calls = 0;
  client->AddListener(
      [](const ChangeEvent&) { throw std::runtime_error("boom"); });
  client->AddListener([&](const ChangeEvent&) { ++later_calls; });
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  EXPECT_EQ(later_calls, 1);
  SetLogSink(nullptr);
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_THAT(logged[0], HasSubstr("boom"));
}

TEST(ListenerTest, RemovedListenerIsNotCalled) {
  auto client = MakeClient(WithVersion(1, "on"));
  int calls = 0;
  const int id = client->AddListener([&](const ChangeEvent&) { ++calls; });
  client->RemoveListener(id);
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  EXPECT_EQ(calls, 0);
}

TEST(ListenerTest, ListenerMayRemoveItselfButNotPublish) {
  auto client = MakeClient(WithVersion(1, "on"));
  int calls = 0;
  absl::Status inner;
  int id = 0;
  id = client->AddListener([&](const ChangeEvent&) {
    ++calls;
    inner = client->Publish(WithVersion(99, "on"));
    client->RemoveListener(id);
  });
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  ASSERT_TRUE(client->Publish(WithVersion(3, "on")).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client->version(), 3u);
}

TEST(ListenerTest, ListenerMayWaitForAThreadThatPublishes) {
  auto client = MakeClient(WithVersion(1, "on"));
  std::atomic<int> calls{0};
  std::atomic<bool> other_returned{false};
  bool waited = false;
  std::thread other;
  client->AddListener([&](const ChangeEvent& event) {
    ++calls;
    if (event.new_version != 2) return;
    // A publication from another thread does not wait for this listener...
    other = std::thread([&] {
      EXPECT_TRUE(client->Publish(WithVersion(3, "on")).ok());
      other_returned = true;
    });
    waited = WaitFor(other_returned);
  });
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  other.join();
  EXPECT_TRUE(waited) << "the other thread's Publish waited for the listener";
  // ...and its event is delivered after this one, by the thread that was
  // dispatching.
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(client->version(), 3u);
}

TEST(ListenerTest, RemovingAnotherListenerDoesNotWaitForTheRunningOne) {
  auto client = MakeClient(WithVersion(1, "on"));
  std::atomic<bool> removed{false};
  bool waited = false;
  std::atomic<int> b_calls{0};
  std::thread remover;
  int b = 0;
  client->AddListener([&](const ChangeEvent&) {
    remover = std::thread([&] {
      client->RemoveListener(b);
      removed = true;
    });
    waited = WaitFor(removed);
  });
  b = client->AddListener([&](const ChangeEvent&) { ++b_calls; });
  ASSERT_TRUE(client->Publish(WithVersion(2, "off")).ok());
  remover.join();
  EXPECT_TRUE(waited) << "RemoveListener waited for another listener";
  EXPECT_EQ(b_calls.load(), 0);  // removed before its turn
}

TEST(ListenerTest, RemoveListenerReturnsOnlyOnceThatListenerHasReturned) {
  auto client = MakeClient(WithVersion(1, "on"));
  std::atomic<bool> running{false}, removing{false};
  const int id = client->AddListener([&](const ChangeEvent&) {
    running = true;
    WaitFor(removing);
    // Long enough for a RemoveListener that does not wait to return first.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    running = false;
  });
  std::thread publisher(
      [&] { EXPECT_TRUE(client->Publish(WithVersion(2, "off")).ok()); });
  ASSERT_TRUE(WaitFor(running));
  removing = true;
  client->RemoveListener(id);
  EXPECT_FALSE(running.load()) << "RemoveListener returned during the call";
  publisher.join();
}

TEST(ListenerTest, EventsOfConcurrentPublishersArriveOneAtATimeInOrder) {
  auto client = MakeClient(Numbered(1));
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  std::vector<ChangeEvent> events;  // written by one listener call at a time
  client->AddListener([&](const ChangeEvent& event) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    events.push_back(event);
    std::this_thread::yield();
    inside.fetch_sub(1);
  });
  std::vector<std::thread> publishers;
  constexpr int kThreads = 4, kEach = 50;
  for (int t = 0; t < kThreads; ++t) {
    publishers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(client->Publish(Numbered(1000 * (t + 1) + i)).ok());
      }
    });
  }
  for (auto& t : publishers) t.join();
  EXPECT_FALSE(overlapped.load());
  // Every publication changed "n", and once every Publish has returned its
  // event has been delivered, in publication order: each event starts where
  // the previous one ended.
  ASSERT_EQ(events.size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_EQ(events[0].old_version, 1u);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].old_version, events[i - 1].new_version) << i;
  }
  EXPECT_EQ(events.back().new_version, client->version());
}

TEST(ListenerTest, ClientDestroyedInsideItsListenerIsFreedAfterTheListener) {
  std::vector<std::string> logged;
  SetLogSink([&](LogLevel, std::string_view m) { logged.emplace_back(m); });
  std::unique_ptr<Client> client = MakeClient(WithVersion(1, "on"));
  // Set when the listener's captures are destroyed: when the client is freed.
  auto freed = std::make_shared<std::atomic<bool>>(false);
  auto on_free = std::make_shared<testing_support::SetOnDestroy>(freed);
  int later_calls = 0;
  client->AddListener([&, on_free](const ChangeEvent&) {
    client.reset();
    EXPECT_FALSE(freed->load());  // not under the running listener
  });
  client->AddListener([&](const ChangeEvent&) { ++later_calls; });
  on_free.reset();
  Client* raw = client.get();
  EXPECT_TRUE(raw->Publish(WithVersion(2, "off")).ok());
  EXPECT_EQ(client, nullptr);
  EXPECT_EQ(later_calls, 0);  // no listener runs after the destruction
  EXPECT_TRUE(WaitFor(*freed));
  SetLogSink(nullptr);
  ASSERT_FALSE(logged.empty());
  EXPECT_THAT(logged[0], HasSubstr("destroyed inside one of its own change "
                                   "listeners"));
}

#ifndef NDEBUG
TEST(FlagHandleDeathTest, HandleUsedAfterItsClientAbortsInDebugBuilds) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto client = MakeClient(WithVersion(1, "on"));
        FlagHandle fix = client->Flag("fix-123");
        client.reset();
        (void)fix.Enabled();
      },
      "FlagHandle\\(\"fix-123\"\\) used after its Client was destroyed");
}
#endif

}  // namespace
}  // namespace hotfix
