// tests/consumer/main.cc
//
// Smoke test of the installed hotfix package: compiles a two-flag document,
// evaluates it, and serves it through a Client and through TestFlags, using
// only the public headers. Exits non-zero (and says why) on any wrong answer.

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "hotfix/hotfix.h"
#include "hotfix/testing.h"

namespace {

constexpr std::string_view kFlags = R"json({
  "version": 7,
  "flags": {
    "fix-123": {
      "variants": { "on": true, "off": false },
      "off_variant": "off",
      "default": "on"
    },
    "checkout-color": {
      "variants": { "blue": "blue", "green": "green" },
      "default": "blue",
      "rules": [
        { "if": [ { "attribute": "region", "op": "in", "values": ["eu"] } ],
          "serve": "green" }
      ]
    }
  }
})json";

int failures = 0;

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "FAIL: %s\n", what);
    ++failures;
  }
}

void CheckSnapshot() {
  auto snapshot = hotfix::Compile(kFlags);
  if (!snapshot.ok()) {
    std::fprintf(stderr, "FAIL: Compile: %s\n",
                 std::string(snapshot.status().message()).c_str());
    ++failures;
    return;
  }
  const hotfix::Snapshot& flags = **snapshot;
  Check(flags.version() == 7, "snapshot version is 7");
  Check(flags.size() == 2, "snapshot holds 2 flags");

  const hotfix::EvaluationDetail fix = flags.Evaluate("fix-123");
  Check(fix.value.type == hotfix::ValueType::kBool && fix.value.bool_value,
        "fix-123 serves true");
  Check(fix.reason == hotfix::Reason::kStatic, "fix-123 reason is STATIC");

  hotfix::Context eu("user-1");
  eu.Set("region", "eu");
  const hotfix::EvaluationDetail green = flags.Evaluate("checkout-color", eu);
  Check(green.value.string_value == "green", "eu is served green");
  Check(green.reason == hotfix::Reason::kRuleMatch && green.rule_index == 0,
        "eu matches rule 0");

  hotfix::Context us("user-2");
  us.Set("region", "us");
  const hotfix::EvaluationDetail blue = flags.Evaluate("checkout-color", us);
  Check(blue.value.string_value == "blue", "us is served blue");
  Check(blue.reason == hotfix::Reason::kDefault, "us falls through");

  const hotfix::EvaluationDetail missing = flags.Evaluate("no-such-flag");
  Check(missing.reason == hotfix::Reason::kError &&
            missing.error == hotfix::ErrorKind::kFlagNotFound,
        "unknown flag is ERROR/FLAG_NOT_FOUND");

  Check(!hotfix::Compile(R"({"version": 1, "flags": {"x": {"kiled": true}}})")
             .ok(),
        "an invalid document is rejected");
}

void CheckClient() {
  hotfix::ClientOptions options;
  options.bootstrap_json = std::string(kFlags);
  auto client = hotfix::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "FAIL: Client::Create: %s\n",
                 std::string(client.status().message()).c_str());
    ++failures;
    return;
  }
  hotfix::Client& flags = **client;
  Check(flags.version() == 7, "client serves version 7");
  Check(flags.Enabled("fix-123"), "client: fix-123 is enabled");
  Check(!flags.Enabled("no-such-flag"), "client: unknown flag is disabled");

  hotfix::Context eu("user-1");
  eu.Set("region", "eu");
  Check(flags.GetString("checkout-color", "none", eu) == "green",
        "client: eu is served green");

  hotfix::FlagHandle fix = flags.Flag("fix-123");
  Check(fix.Enabled(), "handle: fix-123 is enabled");
}

void CheckTestFlags() {
  hotfix::testing::TestFlags flags;
  flags.Set("fix-123", true);
  Check(flags.client().Enabled("fix-123"), "TestFlags: forced on");
  flags.Kill("fix-123");
  Check(!flags.client().Enabled("fix-123"), "TestFlags: killed");
}

}  // namespace

int main() {
  CheckSnapshot();
  CheckClient();
  CheckTestFlags();
  if (failures != 0) {
    std::fprintf(stderr, "hotfix consumer: %d check(s) failed\n", failures);
    return 1;
  }
  std::printf("hotfix consumer: all checks passed\n");
  return 0;
}
