// tests/integration/store_test.cc
//
// The store contract (tools/hotfixd/store/store.h), run against both
// implementations: SQLite in a temporary directory and PostgreSQL in a
// throwaway server (postgres_server.h), a fresh database per test. Includes
// the concurrency contract — writers racing through CommitVersion's
// compare-and-set (for PostgreSQL from separate connections, as replicas
// do) leave contiguous versions and lose nothing acknowledged — durability
// across reopening, the change feed, and copying between the two
// (`hotfixd migrate`) with checksums verified.

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "postgres_server.h"
#include "store/copy.h"
#include "store/epoch.h"
#include "store/open.h"
#include "store/postgres_feed.h"
#include "store/sqlite_store.h"
#include "store/store.h"

namespace hotfix {
namespace integration {
namespace {

using hotfixd::AuditRow;
using hotfixd::Backend;
using hotfixd::ChangeRequestRow;
using hotfixd::DatabaseSpec;
using hotfixd::RolloutPlanRow;
using hotfixd::Store;
using hotfixd::StoreEvent;
using hotfixd::TelemetryRow;
using hotfixd::TokenRow;
using hotfixd::VersionRow;
using hotfixd::WebhookRow;

std::string Document(std::uint64_t version, const std::string& value) {
  return absl::StrCat(R"({"version":)", version,
                      R"(,"flags":{"f":{"variants":{"v":")", value,
                      R"("},"default":"v"}},"segments":{}})");
}

VersionRow Version(const std::string& env, std::uint64_t version,
                   const std::string& value) {
  VersionRow v;
  v.env = env;
  v.version = version;
  v.document = Document(version, value);
  v.actor = "tester";
  v.reason = absl::StrCat("write ", value);
  v.created_at = 1000 + static_cast<std::int64_t>(version);
  v.action = version == 1 ? "env.create" : "flag.update";
  v.event = version == 1 ? "put" : "patch";
  if (version > 1) {
    v.patch_key = "f";
    v.patch_flag =
        absl::StrCat(R"({"variants":{"v":")", value, R"("},"default":"v"})");
  }
  v.changed_keys = R"(["f"])";
  return v;
}

AuditRow Audit(const std::string& env, std::uint64_t version,
               const std::string& action = "flag.update") {
  AuditRow a;
  a.created_at = 1000 + static_cast<std::int64_t>(version);
  a.actor = "tester";
  a.action = action;
  a.env = env;
  a.version = version;
  a.reason = "because";
  a.detail = absl::StrCat(R"({"to_version":)", version, "}");
  return a;
}

TokenRow Token(const std::string& id, const std::string& hash) {
  TokenRow t;
  t.id = id;
  t.name = "name-" + id;
  t.hash = hash;
  t.scopes = "read,write";
  t.created_at = 5;
  t.created_by = "tester";
  return t;
}

// One PostgreSQL server for the whole binary; a database per test.
PostgresServer* g_postgres = nullptr;

class StoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  static void SetUpTestSuite() {
    if (g_postgres == nullptr) g_postgres = PostgresServer::Create().release();
  }
  static void TearDownTestSuite() {
    delete g_postgres;
    g_postgres = nullptr;
  }

  void SetUp() override {
    spec_.backend = GetParam();
    if (GetParam() == Backend::kSqlite) {
      spec_.location = dir_.path() + "/data";
    } else {
      ASSERT_NE(g_postgres, nullptr);
      spec_.location = g_postgres->CreateDatabase();
    }
    store_ = Open();
    ASSERT_NE(store_, nullptr);
  }

  std::unique_ptr<Store> Open() {
    auto store = hotfixd::OpenStore(spec_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  void CreateEnv(const std::string& env) {
    ASSERT_TRUE(store_
                    ->CreateEnvironment(Version(env, 1, "first"),
                                        Audit(env, 1, "env.create"))
                    .ok());
  }

  TempDir dir_;
  DatabaseSpec spec_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, CreatesAndReadsEnvironments) {
  CreateEnv("production");
  EXPECT_TRUE(absl::IsAlreadyExists(store_->CreateEnvironment(
      Version("production", 1, "again"), Audit("production", 1))));
  auto envs = store_->ListEnvironments();
  ASSERT_TRUE(envs.ok()) << envs.status();
  ASSERT_EQ(envs->size(), 1u);
  EXPECT_EQ((*envs)[0].name, "production");
  EXPECT_EQ((*envs)[0].version, 1u);
  EXPECT_FALSE((*envs)[0].protected_env);
  auto env = store_->GetEnvironment("production");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->version, 1u);
  EXPECT_TRUE(absl::IsNotFound(store_->GetEnvironment("staging").status()));
  auto v = store_->GetVersion("production", 1);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->document, Document(1, "first"));
  EXPECT_EQ(v->sha256.size(), 64u);
  EXPECT_TRUE(absl::IsNotFound(store_->GetVersion("production", 2).status()));
}

TEST_P(StoreTest, CommitVersionIsACompareAndSet) {
  CreateEnv("production");
  ASSERT_TRUE(store_
                  ->CommitVersion(Version("production", 2, "two"),
                                  Audit("production", 2))
                  .ok());
  // Based on a version that is no longer current: nothing written.
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->CommitVersion(
      Version("production", 2, "other"), Audit("production", 2))));
  EXPECT_TRUE(absl::IsFailedPrecondition(store_->CommitVersion(
      Version("production", 4, "gap"), Audit("production", 4))));
  auto v = store_->GetVersion("production", 2);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->document, Document(2, "two"));
  ASSERT_TRUE(v->patch_flag.has_value());
  EXPECT_EQ(v->patch_key, "f");
  ASSERT_TRUE(store_
                  ->CommitVersion(Version("production", 3, "three"),
                                  Audit("production", 3))
                  .ok());
  auto newest = store_->ListVersions("production", 0, 2);
  ASSERT_TRUE(newest.ok());
  ASSERT_EQ(newest->size(), 2u);
  EXPECT_EQ((*newest)[0].version, 3u);
  EXPECT_EQ((*newest)[1].version, 2u);
  EXPECT_TRUE((*newest)[0].document.empty());
  auto after = store_->ListVersionsAfter("production", 1, 10);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 2u);
  EXPECT_EQ((*after)[0].version, 2u);
  EXPECT_EQ((*after)[1].version, 3u);
  auto audit = store_->ListAudit("production", 0, 10);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->size(), 3u);  // create + two commits, not the refused
}

// Writers race through the compare-and-set — for PostgreSQL each through
// its own connection, as replicas do. Every acknowledged commit is there,
// versions are contiguous, and each holds what its writer wrote.
TEST_P(StoreTest, RacingWritersLeaveContiguousVersions) {
  CreateEnv("production");
  constexpr int kWriters = 4;
  constexpr int kCommitsEach = 25;
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < kWriters; ++i) {
    stores.push_back(GetParam() == Backend::kPostgres ? Open() : nullptr);
  }
  absl::Mutex mu;
  std::map<std::uint64_t, std::string> acknowledged;
  std::atomic<int> conflicts{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      Store* store = stores[w] != nullptr ? stores[w].get() : store_.get();
      for (int n = 0; n < kCommitsEach;) {
        auto env = store->GetEnvironment("production");
        ASSERT_TRUE(env.ok()) << env.status();
        const std::string value = absl::StrCat("w", w, "-", n);
        absl::Status st =
            store->CommitVersion(Version("production", env->version + 1, value),
                                 Audit("production", env->version + 1));
        if (absl::IsFailedPrecondition(st)) {
          conflicts.fetch_add(1);
          continue;
        }
        ASSERT_TRUE(st.ok()) << st;
        absl::MutexLock lock(&mu);
        acknowledged[env->version + 1] = value;
        ++n;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  const std::uint64_t last = 1 + kWriters * kCommitsEach;
  ASSERT_EQ(acknowledged.size(), static_cast<std::size_t>(last - 1));
  EXPECT_EQ(acknowledged.begin()->first, 2u);
  EXPECT_EQ(acknowledged.rbegin()->first, last);
  auto env = store_->GetEnvironment("production");
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->version, last);
  for (const auto& [version, value] : acknowledged) {
    auto v = store_->GetVersion("production", version);
    ASSERT_TRUE(v.ok()) << "version " << version << ": " << v.status();
    EXPECT_EQ(v->document, Document(version, value));
  }
  auto audit = store_->ListAudit("production", 0, 1000);
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->size(), static_cast<std::size_t>(last));
  std::printf("%d lost races\n", conflicts.load());
}

TEST_P(StoreTest, WhatIsCommittedSurvivesReopening) {
  CreateEnv("production");
  ASSERT_TRUE(store_
                  ->CommitVersion(Version("production", 2, "kept"),
                                  Audit("production", 2))
                  .ok());
  ASSERT_TRUE(
      store_->InsertToken(Token("tok_1", std::string(64, 'a')), nullptr).ok());
  ASSERT_TRUE(store_->SetEpoch(7).ok());
  store_.reset();
  // SQLite: the directory lock is per process and still held; reopening
  // the file itself is what matters here.
  if (GetParam() == Backend::kSqlite) {
    auto reopened = hotfixd::SqliteStore::Open(spec_.location + "/hotfixd.db");
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    store_ = std::move(*reopened);
  } else {
    store_ = Open();
  }
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(store_->Epoch(), 7u);
  auto v = store_->GetVersion("production", 2);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->document, Document(2, "kept"));
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->size(), 1u);
}

TEST_P(StoreTest, TokensAreCreatedOnceAndRevokedOnce) {
  ASSERT_TRUE(
      store_->InsertToken(Token("tok_1", std::string(64, 'a')), nullptr).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(
      store_->InsertToken(Token("tok_2", std::string(64, 'a')), nullptr)));
  AuditRow audit = Audit("", 0, "token.revoke");
  ASSERT_TRUE(store_->RevokeToken("tok_1", 99, audit).ok());
  EXPECT_TRUE(absl::IsAlreadyExists(store_->RevokeToken("tok_1", 100, audit)));
  EXPECT_TRUE(absl::IsNotFound(store_->RevokeToken("tok_9", 100, audit)));
  auto tokens = store_->ListTokens();
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].revoked_at, 99);
}

TEST_P(StoreTest, ChangeRequestsAreDecidedOnce) {
  CreateEnv("production");
  ASSERT_TRUE(
      store_->SetProtected("production", true, Audit("production", 0)).ok());
  EXPECT_TRUE(store_->GetEnvironment("production")->protected_env);
  ChangeRequestRow r;
  r.env = "production";
  r.action = "flag.rollout";
  r.request = "{}";
  r.diff = "{}";
  r.base_version = 1;
  r.proposer = "alice";
  r.proposer_token_id = "tok_a";
  r.reason = "ramp";
  r.created_at = 10;
  r.expires_at = 20;
  auto id = store_->InsertChangeRequest(r, Audit("production", 0));
  ASSERT_TRUE(id.ok()) << id.status();
  auto got = store_->GetChangeRequest("production", *id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, "proposed");
  got->state = "rejected";
  got->decided_by = "bob";
  got->decided_at = 15;
  ASSERT_TRUE(store_->DecideChangeRequest(*got, Audit("production", 0)).ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(
      store_->DecideChangeRequest(*got, Audit("production", 0))));
  auto rejected = store_->ListChangeRequests("production", "rejected", 10);
  ASSERT_TRUE(rejected.ok());
  ASSERT_EQ(rejected->size(), 1u);
  EXPECT_EQ((*rejected)[0].decided_by, "bob");
  EXPECT_TRUE(absl::IsNotFound(
      store_->GetChangeRequest("production", *id + 1).status()));
}

TEST_P(StoreTest, WebhooksAreAddedAndDeleted) {
  CreateEnv("production");
  WebhookRow w;
  w.id = "wh_1";
  w.env = "production";
  w.url = "http://127.0.0.1:1/hook";
  w.secret = "whsec_secret_secret";
  w.created_at = 3;
  w.created_by = "alice";
  ASSERT_TRUE(store_->InsertWebhook(w, Audit("production", 0)).ok());
  auto hooks = store_->ListWebhooks("");
  ASSERT_TRUE(hooks.ok());
  ASSERT_EQ(hooks->size(), 1u);
  EXPECT_EQ((*hooks)[0].secret, w.secret);
  ASSERT_TRUE(
      store_->DeleteWebhook("production", "wh_1", Audit("production", 0)).ok());
  EXPECT_TRUE(absl::IsNotFound(
      store_->DeleteWebhook("production", "wh_1", Audit("production", 0))));
}

TEST_P(StoreTest, AuditPagesNewestFirst) {
  CreateEnv("production");
  CreateEnv("staging");
  for (std::uint64_t v = 2; v <= 6; ++v) {
    ASSERT_TRUE(store_
                    ->CommitVersion(Version("production", v, "x"),
                                    Audit("production", v))
                    .ok());
  }
  auto page = store_->ListAudit("production", 0, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 3u);
  EXPECT_EQ((*page)[0].version, 6u);
  auto next = store_->ListAudit("production", page->back().id, 10);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->size(), 3u);  // 3, 2 and the creation
  auto all = store_->ListAudit("", 0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
}

TelemetryRow Telemetry(const std::string& variant, std::int64_t minute,
                       std::uint64_t exposures, std::uint64_t failures) {
  TelemetryRow t;
  t.env = "production";
  t.flag = "checkout";
  t.variant = variant;
  t.minute = minute;
  t.exposures = exposures;
  t.successes = exposures - failures;
  t.failures = failures;
  return t;
}

// Counts add up per minute (two replicas flushing the same minute add, not
// overwrite), purging drops whole minutes, and a flag counts as evaluated
// at its latest minute with exposures.
TEST_P(StoreTest, TelemetryAddsUpPerMinuteAndPurges) {
  ASSERT_TRUE(store_
                  ->AddTelemetry({Telemetry("on", 100, 10, 1),
                                  Telemetry("off", 100, 5, 0),
                                  Telemetry("on", 101, 4, 2)})
                  .ok());
  ASSERT_TRUE(store_->AddTelemetry({Telemetry("on", 100, 7, 3)}).ok());
  auto rows = store_->ListTelemetry("production", "checkout", 0);
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[0].minute, 100);  // oldest first, then by variant
  EXPECT_EQ((*rows)[0].variant, "off");
  EXPECT_EQ((*rows)[1].variant, "on");
  EXPECT_EQ((*rows)[1].exposures, 17u);
  EXPECT_EQ((*rows)[1].successes, 13u);
  EXPECT_EQ((*rows)[1].failures, 4u);
  EXPECT_EQ((*rows)[2].minute, 101);
  auto since = store_->ListTelemetry("production", "checkout", 101);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 1u);

  auto usage = store_->ListUsage("production");
  ASSERT_TRUE(usage.ok()) << usage.status();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].flag, "checkout");
  EXPECT_EQ((*usage)[0].last_evaluated, 101 * 60 * 1000000LL);
  // An older minute does not move it back.
  ASSERT_TRUE(store_->AddTelemetry({Telemetry("on", 50, 1, 0)}).ok());
  usage = store_->ListUsage("production");
  ASSERT_TRUE(usage.ok());
  EXPECT_EQ((*usage)[0].last_evaluated, 101 * 60 * 1000000LL);

  ASSERT_TRUE(store_->PurgeTelemetry(101).ok());
  rows = store_->ListTelemetry("production", "checkout", 0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].minute, 101);
}

TEST_P(StoreTest, ARolloutPlanReplacesTheOldOneAndListsByState) {
  RolloutPlanRow plan;
  plan.env = "production";
  plan.flag = "checkout";
  plan.spec = R"({"stages":[1,10,100]})";
  plan.state = "active";
  plan.stage = 0;
  plan.started_at = 10;
  plan.stage_started_at = 10;
  plan.updated_at = 10;
  plan.created_by = "alice";
  plan.judgement = "";
  ASSERT_TRUE(store_->PutRolloutPlan(plan).ok());
  RolloutPlanRow other = plan;
  other.flag = "search";
  other.state = "completed";
  ASSERT_TRUE(store_->PutRolloutPlan(other).ok());
  plan.stage = 1;
  plan.stage_started_at = 20;
  plan.updated_at = 20;
  plan.judgement = "healthy: 0 failures in 1,000";
  ASSERT_TRUE(store_->PutRolloutPlan(plan).ok());

  auto got = store_->GetRolloutPlan("production", "checkout");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->stage, 1);
  EXPECT_EQ(got->stage_started_at, 20);
  EXPECT_EQ(got->spec, plan.spec);
  EXPECT_EQ(got->judgement, plan.judgement);
  EXPECT_EQ(got->created_by, "alice");
  EXPECT_TRUE(absl::IsNotFound(
      store_->GetRolloutPlan("production", "nothing").status()));
  auto active = store_->ListRolloutPlans("active");
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].flag, "checkout");
  auto all = store_->ListRolloutPlans("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(Backend::kSqlite,
                                           Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite
                                      ? std::string("Sqlite")
                                      : std::string("Postgres");
                         });

// A commit through one connection reaches another's feed — after the
// feed's first (re)connection event, which says "re-read everything".
TEST(PostgresFeedTest, AnotherConnectionsCommitArrives) {
  auto server = PostgresServer::Create();
  ASSERT_NE(server, nullptr);
  DatabaseSpec spec{Backend::kPostgres, server->CreateDatabase()};
  auto writer = hotfixd::OpenStore(spec);
  auto reader = hotfixd::OpenStore(spec);
  ASSERT_TRUE(writer.ok() && reader.ok());
  absl::Mutex mu;
  std::vector<StoreEvent> events;
  auto feed = (*reader)->Watch([&](const StoreEvent& e) {
    absl::MutexLock lock(&mu);
    events.push_back(e);
  });
  ASSERT_TRUE(feed.ok());
  ASSERT_NE(*feed, nullptr);
  auto has = [&](StoreEvent::Kind kind, std::uint64_t version) {
    absl::MutexLock lock(&mu);
    for (const StoreEvent& e : events) {
      if (e.kind == kind && e.version == version) return true;
    }
    return false;
  };
  ASSERT_TRUE(WaitUntil([&] { return has(StoreEvent::Kind::kResync, 0); },
                        absl::Seconds(30)));
  ASSERT_TRUE((*writer)
                  ->CreateEnvironment(Version("production", 1, "a"),
                                      Audit("production", 1))
                  .ok());
  ASSERT_TRUE(
      (*writer)
          ->CommitVersion(Version("production", 2, "b"), Audit("production", 2))
          .ok());
  EXPECT_TRUE(WaitUntil([&] { return has(StoreEvent::Kind::kVersion, 2); },
                        absl::Seconds(30)));
  EXPECT_TRUE(WaitUntil([&] { return has(StoreEvent::Kind::kEnvironment, 0); },
                        absl::Seconds(30)));
  // The server goes away and comes back: the feed says so (kResync again).
  {
    absl::MutexLock lock(&mu);
    events.clear();
  }
  ASSERT_TRUE(server->Stop());
  EXPECT_TRUE(
      WaitUntil([&] { return !(*feed)->connected(); }, absl::Seconds(30)));
  ASSERT_TRUE(server->Start());
  EXPECT_TRUE(WaitUntil([&] { return has(StoreEvent::Kind::kResync, 0); },
                        absl::Seconds(30)));
}

// What PostgresStore sends is what the feed reads back.
TEST(PostgresFeedTest, NotificationPayloadsRoundTrip) {
  for (const StoreEvent& sent :
       {StoreEvent{StoreEvent::Kind::kVersion, "production", 7},
        StoreEvent{StoreEvent::Kind::kEnvironment, "staging", 0},
        StoreEvent{StoreEvent::Kind::kTokens, "", 0},
        StoreEvent{StoreEvent::Kind::kWebhooks, "production", 0}}) {
    const std::string payload = hotfixd::NotificationPayload(sent);
    std::optional<StoreEvent> read = hotfixd::ParseNotification(payload);
    ASSERT_TRUE(read.has_value()) << payload;
    EXPECT_EQ(read->kind, sent.kind) << payload;
    EXPECT_EQ(read->env, sent.env) << payload;
    EXPECT_EQ(read->version, sent.version) << payload;
  }
  EXPECT_EQ(hotfixd::NotificationPayload(
                StoreEvent{StoreEvent::Kind::kVersion, "production", 7}),
            "v production 7");
}

// `hotfixd migrate`: everything, ids and checksums kept, digests equal, a
// new epoch; an occupied target is refused.
TEST(CopyStoreTest, SqliteToPostgresKeepsEverything) {
  TempDir dir;
  auto server = PostgresServer::Create();
  ASSERT_NE(server, nullptr);
  auto from = hotfixd::OpenStore({Backend::kSqlite, dir.path() + "/data"});
  ASSERT_TRUE(from.ok()) << from.status();
  Store& src = **from;
  for (const char* env : {"production", "staging"}) {
    ASSERT_TRUE(
        src.CreateEnvironment(Version(env, 1, "a"), Audit(env, 1)).ok());
    for (std::uint64_t v = 2; v <= 40; ++v) {
      ASSERT_TRUE(src.CommitVersion(Version(env, v, absl::StrCat("v", v)),
                                    Audit(env, v))
                      .ok());
    }
  }
  ASSERT_TRUE(
      src.InsertToken(Token("tok_1", std::string(64, 'a')), nullptr).ok());
  ASSERT_TRUE(
      src.InsertToken(Token("tok_2", std::string(64, 'b')), nullptr).ok());
  ASSERT_TRUE(src.RevokeToken("tok_2", 77, Audit("", 0)).ok());
  ChangeRequestRow r;
  r.env = "production";
  r.action = "flag.revive";
  r.request = R"({"method":"POST"})";
  r.diff = "{}";
  r.proposer = "alice";
  r.proposer_token_id = "tok_1";
  r.reason = "why";
  ASSERT_TRUE(src.InsertChangeRequest(r, Audit("production", 0)).ok());
  WebhookRow w;
  w.id = "wh_1";
  w.env = "staging";
  w.url = "https://example.invalid/hook";
  w.secret = "whsec_0123456789abcdef";
  ASSERT_TRUE(src.InsertWebhook(w, Audit("staging", 0)).ok());
  RolloutPlanRow plan;
  plan.env = "production";
  plan.flag = "checkout";
  plan.spec = R"({"stages":[5,50,100]})";
  plan.state = "active";
  plan.stage = 1;
  plan.created_by = "alice";
  ASSERT_TRUE(src.PutRolloutPlan(plan).ok());
  ASSERT_TRUE(src.AddTelemetry(
                     {Telemetry("on", 100, 10, 1), Telemetry("off", 101, 3, 0)})
                  .ok());

  auto to = hotfixd::OpenStore({Backend::kPostgres, server->CreateDatabase()});
  ASSERT_TRUE(to.ok()) << to.status();
  auto report = hotfixd::CopyStore(src, **to);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->environments, 2u);
  EXPECT_EQ(report->versions, 80u);
  EXPECT_EQ(report->tokens, 2u);
  EXPECT_EQ(report->change_requests, 1u);
  EXPECT_EQ(report->webhooks, 1u);
  EXPECT_EQ(report->rollout_plans, 1u);
  EXPECT_EQ(report->telemetry, 2u);
  auto copied_plan = (*to)->GetRolloutPlan("production", "checkout");
  ASSERT_TRUE(copied_plan.ok()) << copied_plan.status();
  EXPECT_EQ(copied_plan->stage, 1);
  auto copied_telemetry = (*to)->ListTelemetry("production", "checkout", 0);
  ASSERT_TRUE(copied_telemetry.ok());
  ASSERT_EQ(copied_telemetry->size(), 2u);
  EXPECT_EQ((*copied_telemetry)[0].exposures, 10u);
  auto copied_usage = (*to)->ListUsage("production");
  ASSERT_TRUE(copied_usage.ok());
  ASSERT_EQ(copied_usage->size(), 1u);
  EXPECT_EQ((*copied_usage)[0].last_evaluated, 101 * 60 * 1000000LL);
  EXPECT_GT(report->epoch, src.Epoch());
  EXPECT_EQ((*to)->Epoch(), report->epoch);
  auto digest = hotfixd::StoreDigest(**to);
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, *hotfixd::StoreDigest(src));
  // New rows continue after the copied ids.
  auto id = (*to)->InsertChangeRequest(r, Audit("production", 0));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 2);
  // The target is no longer empty: a second copy is refused.
  EXPECT_TRUE(
      absl::IsFailedPrecondition(hotfixd::CopyStore(src, **to).status()));
}

TEST(EpochTest, WireVersionsOfANewEpochExceedEveryEarlierOne) {
  using hotfixd::LocalVersion;
  using hotfixd::NextEpoch;
  using hotfixd::WireVersion;
  EXPECT_EQ(WireVersion(0, 42), 42u);
  const std::uint32_t next = NextEpoch(0, 1765049000);  // Dec 2025
  EXPECT_GT(next, 0u);
  EXPECT_GT(WireVersion(next, 1), WireVersion(0, hotfixd::kMaxLocalVersion));
  EXPECT_GT(NextEpoch(next, 0), next);
  EXPECT_LT(WireVersion(hotfixd::kMaxEpoch, hotfixd::kMaxLocalVersion),
            std::uint64_t{1} << 53);
  EXPECT_EQ(LocalVersion(next, WireVersion(next, 9)), 9u);
  EXPECT_EQ(LocalVersion(next, 9), 9u);
  EXPECT_EQ(LocalVersion(next, WireVersion(next + 1, 9)), hotfixd::kNoVersion);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
