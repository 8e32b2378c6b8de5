// tests/integration/webhooks_test.cc
//
// Webhooks (docs/admin-api.md, "Webhooks") against a receiver in this process
// on 127.0.0.1: every change is announced with who, what and why, signed with
// HMAC-SHA256; failures are retried with backoff (same delivery id), client
// errors are not; delivery status is visible; a receiver that hangs never
// holds up a write; webhooks survive a restart.

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kEnv[] = "/v1/admin/envs/production";
constexpr char kSecret[] = "0123456789abcdef-webhook-secret";

struct Received {
  std::string event;
  std::string delivery;
  std::string signature;
  std::string body;
};

// An HTTP receiver on 127.0.0.1 that records each POST and answers with the
// next scripted status (200 once the script is used up), or holds requests
// until Release() while hold is on.
class Receiver {
 public:
  Receiver() {
    server_.Post(
        ".*", [this](const httplib::Request& req, httplib::Response& res) {
          std::unique_lock<std::mutex> lock(mu_);
          received_.push_back({req.get_header_value("X-Hotfix-Event"),
                               req.get_header_value("X-Hotfix-Delivery"),
                               req.get_header_value("X-Hotfix-Signature"),
                               req.body});
          cv_.notify_all();
          cv_.wait(lock, [this] { return !hold_; });
          int status = 200;
          if (!script_.empty()) {
            status = script_.front();
            script_.pop_front();
          }
          res.status = status;
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    // Bound and listening: connections queue until the thread accepts.
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~Receiver() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/hook") const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  void Script(std::vector<int> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(statuses.begin(), statuses.end());
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }
  // Waits (bounded) until `n` requests have arrived; returns them all.
  std::vector<Received> WaitFor(std::size_t n,
                                absl::Duration timeout = absl::Seconds(30)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, absl::ToChronoSeconds(timeout),
                 [&] { return received_.size() >= n; });
    return received_;
  }
  std::vector<Received> All() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
  std::deque<int> script_;
  bool hold_ = false;
};

std::string Hmac(const std::string& key, const std::string& data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac,
       &size);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 15];
  }
  return out;
}

// True if `r` carries a valid signature "t=<unix>,v1=<hmac>" over its body.
bool SignatureValid(const Received& r, const std::string& secret) {
  std::string t;
  std::string v1;
  for (absl::string_view part : absl::StrSplit(r.signature, ',')) {
    if (absl::ConsumePrefix(&part, "t=")) t = std::string(part);
    if (absl::ConsumePrefix(&part, "v1=")) v1 = std::string(part);
  }
  return !t.empty() && v1 == Hmac(secret, absl::StrCat(t, ".", r.body));
}

class WebhooksTest : public ServerTest {
 protected:
  void SetUp() override {
    Start({"--webhook-retry-initial", "50ms", "--webhook-max-attempts", "4",
           "--webhook-timeout", "1s"});
  }

  std::string AddWebhook(const std::string& url,
                         const std::string& secret = kSecret) {
    HttpReply r = Call(
        "POST", absl::StrCat(kEnv, "/webhooks"),
        absl::StrCat(R"({"reason":"notify chat","url":)", tools::JsonQuote(url),
                     R"(,"secret":")", secret, R"("})"));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.Json()["id"].GetString() : "";
  }

  void Kill(const std::string& flag, bool kill = true) {
    HttpReply r = Call(
        "POST", absl::StrCat(kEnv, "/flags/", flag, kill ? "/kill" : "/revive"),
        R"({"reason":"checkout errors"})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The deliveries of webhook `id`, newest first, once `pred` holds for the
  // newest (bounded wait).
  rapidjson::Document DeliveriesWhen(
      const std::string& id,
      const std::function<bool(const rapidjson::Value&)>& pred) {
    rapidjson::Document doc;
    WaitUntil(
        [&] {
          doc = Call("GET", absl::StrCat(kEnv, "/webhooks/", id, "/deliveries"))
                    .Json();
          return !doc["deliveries"].Empty() && pred(doc["deliveries"][0]);
        },
        absl::Seconds(30));
    return doc;
  }

  Receiver receiver_;
};

TEST_F(WebhooksTest, EveryChangeIsAnnouncedSignedWithWhoWhatAndWhy) {
  const std::string id = AddWebhook(receiver_.url());
  Kill("fix-double-charge");
  std::vector<Received> got = receiver_.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, "flags.changed");
  EXPECT_TRUE(SignatureValid(got[0], kSecret)) << got[0].signature;
  EXPECT_FALSE(SignatureValid(got[0], "another-secret-0123456789"));
  rapidjson::Document body;
  ASSERT_TRUE(tools::ParseJson(got[0].body, "body", &body).ok());
  EXPECT_EQ(body["delivery"].GetString(), got[0].delivery);
  EXPECT_STREQ(body["env"].GetString(), "production");
  const rapidjson::Value& data = body["data"];
  EXPECT_EQ(data["version"].GetUint64(), 2u);
  EXPECT_STREQ(data["actor"].GetString(), "bootstrap-admin");
  EXPECT_STREQ(data["action"].GetString(), "flag.kill");
  EXPECT_STREQ(data["reason"].GetString(), "checkout errors");
  EXPECT_STREQ(data["summary"][0].GetString(), "fix-double-charge: killed");
  rapidjson::Document deliveries =
      DeliveriesWhen(id, [](const rapidjson::Value& d) {
        return std::string(d["state"].GetString()) == "delivered";
      });
  EXPECT_EQ(deliveries["deliveries"][0]["attempts"].GetInt(), 1);
  EXPECT_EQ(deliveries["deliveries"][0]["last_status"].GetInt(), 200);
  // The secret is never shown again.
  HttpReply list = Call("GET", absl::StrCat(kEnv, "/webhooks"));
  EXPECT_EQ(list.body.find(kSecret), std::string::npos) << list.body;
  // Adding and removing are audited.
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production&limit=5").Json();
  bool audited = false;
  for (const auto& e : audit["entries"].GetArray()) {
    audited = audited || std::string(e["action"].GetString()) == "webhook.add";
  }
  EXPECT_TRUE(audited);
}

TEST_F(WebhooksTest, FailuresAreRetriedWithTheSameDeliveryId) {
  receiver_.Script({503, 500});
  const std::string id = AddWebhook(receiver_.url());
  Kill("fix-double-charge");
  std::vector<Received> got = receiver_.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].delivery, got[1].delivery);
  EXPECT_EQ(got[1].delivery, got[2].delivery);
  for (const Received& r : got) EXPECT_TRUE(SignatureValid(r, kSecret));
  rapidjson::Document deliveries =
      DeliveriesWhen(id, [](const rapidjson::Value& d) {
        return std::string(d["state"].GetString()) == "delivered";
      });
  EXPECT_EQ(deliveries["deliveries"][0]["attempts"].GetInt(), 3);
  HttpReply metrics = Call("GET", "/metrics", "", "");
  EXPECT_NE(metrics.body.find(
                "hotfixd_webhook_deliveries_total{result=\"retried\"} 2"),
            std::string::npos)
      << metrics.body;
}

TEST_F(WebhooksTest, AClientErrorFailsAtOnceAndRetriesStopAtTheLimit) {
  receiver_.Script({400});
  const std::string id = AddWebhook(receiver_.url());
  Kill("fix-double-charge");
  rapidjson::Document d = DeliveriesWhen(id, [](const rapidjson::Value& d) {
    return std::string(d["state"].GetString()) == "failed";
  });
  EXPECT_EQ(d["deliveries"][0]["attempts"].GetInt(), 1);
  EXPECT_EQ(d["deliveries"][0]["last_status"].GetInt(), 400);
  EXPECT_STREQ(d["deliveries"][0]["last_error"].GetString(), "HTTP 400");
  // Always 500: four attempts (--webhook-max-attempts), then failed.
  receiver_.Script({500, 500, 500, 500, 500});
  Kill("fix-double-charge", false);
  d = DeliveriesWhen(id, [](const rapidjson::Value& d) {
    return std::string(d["state"].GetString()) == "failed";
  });
  EXPECT_EQ(d["deliveries"][0]["attempts"].GetInt(), 4);
  EXPECT_EQ(receiver_.All().size(), 5u);
}

TEST_F(WebhooksTest, AnUnreachableReceiverIsRecordedWithTheReason) {
  // Port 1: nothing listens there (a privileged port no test binds).
  const std::string id = AddWebhook("http://127.0.0.1:1/hook");
  Kill("fix-double-charge");
  rapidjson::Document d = DeliveriesWhen(id, [](const rapidjson::Value& d) {
    return std::string(d["state"].GetString()) == "failed";
  });
  EXPECT_EQ(d["deliveries"][0]["attempts"].GetInt(), 4);
  EXPECT_STREQ(d["deliveries"][0]["last_error"].GetString(),
               "could not connect");
}

TEST_F(WebhooksTest, AHangingReceiverNeverHoldsUpAWrite) {
  receiver_.Hold();
  AddWebhook(receiver_.url());
  Kill("fix-double-charge");
  ASSERT_EQ(receiver_.WaitFor(1).size(), 1u);  // a delivery is stuck
  // Writes go on while the receiver holds the first delivery.
  for (int i = 0; i < 6; ++i) Kill("fix-double-charge", i % 2 == 1);
  EXPECT_EQ(
      Call("GET", absl::StrCat(kEnv, "/flags")).Json()["version"].GetUint64(),
      8u);
  receiver_.Release();
  // Every change is delivered in the end (stuck attempts time out and are
  // retried, under the same delivery id).
  std::set<std::string> ids;
  EXPECT_TRUE(WaitUntil(
      [&] {
        ids.clear();
        for (const Received& r : receiver_.All()) ids.insert(r.delivery);
        return ids.size() == 7;
      },
      absl::Seconds(30)))
      << ids.size() << " distinct deliveries";
}

TEST_F(WebhooksTest, ApprovalsAndSettingsAreAnnouncedToo) {
  AddWebhook(receiver_.url());
  ASSERT_EQ(Call("PUT", absl::StrCat(kEnv, "/settings"),
                 R"({"reason":"two people","protected":true})")
                .status,
            200);
  HttpReply bob = Call("POST", "/v1/admin/tokens",
                       R"({"reason":"x","name":"bob","kind":"admin"})");
  const std::string bob_token = bob.Json()["token"].GetString();
  HttpReply proposed =
      Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/rollout"),
           R"({"reason":"ramp","percent":50})");
  ASSERT_EQ(proposed.status, 202) << proposed.body;
  ASSERT_EQ(Call("POST",
                 absl::StrCat(kEnv, "/requests/",
                              proposed.Json()["id"].GetInt64(), "/approve"),
                 R"({"reason":"ok"})", bob_token)
                .status,
            200);
  std::vector<Received> got = receiver_.WaitFor(4);
  std::vector<std::string> events;
  for (const Received& r : got) events.push_back(r.event);
  std::sort(events.begin(), events.end());
  EXPECT_EQ(events, (std::vector<std::string>{
                        "change_request.applied", "change_request.proposed",
                        "flags.changed", "settings.changed"}));
}

TEST_F(WebhooksTest, BadUrlsAreRefusedAndDeletedWebhooksGoQuiet) {
  for (const char* url :
       {"ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x", "http:///x",
        "http://127.0.0.1/x#frag", "127.0.0.1:80/x"}) {
    HttpReply r = Call("POST", absl::StrCat(kEnv, "/webhooks"),
                       absl::StrCat(R"({"reason":"x","url":")", url, R"("})"));
    EXPECT_EQ(r.status, 400) << url << ": " << r.body;
    EXPECT_NE(r.body.find("url:"), std::string::npos) << r.body;
  }
  EXPECT_EQ(
      Call("POST", absl::StrCat(kEnv, "/webhooks"),
           R"({"reason":"x","url":"http://127.0.0.1/x","secret":"short"})")
          .status,
      400);
  const std::string id = AddWebhook(receiver_.url());
  ASSERT_EQ(Call("DELETE", absl::StrCat(kEnv, "/webhooks/", id),
                 R"({"reason":"channel gone"})")
                .status,
            200);
  EXPECT_EQ(Call("DELETE", absl::StrCat(kEnv, "/webhooks/", id),
                 R"({"reason":"again"})")
                .status,
            404);
  // A second webhook still hears the change; the deleted one does not.
  const std::string other = AddWebhook(receiver_.url("/other"));
  Kill("fix-double-charge");
  DeliveriesWhen(other, [](const rapidjson::Value& d) {
    return std::string(d["state"].GetString()) == "delivered";
  });
  EXPECT_EQ(receiver_.All().size(), 1u);
}

TEST_F(WebhooksTest, WebhooksSurviveARestartAndCanBePinged) {
  const std::string id = AddWebhook(receiver_.url());
  ASSERT_EQ(server_->Terminate(), 0);
  Start({"--webhook-retry-initial", "50ms"});
  CtlResult list = Ctl({"webhooks"});
  EXPECT_NE(list.out.find(id), std::string::npos) << list.out;
  CtlResult ping = Ctl({"webhooks", "ping", id});
  EXPECT_EQ(ping.exit_code, 0) << ping.err;
  std::vector<Received> got = receiver_.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, "ping");
  EXPECT_TRUE(SignatureValid(got[0], kSecret));
  CtlResult deliveries = Ctl({"webhooks", "deliveries", id});
  EXPECT_NE(deliveries.out.find("ping"), std::string::npos) << deliveries.out;
  // Added from the CLI, the secret is printed once.
  CtlResult added =
      Ctl({"webhooks", "add", receiver_.url("/cli"), "--reason", "x"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(added.out.rfind("whsec_", 0), 0u) << added.out;
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
