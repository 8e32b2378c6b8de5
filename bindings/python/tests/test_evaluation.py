"""Evaluation from Python: enabled, typed getters, evaluate() details and
flag handles, against the same flag set as the C tests."""

import math

import pytest

import hotfix


def test_enabled_serves_boolean_flags(flags):
    assert flags.enabled("fix-123") is True
    assert flags.enabled("dark") is False
    assert flags.enabled("killed") is False
    assert flags.enabled("no-such-flag") is False
    assert flags.enabled("") is False
    assert flags.enabled("banner") is False  # not boolean
    # Keyword arguments work too.
    assert flags.enabled(flag="fix-123", context=None) is True


def test_rules_see_context_attributes(flags):
    assert flags.enabled("eu-only", {"key": "user-1"}) is False
    assert flags.enabled("eu-only", {"key": "user-1", "region": "eu"}) is True
    assert flags.enabled("eu-only", {"region": "uk"}) is True
    ctx = {"key": "user-1", "region": "fr", "age": 31, "beta": True}
    assert flags.enabled("adults-beta", ctx) is True
    assert flags.enabled("adults-beta", dict(ctx, beta=False)) is False
    assert flags.enabled("adults-beta", dict(ctx, age=17.5)) is False
    assert flags.enabled("adults-beta", dict(ctx, region="us")) is False


def test_rollout_is_deterministic_and_splits_keys(flags):
    results = [flags.enabled("half", {"key": "user-%d" % i})
               for i in range(2000)]
    again = [flags.enabled("half", {"key": "user-%d" % i})
             for i in range(2000)]
    assert results == again
    assert 800 < sum(results) < 1200  # 50 % of 2000, loosely
    # No key: the fallthrough split cannot bucket.
    detail = flags.evaluate("half")
    assert (detail.reason, detail.error) == ("ERROR", "MISSING_BUCKET_KEY")


def test_typed_getters_return_values_or_the_default_object(flags):
    assert flags.get_bool("fix-123") is True
    assert flags.get_bool("killed", True) is False  # off variant served
    assert flags.get_bool("killed-no-off", "dflt") == "dflt"
    assert flags.get_bool("banner", None) is None  # type mismatch
    assert flags.get_string("banner") == "hello"
    assert flags.get_string("banner", context={"key": "user-fr"}) == "bonjour"
    assert flags.get_string("banner", "x", "user-fr") == "bonjour"
    assert flags.get_string("limit", "x") == "x"
    assert flags.get_string("missing") == ""
    sentinel = object()
    assert flags.get_string("missing", sentinel) is sentinel
    assert flags.get_int("limit") == 1000  # truncated toward zero
    assert isinstance(flags.get_int("limit"), int)
    assert flags.get_int("limit", -1, {"key": "user-huge"}) == -1  # > int64
    assert flags.get_int("banner", -1) == -1
    assert flags.get_float("limit") == pytest.approx(1000.75)
    assert flags.get_float("missing", 2.5) == 2.5
    assert math.isclose(flags.get_float("limit", 0, {"key": "user-huge"}),
                        1e30)


def test_get_json_returns_a_fresh_parsed_object(flags):
    value = flags.get_json("config")
    assert value == {"retries": 3, "hosts": ["a", "b"]}
    value["retries"] = 99  # mutating the result does not affect the flag
    assert flags.get_json("config")["retries"] == 3
    assert flags.get_json("banner") is None
    assert flags.get_json("banner", {"d": 1}) == {"d": 1}


def test_evaluate_explains_each_answer(flags):
    d = flags.evaluate("fix-123")
    assert (d.value, d.variant, d.reason, d.error, d.rule_index, d.version) \
        == (True, "on", "STATIC", None, None, 3)
    assert d.value_type == "bool"

    d = flags.evaluate("eu-only", {"key": "u", "region": "uk"})
    assert (d.value, d.variant, d.reason, d.rule_index) \
        == (True, "on", "RULE_MATCH", 0)

    d = flags.evaluate("adults-beta", {"age": 40, "beta": True})
    assert (d.reason, d.rule_index) == ("RULE_MATCH", 1)

    d = flags.evaluate("eu-only", {"region": "us"})
    assert (d.value, d.reason, d.rule_index) == (False, "DEFAULT", None)

    d = flags.evaluate("banner", {"key": "user-fr"})
    assert (d.value, d.variant, d.reason) == ("bonjour", "fr", "TARGET_MATCH")
    assert d.value_type == "string"

    d = flags.evaluate("killed")
    assert (d.value, d.variant, d.reason) == (False, "off", "KILLED")

    d = flags.evaluate("killed-no-off")
    assert (d.value, d.variant, d.reason, d.value_type) \
        == (None, None, "KILLED", "none")

    d = flags.evaluate("needs-fix")
    assert (d.value, d.variant, d.reason) \
        == (False, "off", "PREREQUISITE_FAILED")

    d = flags.evaluate("limit")
    assert (d.value, d.value_type) == (1000.75, "number")

    d = flags.evaluate("config")
    assert d.value == {"retries": 3, "hosts": ["a", "b"]}
    assert d.value_type == "json"

    d = flags.evaluate("no-such-flag")
    assert (d.value, d.reason, d.error, d.version) \
        == (None, "ERROR", "FLAG_NOT_FOUND", 3)
    assert "FLAG_NOT_FOUND" in repr(d)


def test_evaluate_with_an_expected_type(flags):
    assert flags.evaluate("banner", expected="string").value == "hello"
    d = flags.evaluate("banner", expected="bool")
    assert (d.value, d.reason, d.error) == (None, "ERROR", "TYPE_MISMATCH")
    assert flags.evaluate("limit", expected="number").value == 1000.75
    assert flags.evaluate("config", expected="json").value["retries"] == 3
    with pytest.raises(ValueError, match="expected"):
        flags.evaluate("banner", expected="str")


def test_flag_handles_match_client_results(flags):
    fix = flags.flag("fix-123")
    eu = flags.flag("eu-only")
    banner = flags.flag("banner")
    later = flags.flag("added-later")
    assert fix.key == "fix-123"
    assert repr(fix) == "FlagHandle('fix-123')"
    assert fix.enabled() is True
    assert fix.get_bool() is True
    assert eu.enabled({"region": "eu"}) is True
    assert eu.enabled({"region": "us"}) is False
    assert eu.evaluate({"region": "eu"}).reason == "RULE_MATCH"
    assert banner.get_string() == "hello"
    assert banner.get_string("x", {"key": "user-fr"}) == "bonjour"
    assert flags.flag("limit").get_int() == 1000
    assert flags.flag("limit").get_float() == 1000.75
    assert flags.flag("config").get_json() == {"retries": 3,
                                               "hosts": ["a", "b"]}
    assert flags.flag("config").evaluate(expected="bool").error \
        == "TYPE_MISMATCH"
    assert later.enabled() is False
    assert later.get_string("absent") == "absent"
    # Handles follow later flag sets.
    flags.publish({"version": 4, "flags": {
        "added-later": {"variants": {"on": True}, "default": "on"}}})
    assert later.enabled() is True
    assert fix.enabled() is False
    assert fix.evaluate().error == "FLAG_NOT_FOUND"


def test_non_str_flag_names_are_type_errors(flags):
    with pytest.raises(TypeError):
        flags.enabled(123)
    with pytest.raises(TypeError):
        flags.enabled(None)
    # bytes flag names are accepted as UTF-8.
    assert flags.enabled(b"fix-123") is True


def test_evaluation_objects_are_read_only(flags):
    d = flags.evaluate("fix-123")
    with pytest.raises(AttributeError):
        d.value = False
    s = flags.status()
    with pytest.raises(AttributeError):
        s.version = 9
    assert isinstance(d, hotfix.Evaluation)
    assert isinstance(s, hotfix.Status)


def test_enabled_argument_errors_are_type_errors(flags):
    handle = flags.flag("fix-123")
    for call in (lambda: flags.enabled(),
                 lambda: flags.enabled("a", None, 3),
                 lambda: flags.enabled("a", flag="b"),
                 lambda: flags.enabled("a", ctx={}),
                 lambda: handle.enabled({}, {}),
                 lambda: handle.enabled(ctx={})):
        with pytest.raises(TypeError):
            call()
    assert handle.enabled(context={"key": "u"}) is True


def test_a_subclass_must_initialize_the_client():
    class Forgetful(hotfix.Client):
        def __init__(self):
            pass

    with pytest.raises(TypeError, match="__init__"):
        Forgetful().enabled("x")
