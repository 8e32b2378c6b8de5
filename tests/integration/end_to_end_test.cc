// tests/integration/end_to_end_test.cc
//
// The operator's loop end to end: hotfixctl flips, kills, ramps, revives and
// rolls back flags on a real hotfixd while streaming clients (SSE put/patch,
// applied the way an SDK applies them) and polling clients (ETag / 304)
// follow, and every one of them evaluates the right values with the SDK's
// compiler and evaluator.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/snapshot.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr absl::Duration kWait = absl::Seconds(10);

// A polling client: GET /v1/flags with If-None-Match, as docs/protocol.md
// describes.
class Poller {
 public:
  explicit Poller(int port) : port_(port) {}

  // Returns the HTTP status of one poll; on 200 keeps the new document.
  int Poll() {
    httplib::Headers headers;
    if (!etag_.empty()) headers.emplace("If-None-Match", etag_);
    HttpReply r = Http(port_, "GET", "/v1/flags", kSdkKey, "", headers);
    if (r.status == 200) {
      etag_ = r.Header("ETag");
      document_ = r.body;
    }
    return r.status;
  }
  const std::string& etag() const { return etag_; }
  const std::string& document() const { return document_; }

 private:
  const int port_;
  std::string etag_;
  std::string document_;
};

// A streaming client: applies the reader's events in order.
class Follower {
 public:
  explicit Follower(int port) : reader_(port, kSdkKey) {}

  // Applies every event up to the one with id `version`; false if it does
  // not arrive or a patch does not apply.
  bool CatchUp(std::uint64_t version) {
    if (!reader_.WaitForVersion(version, kWait).has_value()) return false;
    const std::vector<SseEvent> events = reader_.Events();
    for (; applied_ < events.size(); ++applied_) {
      if (!ApplyEvent(events[applied_], &doc_)) return false;
    }
    return true;
  }
  std::string document() const { return tools::ToJson(doc_); }
  SseReader& reader() { return reader_; }

 private:
  SseReader reader_;
  rapidjson::Document doc_;
  std::size_t applied_ = 0;
};

struct Outcome {
  Value value;       // string_value is not valid: see `text`
  std::string text;  // the string value, copied out of the snapshot
  Reason reason = Reason::kError;
  std::uint64_t version = 0;
};

// Compiles `document` with the SDK's compiler and evaluates `flag` for a
// user outside the EU.
Outcome Evaluate(const std::string& document, const std::string& flag) {
  auto snapshot = Compile(document);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  if (!snapshot.ok()) return {};
  Context ctx("user-1");
  ctx.Set("region", "us");
  const EvaluationDetail d = (*snapshot)->Evaluate(flag, ctx);
  Outcome o{d.value, std::string(d.value.string_value), d.reason,
            d.snapshot_version};
  o.value.string_value = {};  // pointed into the snapshot destroyed below
  return o;
}

class EndToEndTest : public ServerTest {
 protected:
  void SetUp() override { Start(); }
};

TEST_F(EndToEndTest, EveryClientConvergesAfterEachOperatorCommand) {
  std::vector<std::unique_ptr<Follower>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<Follower>(server_->port()));
  }
  std::vector<Poller> pollers(2, Poller(server_->port()));
  for (auto& s : streams) ASSERT_TRUE(s->CatchUp(1));
  for (Poller& p : pollers) {
    ASSERT_EQ(p.Poll(), 200);
    EXPECT_EQ(p.etag(), "\"production-1\"");
    EXPECT_EQ(p.Poll(), 304);  // nothing changed
  }

  struct Step {
    std::vector<std::string> command;
    std::uint64_t version;
    std::string event;  // "patch" or "put"
    std::string flag;   // checked after the step
    bool expect_value;
    Reason expect_reason;
  };
  const std::vector<Step> steps = {
      {{"kill", "kill-recommendations", "--reason", "recs timing out"},
       2,
       "patch",
       "kill-recommendations",
       false,
       Reason::kKilled},
      {{"rollout", "fix-double-charge", "100", "--reason", "fix verified"},
       3,
       "patch",
       "fix-double-charge",
       true,
       Reason::kRollout},
      {{"rollout", "fix-double-charge", "0", "--reason", "back out"},
       4,
       "patch",
       "fix-double-charge",
       false,
       Reason::kRollout},
      {{"revive", "kill-recommendations", "--reason", "recs healthy"},
       5,
       "patch",
       "kill-recommendations",
       true,
       Reason::kStatic},
      {{"kill", "--tag", "payments", "--reason", "payments incident"},
       6,
       "patch",
       "fix-double-charge",
       false,
       Reason::kKilled},
      // Two flags differ from version 3 and from version 1: puts.
      {{"rollback", "3", "--reason", "back to the ramped state"},
       7,
       "put",
       "kill-recommendations",
       false,
       Reason::kKilled},
      {{"rollback", "1", "--reason", "restore the start"},
       8,
       "put",
       "kill-recommendations",
       true,
       Reason::kStatic},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(absl::StrCat("step to version ", step.version));
    const CtlResult r = Ctl(step.command);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(absl::StrCat("version ", step.version)),
              std::string::npos)
        << r.out;
    for (auto& s : streams) {
      ASSERT_TRUE(s->CatchUp(step.version));
      auto event = s->reader().WaitForVersion(step.version, kWait);
      ASSERT_TRUE(event.has_value());
      EXPECT_EQ(event->type, step.event);
      const Outcome o = Evaluate(s->document(), step.flag);
      EXPECT_EQ(o.version, step.version);
      EXPECT_EQ(o.value.type, ValueType::kBool);
      EXPECT_EQ(o.value.bool_value, step.expect_value);
      EXPECT_EQ(o.reason, step.expect_reason);
    }
    for (Poller& p : pollers) {
      ASSERT_EQ(p.Poll(), 200);
      EXPECT_EQ(p.etag(), absl::StrCat("\"production-", step.version, "\""));
      const Outcome o = Evaluate(p.document(), step.flag);
      EXPECT_EQ(o.version, step.version);
      EXPECT_EQ(o.value.bool_value, step.expect_value);
      EXPECT_EQ(o.reason, step.expect_reason);
      EXPECT_EQ(p.Poll(), 304);
    }
  }

  // The rollback restored version 1's flags exactly; streams that applied
  // every put and patch hold the server's document byte for byte.
  HttpReply v1 = Http(server_->port(), "GET",
                      "/v1/admin/envs/production/versions/1", kAdminToken);
  ASSERT_EQ(v1.status, 200);
  rapidjson::Document first = v1.Json();
  rapidjson::Document now;
  ASSERT_TRUE(tools::ParseJson(pollers[0].document(), "now", &now).ok());
  EXPECT_EQ(first["flags"], now["flags"]);
  for (auto& s : streams) EXPECT_EQ(s->document(), pollers[0].document());
}

TEST_F(EndToEndTest, SetFromFileAndDeleteArePatchesForStreamingClients) {
  Follower stream(server_->port());
  ASSERT_TRUE(stream.CatchUp(1));
  const std::string file = dir_.path() + "/flag.json";
  WriteFile(file,
            R"({"variants": {"a": "blue", "b": "green"}, "default": "b"})");
  CtlResult r = Ctl({"set", "button-color", "--file", file, "--reason", "new"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(stream.CatchUp(2));
  Outcome o = Evaluate(stream.document(), "button-color");
  ASSERT_EQ(o.value.type, ValueType::kString);
  EXPECT_EQ(o.text, "green");

  r = Ctl({"delete", "button-color", "--reason", "experiment over"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(stream.CatchUp(3));
  auto event = stream.reader().WaitForVersion(3, kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, "patch");
  EXPECT_NE(event->data.find("\"deleted\":true"), std::string::npos);
  o = Evaluate(stream.document(), "button-color");
  EXPECT_EQ(o.reason, Reason::kError);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
