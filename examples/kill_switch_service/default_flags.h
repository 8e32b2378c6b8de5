// examples/kill_switch_service/default_flags.h
//
// The flag set compiled into the kill-switch service. It is served from
// start-up until the flag file (--flags) delivers something, and whenever that
// file cannot be read at start. tests/docs_examples_test.cc compiles it and
// checks the behaviour described here.
//
//   fix-double-charge     hotfix for double charging: on for every request
//                         from region "eu" (where the bug was reported), and
//                         for 25 % of the other users, bucketed by user key.
//   kill-recommendations  kill switch for the recommendation service call:
//                         on (true) in normal operation; an operator kills it
//                         ("killed": true) and it serves false, so checkout
//                         skips the expensive dependency.

#ifndef HOTFIX_EXAMPLES_KILL_SWITCH_SERVICE_DEFAULT_FLAGS_H_
#define HOTFIX_EXAMPLES_KILL_SWITCH_SERVICE_DEFAULT_FLAGS_H_

inline constexpr char kDefaultFlags[] = R"json({
  "version": 1,
  "environment": "demo",
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

#endif  // HOTFIX_EXAMPLES_KILL_SWITCH_SERVICE_DEFAULT_FLAGS_H_
