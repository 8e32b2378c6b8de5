// tests/integration/approvals_test.cc
//
// Protected environments (docs/admin-api.md, "Approvals"): a write becomes a
// change request that a second person with the approve scope applies or
// rejects, or that expires; a kill is never delayed; what is applied is
// exactly what was proposed; every step is audited — through the API and
// hotfixctl.

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr char kEnv[] = "/v1/admin/envs/production";

class ApprovalsTest : public ServerTest {
 protected:
  void SetUp() override { StartProtected({}); }

  void StartProtected(std::vector<std::string> args) {
    Start(std::move(args));
    if (server_ == nullptr) return;
    alice_ = CreateToken("alice", R"("kind":"admin")");
    bob_ = CreateToken("bob", R"("kind":"admin")");
    HttpReply r = Call("PUT", absl::StrCat(kEnv, "/settings"),
                       R"({"reason":"production needs two people",
                           "protected":true})");
    ASSERT_EQ(r.status, 200) << r.body;
  }

  std::string CreateToken(const std::string& name, const std::string& what) {
    HttpReply r = Call(
        "POST", "/v1/admin/tokens",
        absl::StrCat(R"({"reason":"team","name":")", name, R"(",)", what, "}"));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? r.Json()["token"].GetString() : "";
  }

  std::uint64_t Version() {
    return Call("GET", absl::StrCat(kEnv, "/flags"))
        .Json()["version"]
        .GetUint64();
  }

  int Weight(const std::string& flag) {
    rapidjson::Document d =
        Call("GET", absl::StrCat(kEnv, "/flags/", flag)).Json();
    return d["flag"]["default"]["rollout"]["split"][0]["weight"].GetInt();
  }

  // Proposes a rollout as `token`; returns the change request's id.
  std::int64_t ProposeRollout(const std::string& token, int percent) {
    HttpReply r = Call(
        "POST", absl::StrCat(kEnv, "/flags/fix-double-charge/rollout"),
        absl::StrCat(R"({"reason":"ramp","percent":)", percent, "}"), token);
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? r.Json()["id"].GetInt64() : 0;
  }

  HttpReply Decide(std::int64_t id, const char* verb, const std::string& token,
                   const std::string& comment = "looks right") {
    return Call("POST", absl::StrCat(kEnv, "/requests/", id, "/", verb),
                absl::StrCat(R"({"reason":")", comment, R"("})"), token);
  }

  std::string alice_;
  std::string bob_;
};

TEST_F(ApprovalsTest, AWriteBecomesARequestThatAnotherPersonApplies) {
  const std::uint64_t before = Version();
  HttpReply r =
      Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/rollout"),
           R"({"reason":"ramp to 75","percent":75})", alice_);
  ASSERT_EQ(r.status, 202) << r.body;
  rapidjson::Document req = r.Json();
  const std::int64_t id = req["id"].GetInt64();
  EXPECT_STREQ(req["state"].GetString(), "proposed");
  EXPECT_STREQ(req["proposer"].GetString(), "alice");
  EXPECT_STREQ(req["action"].GetString(), "flag.rollout");
  EXPECT_EQ(req["diff"]["flags"][0]["key"].GetString(),
            std::string("fix-double-charge"));
  EXPECT_EQ(Version(), before) << "nothing applied yet";

  // Not by the proposer.
  HttpReply self = Decide(id, "approve", alice_);
  EXPECT_EQ(self.status, 403) << self.body;
  EXPECT_NE(self.body.find("second person"), std::string::npos) << self.body;
  // Bob applies it.
  HttpReply approved = Decide(id, "approve", bob_, "checked the dashboards");
  ASSERT_EQ(approved.status, 200) << approved.body;
  rapidjson::Document done = approved.Json();
  EXPECT_STREQ(done["state"].GetString(), "applied");
  EXPECT_STREQ(done["decided_by"].GetString(), "bob");
  EXPECT_EQ(done["applied_version"].GetUint64(), before + 1);
  EXPECT_EQ(Version(), before + 1);
  EXPECT_EQ(Weight("fix-double-charge"), 75);
  // Applied once only.
  EXPECT_EQ(Decide(id, "approve", bob_).status, 409);

  // The audit log tells the whole story: proposal (diff summary), the
  // change as the proposer's with the approver, the approval's comment.
  rapidjson::Document audit =
      Call("GET", "/v1/admin/audit?env=production&limit=3").Json();
  const rapidjson::Value& e = audit["entries"];
  EXPECT_STREQ(e[0]["action"].GetString(), "change.approve");
  EXPECT_STREQ(e[0]["actor"].GetString(), "bob");
  EXPECT_STREQ(e[0]["reason"].GetString(), "checked the dashboards");
  EXPECT_STREQ(e[1]["action"].GetString(), "flag.rollout");
  EXPECT_STREQ(e[1]["actor"].GetString(), "alice");
  EXPECT_STREQ(e[1]["reason"].GetString(), "ramp to 75");
  EXPECT_STREQ(e[1]["detail"]["approved_by"].GetString(), "bob");
  EXPECT_EQ(e[1]["detail"]["request"].GetInt64(), id);
  EXPECT_STREQ(e[2]["action"].GetString(), "change.propose");
  EXPECT_NE(tools::ToJson(e[2]["detail"])
                .find("rollout on 25% / off 75% → "
                      "rollout on 75% / off 25%"),
            std::string::npos)
      << tools::ToJson(e[2]["detail"]);
}

TEST_F(ApprovalsTest, KillsApplyAtOnceButRevivingWaits) {
  const std::uint64_t before = Version();
  HttpReply kill =
      Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/kill"),
           R"({"reason":"double charges"})", alice_);
  ASSERT_EQ(kill.status, 200) << kill.body;
  EXPECT_EQ(Version(), before + 1);
  HttpReply tag = Call("POST", absl::StrCat(kEnv, "/tags/checkout/kill"),
                       R"({"reason":"checkout incident"})", alice_);
  ASSERT_EQ(tag.status, 200) << tag.body;
  EXPECT_EQ(Version(), before + 2);
  // SDKs see the kill at once.
  EXPECT_NE(Http(server_->port(), "GET", "/v1/flags", kSdkKey)
                .body.find(R"("killed":true)"),
            std::string::npos);
  HttpReply revive =
      Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/revive"),
           R"({"reason":"fixed"})", alice_);
  EXPECT_EQ(revive.status, 202) << revive.body;
  EXPECT_EQ(Version(), before + 2);
  // Whole-set writes, deletes and promotions wait too.
  EXPECT_EQ(Call("DELETE", absl::StrCat(kEnv, "/flags/kill-recommendations"),
                 R"({"reason":"cleanup"})", alice_)
                .status,
            202);
}

TEST_F(ApprovalsTest, TheApproveScopeIsWhatLetsSomeoneApprove) {
  const std::string approver =
      CreateToken("release-manager", R"("scopes":"read,approve")");
  const std::string writer =
      CreateToken("deployer", R"("scopes":"read,write")");
  const std::int64_t first = ProposeRollout(writer, 60);
  // Write without approve cannot approve.
  HttpReply r = Decide(first, "approve", writer);
  EXPECT_EQ(r.status, 403);
  // approve without write cannot write, but can approve.
  r = Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/rollout"),
           R"({"reason":"x","percent":70})", approver);
  EXPECT_EQ(r.status, 403);
  r = Decide(first, "approve", approver);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Weight("fix-double-charge"), 60);
  // And sees the requests.
  EXPECT_EQ(Call("GET", absl::StrCat(kEnv, "/requests"), "", approver).status,
            200);
}

TEST_F(ApprovalsTest, ARequestIsAppliedOnlyIfItStillChangesWhatWasProposed) {
  const std::int64_t to_75 = ProposeRollout(alice_, 75);
  const std::int64_t to_80 = ProposeRollout(alice_, 80);
  ASSERT_EQ(Decide(to_80, "approve", bob_).status, 200);
  // 25 -> 75 was proposed; now it would be 80 -> 75.
  HttpReply r = Decide(to_75, "approve", bob_);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("changed since it was proposed"), std::string::npos)
      << r.body;
  EXPECT_EQ(Weight("fix-double-charge"), 80);
  rapidjson::Document req =
      Call("GET", absl::StrCat(kEnv, "/requests/", to_75)).Json();
  EXPECT_STREQ(req["state"].GetString(), "proposed");
}

TEST_F(ApprovalsTest, RejectingAndWithdrawing) {
  const std::int64_t id = ProposeRollout(alice_, 90);
  const std::string reader = CreateToken("carol", R"("kind":"reader")");
  EXPECT_EQ(Decide(id, "reject", reader).status, 403);
  HttpReply r = Decide(id, "reject", bob_, "too fast");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_STREQ(r.Json()["state"].GetString(), "rejected");
  EXPECT_STREQ(r.Json()["comment"].GetString(), "too fast");
  EXPECT_EQ(Decide(id, "approve", bob_).status, 409);
  // The proposer may withdraw their own.
  const std::int64_t mine = ProposeRollout(alice_, 30);
  EXPECT_EQ(Decide(mine, "reject", alice_, "withdrawn").status, 200);
  EXPECT_EQ(Weight("fix-double-charge"), 25);
  rapidjson::Document list =
      Call("GET", absl::StrCat(kEnv, "/requests?state=rejected")).Json();
  EXPECT_EQ(list["requests"].Size(), 2u);
}

TEST_F(ApprovalsTest, ARevokedProposersRequestCannotBeApproved) {
  const std::string temp = CreateToken("temp", R"("kind":"admin")");
  const std::int64_t id = ProposeRollout(temp, 40);
  rapidjson::Document tokens = Call("GET", "/v1/admin/tokens").Json();
  std::string token_id;
  for (const auto& t : tokens["tokens"].GetArray()) {
    if (std::string(t["name"].GetString()) == "temp") {
      token_id = t["id"].GetString();
    }
  }
  ASSERT_EQ(
      Call("DELETE", "/v1/admin/tokens/" + token_id, R"({"reason":"left"})")
          .status,
      200);
  HttpReply r = Decide(id, "approve", bob_);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("revoked"), std::string::npos) << r.body;
}

TEST_F(ApprovalsTest, LiftingProtectionNeedsApprovalToo) {
  HttpReply r = Call("PUT", absl::StrCat(kEnv, "/settings"),
                     R"({"reason":"too slow","protected":false})", alice_);
  ASSERT_EQ(r.status, 202) << r.body;
  const std::int64_t id = r.Json()["id"].GetInt64();
  EXPECT_TRUE(Call("GET", "/v1/admin/envs")
                  .Json()["environments"][0]["protected"]
                  .GetBool());
  ASSERT_EQ(Decide(id, "approve", bob_).status, 200);
  EXPECT_FALSE(Call("GET", "/v1/admin/envs")
                   .Json()["environments"][0]["protected"]
                   .GetBool());
  // Writes apply directly again.
  EXPECT_EQ(Call("POST", absl::StrCat(kEnv, "/flags/fix-double-charge/rollout"),
                 R"({"reason":"x","percent":35})", alice_)
                .status,
            200);
}

TEST_F(ApprovalsTest, UndecidedRequestsExpire) {
  StartProtected({"--change-request-ttl", "1s"});
  const std::int64_t id = ProposeRollout(alice_, 50);
  // hotfixd expires it on time by itself, audited as such.
  ASSERT_TRUE(WaitUntil(
      [&] {
        rapidjson::Document audit =
            Call("GET", "/v1/admin/audit?env=production&limit=5").Json();
        for (const auto& e : audit["entries"].GetArray()) {
          if (std::string(e["action"].GetString()) == "change.expire") {
            return true;
          }
        }
        return false;
      },
      absl::Seconds(30)));
  EXPECT_STREQ(Call("GET", absl::StrCat(kEnv, "/requests/", id))
                   .Json()["state"]
                   .GetString(),
               "expired");
  HttpReply r = Decide(id, "approve", bob_);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("expired"), std::string::npos) << r.body;
  EXPECT_EQ(Weight("fix-double-charge"), 25);
}

TEST_F(ApprovalsTest, CtlProposesListsShowsAndApproves) {
  CtlResult propose =
      Ctl({"rollout", "fix-double-charge", "70", "--reason", "ramp"}, alice_);
  ASSERT_EQ(propose.exit_code, 0) << propose.err;
  EXPECT_NE(propose.out.find("change request 1 proposed, not applied"),
            std::string::npos)
      << propose.out;
  CtlResult list = Ctl({"requests"});
  EXPECT_NE(list.out.find("flag.rollout"), std::string::npos) << list.out;
  EXPECT_NE(list.err.find("(protected)"), std::string::npos) << list.err;
  CtlResult show = Ctl({"requests", "show", "1"});
  EXPECT_NE(show.out.find("proposed by alice"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("~ fix-double-charge"), std::string::npos);
  CtlResult self = Ctl({"requests", "approve", "1", "--reason", "me"}, alice_);
  EXPECT_EQ(self.exit_code, 3) << self.err;
  CtlResult approve = Ctl({"requests", "approve", "1", "--reason", "ok"}, bob_);
  EXPECT_EQ(approve.exit_code, 0) << approve.err;
  EXPECT_NE(approve.out.find("approved and applied as version 2"),
            std::string::npos)
      << approve.out;
  CtlResult again = Ctl({"requests", "approve", "1", "--reason", "ok"}, bob_);
  EXPECT_EQ(again.exit_code, 5);  // already applied
  CtlResult envs = Ctl({"envs"});
  EXPECT_NE(envs.out.find("yes"), std::string::npos) << envs.out;
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
