// tools/hotfixd/default_flags.h
//
// The flag set hotfixd gives its default environment on first start (unless
// --bootstrap-flags names another), so `hotfixd --data-dir ./data` serves
// something useful at once. The flags are the ones the kill-switch example
// service (examples/kill_switch_service) evaluates, so the README's demo loop
// works against a fresh server:
//
//   fix-double-charge     hotfix: on for region "eu", 25 % of other users
//   kill-recommendations  kill switch: true normally, killed serves false

#ifndef HOTFIX_TOOLS_HOTFIXD_DEFAULT_FLAGS_H_
#define HOTFIX_TOOLS_HOTFIXD_DEFAULT_FLAGS_H_

namespace hotfix {
namespace hotfixd {

inline constexpr char kDefaultFlagSet[] = R"json({
  "version": 1,
  "flags": {
    "fix-double-charge": {
      "variants": { "on": true, "off": false },
      "off_variant": "off",
      "rules": [
        { "if": [ { "attribute": "region", "op": "eq", "value": "eu" } ],
          "serve": "on" }
      ],
      "default": { "rollout": { "bucket_by": "key",
                                "split": [ { "variant": "on",  "weight": 25 },
                                           { "variant": "off", "weight": 75 } ] } },
      "owner": "payments-oncall",
      "ticket": "PAY-123",
      "description": "Charge once when the payment provider times out and the client retries",
      "expires": "2026-12-31",
      "tags": ["payments", "hotfix"]
    },
    "kill-recommendations": {
      "variants": { "on": true, "off": false },
      "off_variant": "off",
      "default": "on",
      "killed": false,
      "owner": "discovery-oncall",
      "description": "Kill switch: false skips the recommendation service call at checkout",
      "tags": ["checkout", "kill-switch"]
    }
  }
})json";

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_DEFAULT_FLAGS_H_
