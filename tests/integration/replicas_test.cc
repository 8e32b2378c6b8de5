// tests/integration/replicas_test.cc
//
// hotfixd replicas on one PostgreSQL (a throwaway server, postgres_server.h),
// with real SDK clients that know every replica's URL (RemoteOptions::
// base_urls):
//
// - Three replicas, 30 clients spread over them (streaming and polling), two
//   writers changing a flag through random replicas while each replica in
//   turn is killed with SIGKILL and restarted: every acknowledged version is
//   stored intact, versions are contiguous, history is the same from every
//   replica, clients of a killed replica move to another and keep streaming,
//   no client ever goes back a version, and all converge to the final one.
// - Two operators with the same If-Match on two replicas at once: exactly
//   one 200 and one 412.
// - PostgreSQL stopped mid-run: clients keep evaluating, replicas keep
//   serving flags (/v1/flags and OFREP), writes answer 503, /healthz and
//   /metrics say so; started again: writes succeed without restarting
//   hotfixd and streams on every replica get the change.
//
// Every wait is for a condition, bounded. The replicas keep their ports
// across restarts (the test holds the listening sockets), as they would
// behind fixed addresses.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "hotfix/client.h"
#include "hotfix/options.h"
#include "postgres_server.h"
#include "support/test_client.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kConverge = absl::Seconds(60);
constexpr char kFlagPath[] = "/v1/admin/envs/production/flags/counter";

std::string CounterBody(const std::string& value) {
  return absl::StrCat(R"({"reason":"replica write )", value,
                      R"(","flag":{"variants":{"v":")", value,
                      R"("},"default":"v"}})");
}

// One write with short timeouts: a replica that was just killed (its
// connections wait in the test's backlog until it restarts) costs a second,
// not the harness's 30.
HttpReply Write(int port, const std::string& value) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1, 0);
  client.set_read_timeout(5, 0);
  client.set_write_timeout(5, 0);
  client.set_keep_alive(false);
  return HttpReply::From(client.Put(
      kFlagPath, {{"Authorization", std::string("Bearer ") + kAdminToken}},
      CounterBody(value), "application/json"));
}

std::uint64_t CurrentVersion(int port) {
  HttpReply r = Http(port, "GET", "/v1/admin/envs/production/history?limit=1",
                     kAdminToken);
  if (r.status != 200) return 0;
  return r.Json()["current_version"].GetUint64();
}

// The versions in `port`'s history, newest first, all pages.
std::vector<std::uint64_t> History(int port) {
  std::vector<std::uint64_t> versions;
  std::string before;
  for (int page = 0; page < 100; ++page) {
    HttpReply r = Http(
        port, "GET",
        absl::StrCat("/v1/admin/envs/production/history?limit=1000", before),
        kAdminToken);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) break;
    rapidjson::Document doc = r.Json();
    for (const auto& v : doc["versions"].GetArray()) {
      versions.push_back(v["version"].GetUint64());
    }
    if (!doc.HasMember("next_before")) break;
    before = absl::StrCat("&before=", doc["next_before"].GetUint64());
  }
  return versions;
}

class ReplicasTest : public ::testing::Test {
 protected:
  void StartPostgres() {
    postgres_ = PostgresServer::Create();
    ASSERT_NE(postgres_, nullptr);
    database_ = postgres_->CreateDatabase();
  }

  void StartReplicas(int n) {
    for (int i = 0; i < n; ++i) {
      sockets_.push_back(std::make_unique<ListeningSocket>());
      replicas_.emplace_back();
    }
    // The first one creates the schema and the default environment.
    for (int i = 0; i < n; ++i) {
      StartReplica(i);
      if (HasFatalFailure()) return;
    }
  }

  void StartReplica(int i) {
    ServerOptions options;
    options.data_dir = absl::StrCat(dir_.path(), "/replica", i);
    options.database = database_;
    options.socket = sockets_[i].get();
    options.args = {"--replica-sync-interval", "2s"};
    replicas_[i] = ServerProcess::Start(options);
    ASSERT_NE(replicas_[i], nullptr) << "replica " << i;
  }

  std::string Url(int i) const {
    return absl::StrCat("http://127.0.0.1:", sockets_[i]->port());
  }
  int Port(int i) const { return sockets_[i]->port(); }

  // A client whose first server is replica `home`, then the others in
  // order; it records whether a change ever took it back a version.
  void AddClient(int home, RemoteMode mode) {
    const int n = static_cast<int>(sockets_.size());
    ClientOptions options =
        testing_support::TestClientOptions(Url(home), kSdkKey, mode);
    for (int k = 1; k < n; ++k) {
      options.remote.base_urls.push_back(Url((home + k) % n));
    }
    options.remote.poll_interval = absl::Milliseconds(200);
    options.remote.connect_timeout = absl::Seconds(1);
    options.remote.read_timeout = absl::Seconds(2);
    options.remote.heartbeat_timeout = absl::Seconds(4);
    options.remote.backoff_cap = absl::Milliseconds(300);
    std::unique_ptr<Client> client = testing_support::CreateClient(options);
    ASSERT_NE(client, nullptr);
    client->AddListener([this](const ChangeEvent& e) {
      if (e.new_version <= e.old_version) went_back_.fetch_add(1);
    });
    clients_.push_back(std::move(client));
    modes_.push_back(mode);
  }

  // Waits until every client serves `version`.
  void ExpectConverged(std::uint64_t version) {
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      Client& c = *clients_[i];
      EXPECT_TRUE(WaitUntil([&] { return c.version() == version; }, kConverge))
          << "client " << i << " serves version " << c.version()
          << ", expected " << version << "; follows \"" << c.GetStatus().server
          << "\", connection "
          << RemoteConnectionName(c.GetStatus().connection);
    }
  }

  TempDir dir_;
  std::unique_ptr<PostgresServer> postgres_;
  std::string database_;
  std::vector<std::unique_ptr<ListeningSocket>> sockets_;
  std::vector<std::unique_ptr<ServerProcess>> replicas_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<RemoteMode> modes_;
  std::atomic<int> went_back_{0};
};

TEST_F(ReplicasTest, Kill9OneReplicaAtATimeLosesNothingAndClientsFollow) {
  constexpr int kReplicas = 3;
  constexpr int kClients = 30;
  constexpr int kWritesPerPhase = 15;
  const absl::Time start = absl::Now();
  StartPostgres();
  if (HasFatalFailure()) return;
  StartReplicas(kReplicas);
  if (HasFatalFailure()) return;
  // Two of three clients stream, one polls; homes round robin.
  for (int c = 0; c < kClients; ++c) {
    AddClient(c % kReplicas, (c / kReplicas) % 3 == 2 ? RemoteMode::kPolling
                                                      : RemoteMode::kStreaming);
    if (HasFatalFailure()) return;
  }
  for (auto& c : clients_) ASSERT_TRUE(c->WaitUntilReady(kConverge));

  const unsigned seed = static_cast<unsigned>(absl::ToUnixNanos(absl::Now()));
  std::printf("seed %u\n", seed);
  std::mutex mu;
  std::map<std::uint64_t, std::string> acknowledged;  // guarded by mu
  std::atomic<int> acks{0};
  std::atomic<int> unexpected{0};
  std::atomic<int> down{-1};  // the replica killed now, -1 if none
  std::atomic<bool> stop{false};
  std::atomic<int> next_value{0};
  auto writer = [&](unsigned writer_seed) {
    std::mt19937 rng(writer_seed);
    while (!stop.load()) {
      int r = static_cast<int>(rng() % kReplicas);
      if (r == down.load()) r = (r + 1) % kReplicas;
      const std::string value = absl::StrCat("w", next_value.fetch_add(1));
      HttpReply reply = Write(Port(r), value);
      if (reply.status == 200) {
        const std::uint64_t version = reply.Json()["version"].GetUint64();
        std::lock_guard<std::mutex> lock(mu);
        EXPECT_EQ(acknowledged.count(version), 0u)
            << "version " << version << " acknowledged twice";
        acknowledged[version] = value;
        acks.fetch_add(1);
      } else if (reply.status != 0 && reply.status != 503) {
        // 0: the replica died under the request; 503: it is (re)starting.
        unexpected.fetch_add(1);
        ADD_FAILURE() << "replica " << r << " answered " << reply.status << ": "
                      << reply.body;
      }
    }
  };
  std::thread writer_a(writer, seed);
  std::thread writer_b(writer, seed + 1);
  auto wait_for_acks = [&](int more) {
    const int target = acks.load() + more;
    return WaitUntil([&] { return acks.load() >= target; }, kConverge);
  };

  for (int k = 0; k < kReplicas; ++k) {
    SCOPED_TRACE(absl::StrCat("killing replica ", k, ", seed ", seed));
    ASSERT_TRUE(wait_for_acks(kWritesPerPhase));
    // The streaming clients following replica k now.
    std::vector<std::size_t> followers;
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      const ClientStatus s = clients_[i]->GetStatus();
      if (modes_[i] == RemoteMode::kStreaming && s.server == Url(k) &&
          s.connection == RemoteConnection::kStreaming) {
        followers.push_back(i);
      }
    }
    down.store(k);
    replicas_[k]->Kill9();
    EXPECT_TRUE(wait_for_acks(kWritesPerPhase));
    // Its clients moved to another replica and stream there.
    for (std::size_t i : followers) {
      Client& c = *clients_[i];
      EXPECT_TRUE(WaitUntil(
          [&] {
            const ClientStatus s = c.GetStatus();
            return s.server != Url(k) && !s.server.empty() &&
                   s.connection == RemoteConnection::kStreaming;
          },
          kConverge))
          << "client " << i << " still follows \"" << c.GetStatus().server
          << "\"";
    }
    StartReplica(k);
    ASSERT_FALSE(HasFatalFailure());
    down.store(-1);
  }
  ASSERT_TRUE(wait_for_acks(kWritesPerPhase));
  stop.store(true);
  writer_a.join();
  writer_b.join();
  EXPECT_EQ(unexpected.load(), 0);

  // A write a client gave up on (it waited in a killed replica's backlog)
  // may still land: wait until every replica serves what the database holds.
  std::uint64_t current = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        current = CurrentVersion(Port(0));
        for (int r = 0; r < kReplicas; ++r) {
          if (Http(Port(r), "GET", "/v1/flags", kSdkKey)
                  .Header("X-Hotfix-Version") != absl::StrCat(current)) {
            return false;
          }
        }
        return current > 0;
      },
      kConverge))
      << "the replicas do not agree on version " << current;
  // Every replica has the same history and audit: versions 1..current.
  const std::vector<std::uint64_t> history = History(Port(0));
  ASSERT_FALSE(history.empty());
  current = history.front();
  ASSERT_EQ(history.size(), current) << "versions are not contiguous";
  for (std::size_t i = 0; i < history.size(); ++i) {
    EXPECT_EQ(history[i], current - i);
  }
  for (int r = 1; r < kReplicas; ++r) {
    EXPECT_EQ(History(Port(r)), history) << "replica " << r;
    EXPECT_EQ(
        Http(Port(r), "GET", "/v1/admin/audit?limit=200", kAdminToken).body,
        Http(Port(0), "GET", "/v1/admin/audit?limit=200", kAdminToken).body)
        << "replica " << r;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_GE(acknowledged.size(),
              static_cast<std::size_t>(kWritesPerPhase * (kReplicas + 1)));
    for (const auto& [version, value] : acknowledged) {
      // Served by a random replica; the server verifies the checksum.
      HttpReply r =
          Http(Port(static_cast<int>(version % kReplicas)), "GET",
               absl::StrCat("/v1/admin/envs/production/versions/", version),
               kAdminToken);
      ASSERT_EQ(r.status, 200) << "acknowledged version " << version
                               << " is missing or damaged: " << r.body;
      rapidjson::Document doc = r.Json();
      EXPECT_EQ(
          std::string(doc["flags"]["counter"]["variants"]["v"].GetString()),
          value)
          << "version " << version;
    }
  }
  ExpectConverged(current);
  EXPECT_EQ(went_back_.load(), 0) << "a client went back a version";
  std::printf("%d acknowledged writes, final version %llu, %.1f s\n",
              acks.load(), static_cast<unsigned long long>(current),
              absl::ToDoubleSeconds(absl::Now() - start));
}

// Two operators on two replicas change the same version at once with
// If-Match: exactly one wins, the other gets 412 — whichever replica heard
// of the other's commit first. Twenty rounds, each racing from a barrier.
TEST_F(ReplicasTest, IfMatchOnTwoReplicasAtOnceExactlyOneWins) {
  StartPostgres();
  if (HasFatalFailure()) return;
  StartReplicas(2);
  if (HasFatalFailure()) return;
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::uint64_t base = CurrentVersion(Port(round % 2));
    ASSERT_GT(base, 0u);
    std::mutex mu;
    std::condition_variable cv;
    int ready = 0;
    int statuses[2] = {0, 0};
    auto operator_on = [&](int r) {
      {
        std::unique_lock<std::mutex> lock(mu);
        ++ready;
        cv.notify_all();
        cv.wait(lock, [&] { return ready == 2; });
      }
      statuses[r] =
          Http(Port(r), "PUT", kFlagPath, kAdminToken,
               CounterBody(absl::StrCat("round", round, "-replica", r)),
               {{"If-Match", absl::StrCat(base)}})
              .status;
    };
    std::thread a(operator_on, 0);
    std::thread b(operator_on, 1);
    a.join();
    b.join();
    EXPECT_EQ((statuses[0] == 200) + (statuses[1] == 200), 1)
        << statuses[0] << " " << statuses[1];
    EXPECT_EQ((statuses[0] == 412) + (statuses[1] == 412), 1)
        << statuses[0] << " " << statuses[1];
    ASSERT_TRUE(WaitUntil([&] { return CurrentVersion(Port(0)) == base + 1; },
                          kConverge));
  }
}

TEST_F(ReplicasTest, PostgresStoppedMidRunFlagsServedWritesRefusedThenResumed) {
  const absl::Time start = absl::Now();
  StartPostgres();
  if (HasFatalFailure()) return;
  StartReplicas(2);
  if (HasFatalFailure()) return;
  for (int c = 0; c < 6; ++c) {
    AddClient(c % 2, c < 4 ? RemoteMode::kStreaming : RemoteMode::kPolling);
    if (HasFatalFailure()) return;
  }
  for (auto& c : clients_) ASSERT_TRUE(c->WaitUntilReady(kConverge));
  HttpReply before = Write(Port(0), "before");
  ASSERT_EQ(before.status, 200) << before.body;
  const std::uint64_t v1 = before.Json()["version"].GetUint64();
  ExpectConverged(v1);

  ASSERT_TRUE(postgres_->Stop());
  for (int r = 0; r < 2; ++r) {
    SCOPED_TRACE(absl::StrCat("replica ", r));
    HttpReply refused = Write(Port(r), "while-down");
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_TRUE(absl::StrContains(refused.body, "database")) << refused.body;
    HttpReply flags = Http(Port(r), "GET", "/v1/flags", kSdkKey);
    EXPECT_EQ(flags.status, 200);
    EXPECT_EQ(flags.Header("X-Hotfix-Version"), absl::StrCat(v1));
    HttpReply ofrep = Http(Port(r), "POST", "/ofrep/v1/evaluate/flags/counter",
                           kSdkKey, R"({"context":{"targetingKey":"user-1"}})");
    EXPECT_EQ(ofrep.status, 200) << ofrep.body;
    EXPECT_TRUE(absl::StrContains(ofrep.body, "\"before\"")) << ofrep.body;
    HttpReply health = Http(Port(r), "GET", "/healthz", "");
    EXPECT_EQ(health.status, 200);
    EXPECT_EQ(std::string(health.Json()["status"].GetString()), "degraded")
        << health.body;
    EXPECT_TRUE(
        absl::StrContains(Http(Port(r), "GET", "/metrics", "").body,
                          "hotfixd_database_up{backend=\"postgres\"} 0"));
  }
  // The clients keep evaluating what they have.
  for (auto& c : clients_) {
    EXPECT_EQ(c->version(), v1);
    EXPECT_EQ(std::string(c->GetString("counter", "")), "before");
  }

  ASSERT_TRUE(postgres_->Start());
  // The same hotfixd processes write again once they reconnect.
  std::uint64_t v2 = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        HttpReply r = Write(Port(1), "after");
        if (r.status == 200) v2 = r.Json()["version"].GetUint64();
        return r.status == 200;
      },
      kConverge));
  ASSERT_GT(v2, v1);
  ExpectConverged(v2);
  for (auto& c : clients_) {
    EXPECT_EQ(std::string(c->GetString("counter", "")), "after");
  }
  for (int r = 0; r < 2; ++r) {
    EXPECT_TRUE(WaitUntil(
        [&] {
          HttpReply health = Http(Port(r), "GET", "/healthz", "");
          return health.status == 200 &&
                 absl::StrContains(health.body, "\"status\":\"ok\"");
        },
        kConverge))
        << "replica " << r;
  }
  std::printf("%.1f s\n", absl::ToDoubleSeconds(absl::Now() - start));
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
