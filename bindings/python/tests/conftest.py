"""Shared fixtures for the hotfix Python tests (run by ctest with
PYTHONPATH=<build>/python; see bindings/python/CMakeLists.txt)."""

import time

import pytest

import hotfix

FLAGS = {
    "version": 3,
    "flags": {
        "fix-123": {"variants": {"on": True, "off": False},
                    "off_variant": "off", "default": "on"},
        "dark": {"variants": {"on": True, "off": False},
                 "off_variant": "off", "default": "off"},
        "killed": {"variants": {"on": True, "off": False},
                   "off_variant": "off", "default": "on", "killed": True},
        "killed-no-off": {"variants": {"on": True}, "default": "on",
                          "killed": True},
        "eu-only": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "off",
            "rules": [{"if": [{"attribute": "region", "op": "in",
                               "values": ["eu", "uk"]}],
                       "serve": "on"}],
        },
        "adults-beta": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "off",
            "rules": [
                {"if": [{"attribute": "region", "op": "eq", "value": "us"}],
                 "serve": "off"},
                {"if": [{"attribute": "age", "op": "gte", "value": 18},
                        {"attribute": "beta", "op": "eq", "value": True}],
                 "serve": "on"},
            ],
        },
        "half": {
            "variants": {"on": True, "off": False},
            "off_variant": "off",
            "default": {"rollout": {"split": [
                {"variant": "on", "weight": 50},
                {"variant": "off", "weight": 50}]}},
        },
        "banner": {"variants": {"en": "hello", "fr": "bonjour"},
                   "default": "en",
                   "targets": [{"variant": "fr", "keys": ["user-fr"]}]},
        "limit": {"variants": {"low": 10, "high": 1000.75, "huge": 1e30},
                  "default": "high",
                  "targets": [{"variant": "huge", "keys": ["user-huge"]}]},
        "config": {"variants": {"v1": {"retries": 3, "hosts": ["a", "b"]}},
                   "default": "v1"},
        "needs-fix": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "on",
            "prerequisites": [{"flag": "dark", "variant": "on"}],
        },
    },
}


@pytest.fixture
def flags():
    with hotfix.Client.from_bootstrap(FLAGS) as client:
        yield client


def wait_until(predicate, timeout=10.0):
    """Polls `predicate` until it is true or `timeout` seconds pass (a
    liveness deadline, not a timing assertion). Returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)
