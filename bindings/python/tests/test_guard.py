"""Outcome reporting and the local guard from Python: report(), guard() as a
context manager, GUARD_TRIPPED, status().guard_trips and telemetry, and the
options that switch counting off."""

import pytest

import hotfix
from conftest import wait_until

GUARDED = {
    "version": 1,
    "flags": {
        "fix": {"variants": {"on": True, "off": False},
                "off_variant": "off", "default": "on",
                "guard": {"max_failure_rate": 0.2, "min_samples": 10,
                          "window": "1h"}},
        "plain": {"variants": {"on": True, "off": False},
                  "default": "on"},
    },
}


def make(**options):
    return hotfix.Client(bootstrap=GUARDED, guard_interval=0.005, **options)


def test_failures_trip_the_guard_and_the_fallback_is_served():
    with make() as flags:
        events = []
        flags.on_change(events.append)
        for i in range(10):
            flags.report("fix", i % 2 == 0)
        wait_until(lambda: flags.evaluate("fix").reason == "GUARD_TRIPPED",
                   "the guard trips")
        assert flags.enabled("fix") is False
        assert flags.evaluate("fix").variant == "off"
        trips = flags.status().guard_trips
        assert len(trips) == 1
        assert trips[0]["flag"] == "fix"
        assert trips[0]["variant"] == "on"
        assert trips[0]["failures"] == 5
        assert trips[0]["outcomes"] == 10
        assert "limit 20%" in trips[0]["detail"]
        wait_until(lambda: any("fix" in e.changed_keys for e in events),
                   "listeners hear of the trip")


def test_guard_context_manager_counts_an_exception_as_a_failure():
    with make() as flags:
        for _ in range(10):
            with pytest.raises(RuntimeError):
                with flags.guard("fix") as g:
                    assert g.enabled
                    assert g.evaluation.variant == "on"
                    raise RuntimeError("checkout failed")
        wait_until(lambda: flags.evaluate("fix").reason == "GUARD_TRIPPED",
                   "the guard trips")


def test_guard_records_once_and_dismiss_records_nothing():
    with make() as flags:
        for _ in range(20):
            with flags.guard("fix") as g:
                g.succeed()
                g.fail()  # ignored: already recorded
        for _ in range(20):
            with flags.guard("fix") as g:
                g.dismiss()
        assert flags.evaluate("fix").reason == "STATIC"
        assert flags.status().guard_trips == []


def test_counting_off_reports_nothing():
    with make(counting=False) as flags:
        for _ in range(20):
            flags.report("fix", False)
        status = flags.status()
        assert status.telemetry["counting"] is False
        assert status.guard_trips == []
        assert flags.evaluate("fix").reason == "STATIC"


def test_report_checks_its_arguments_and_ignores_unknown_flags():
    with make() as flags:
        flags.report("no-such-flag", False)
        flags.report("plain", True, {"key": "u1"})
        with pytest.raises(TypeError):
            flags.report("fix", 1)
        with pytest.raises(TypeError):
            flags.report(None, True)
    # A closed client counts nothing and does not raise.
    flags.report("fix", False)


def test_telemetry_options_are_checked():
    with pytest.raises(TypeError):
        make(counting="yes")
    with pytest.raises(hotfix.ConfigError):
        make(telemetry_interval=0)
    status = make(send_telemetry=False, instance="py-1").status()
    assert status.telemetry["sending"] is False
