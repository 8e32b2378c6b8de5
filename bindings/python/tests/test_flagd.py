"""flagd's flag definitions from Python: the module compiles them with the
library's flagd compiler (docs/openfeature.md)."""

import json

import hotfix

FLAGD = {
    "$schema": "https://flagd.dev/schema/v0/flags.json",
    "metadata": {"flagSetId": "py"},
    "flags": {
        "banner": {"state": "ENABLED",
                   "variants": {"on": True, "off": False},
                   "defaultVariant": "off",
                   "targeting": {"if": [{"sem_ver": [{"var": "version"}, ">=", "2.0.0"]},
                                        "on", None]}},
        "ramp": {"state": "ENABLED", "variants": {"on": True, "off": False},
                 "defaultVariant": "off",
                 "targeting": {"fractional": [["on", 40], ["off", 60]]}},
        "broken": {"state": "ENABLED", "variants": {"a": "A"},
                   "defaultVariant": "a",
                   "targeting": {"==": [{"var": "n"}, 1]}},
        "off": {"state": "DISABLED", "variants": {"on": True},
                "defaultVariant": "on"},
    },
}


def test_flagd_targeting_evaluates():
    flags = hotfix.Client.from_bootstrap(json.dumps(FLAGD))
    assert flags.enabled("banner", {"key": "u", "version": "v2.1"}) is True
    assert flags.enabled("banner", {"key": "u", "version": "1.9.9"}) is False
    d = flags.evaluate("banner", {"key": "u"})
    assert (d.variant, d.reason) == ("off", "DEFAULT")


def test_flagd_fractional_keeps_flagds_buckets():
    flags = hotfix.Client.from_bootstrap(json.dumps(FLAGD))
    # What @openfeature/flagd-core 4.0.1 answers for these keys.
    flagd = {"user0": "off", "user1": "off", "user2": "off", "user3": "off",
             "user4": "on", "user5": "off", "user6": "on", "user7": "on",
             "user8": "off", "user9": "off", "user10": "on", "user11": "on"}
    for key, variant in flagd.items():
        d = flags.evaluate("ramp", {"key": key})
        assert (d.variant, d.reason) == (variant, "RULE_MATCH"), key
    d = flags.evaluate("ramp")  # no key: fractional is null -> the default
    assert (d.variant, d.reason) == ("off", "DEFAULT")


def test_flagd_errors_and_disabled():
    flags = hotfix.Client.from_bootstrap(json.dumps(FLAGD))
    d = flags.evaluate("broken", {"key": "u", "n": "abc"})
    assert (d.reason, d.error) == ("ERROR", "GENERAL")
    d = flags.evaluate("off")
    assert d.reason == "KILLED"
    assert d.value is None
