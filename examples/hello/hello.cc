// examples/hello/hello.cc
//
// The smallest hotfix program: a client built from an embedded flag set, one
// guarded code path, and one Evaluate() call that explains its answer.

#include <iostream>

#include "hotfix/hotfix.h"

constexpr char kFlags[] = R"json({
  "version": 1,
  "flags": {
    "fix-123": {
      "variants": { "on": true, "off": false },
      "off_variant": "off",
      "default": "on",
      "owner": "payments-oncall", "ticket": "PAY-123"
    }
  }
})json";

int main() {
  hotfix::ClientOptions options;
  options.bootstrap_json = kFlags;
  auto client = hotfix::Client::Create(options);
  if (!client.ok()) {
    std::cerr << "hello: " << client.status() << "\n";
    return 1;
  }
  hotfix::Client& flags = **client;

  if (flags.Enabled("fix-123")) {
    std::cout << "fix-123 is on: taking the new code path\n";
  } else {
    std::cout << "fix-123 is off: taking the old code path\n";
  }

  const hotfix::EvaluationDetail detail = flags.Evaluate("fix-123");
  std::cout << "value=" << std::boolalpha << detail.value.bool_value
            << " variant=" << detail.variant
            << " reason=" << hotfix::ReasonName(detail.reason)
            << " version=" << detail.snapshot_version << "\n";
  return 0;
}
