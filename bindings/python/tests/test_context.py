"""Python contexts: dict conversion, value types, errors, string lifetimes
and leaks. A hotfix::Context only views strings, so the binding must keep
every viewed object alive for the call and never keep a view after it."""

import collections
import gc
import sys
import types

import pytest

from conftest import assert_clean_exit, run_python


def test_attribute_value_types(flags):
    # str / bool / int / float attributes reach the rules.
    assert flags.enabled("adults-beta",
                         {"age": 18, "beta": True, "region": "fr"})
    assert flags.enabled("adults-beta", {"age": 18.0, "beta": True})
    assert not flags.enabled("adults-beta", {"age": "18", "beta": True})
    assert not flags.enabled("adults-beta", {"age": 18, "beta": 1})
    # bytes are strings.
    assert flags.enabled("eu-only", {"region": b"eu"})
    assert flags.get_string("banner", "?", {"key": b"user-fr"}) == "bonjour"


def test_none_values_mean_absent(flags):
    assert not flags.enabled("eu-only", {"region": None})
    assert flags.get_string("banner", "?", {"key": None}) == "hello"
    d = flags.evaluate("half", {"key": None})
    assert d.error == "MISSING_BUCKET_KEY"


def test_a_str_context_is_the_key(flags):
    assert flags.get_string("banner", "?", "user-fr") == "bonjour"
    assert flags.flag("banner").get_string("?", "user-fr") == "bonjour"


def test_any_mapping_is_accepted(flags):
    class Attributes(collections.abc.Mapping):
        def __init__(self, **kw):
            self._d = kw

        def __getitem__(self, k):
            return self._d[k]

        def __iter__(self):
            return iter(self._d)

        def __len__(self):
            return len(self._d)

    for ctx in (collections.OrderedDict(region="eu"),
                types.MappingProxyType({"region": "eu"}),
                Attributes(region="eu")):
        assert flags.enabled("eu-only", ctx), type(ctx)


def test_many_attributes_spill_past_the_inline_capacity(flags):
    ctx = {"attr-%d" % i: "v%d" % i for i in range(40)}
    ctx["region"] = "eu"
    assert flags.enabled("eu-only", ctx)
    ctx["region"] = "us"
    assert not flags.enabled("eu-only", ctx)


def test_bad_contexts_raise_type_errors_naming_the_problem(flags):
    with pytest.raises(TypeError, match=r'context\["region"\].*list'):
        flags.enabled("eu-only", {"region": ["eu"]})
    with pytest.raises(TypeError, match=r'context\["x"\].*dict'):
        flags.get_bool("eu-only", False, {"x": {}})
    with pytest.raises(TypeError, match="attribute names must be str"):
        flags.enabled("eu-only", {1: "eu"})
    with pytest.raises(TypeError, match="context key"):
        flags.enabled("eu-only", {"key": 42})
    with pytest.raises(TypeError, match="expected a dict"):
        flags.enabled("eu-only", ["region", "eu"])
    with pytest.raises(TypeError, match="expected a dict"):
        flags.enabled("eu-only", 42)
    with pytest.raises(TypeError):
        flags.flag("eu-only").enabled([1])
    with pytest.raises(TypeError):
        flags.evaluate("eu-only", {"region": object()})


def test_strings_that_are_not_valid_unicode_are_compared_not_raised(flags):
    # A lone surrogate (e.g. os.fsdecode() of bytes that are not UTF-8) has
    # no UTF-8 form: it is compared as its "surrogatepass" bytes, which never
    # equal valid text, exactly like an invalid bytes value.
    flags.publish({"version": 9, "flags": {"prefix": {
        "variants": {"on": True, "off": False}, "default": "off",
        "rules": [{"if": [{"attribute": "path", "op": "starts_with",
                           "value": "/home"}], "serve": "on"}]}}})
    assert flags.enabled("prefix", {"path": "/home/\udcff"}) is True
    assert flags.enabled("prefix", {"path": "\ud800/home"}) is False
    assert flags.enabled("prefix", {"\udfff": "/home"}) is False
    assert flags.enabled("prefix", {"key": "\ud800", "path": "/home"})
    assert flags.enabled("prefix", "\ud800") is False
    handle = flags.flag("prefix")
    assert handle.enabled({"path": "/home/\udcff"}) is True
    assert flags.evaluate("prefix", {"path": "\ud800"}).reason == "DEFAULT"


def test_ints_beyond_the_float_range_compare_as_infinities(flags):
    for age, expected in ((10 ** 400, True), (-10 ** 400, False),
                          (2 ** 1024, True)):
        ctx = {"age": age, "beta": True}
        assert flags.enabled("adults-beta", ctx) is expected, age
        assert flags.get_bool("adults-beta", None, ctx) is expected, age
        assert flags.flag("adults-beta").enabled(ctx) is expected, age
        assert flags.evaluate("adults-beta", ctx).value is expected, age


def test_flag_keys_that_are_not_valid_unicode_are_unknown_flags(flags):
    # The same answer from every method: no flag has such a key.
    key = "fix-\ud800"
    assert flags.enabled(key) is False
    assert flags.get_bool(key, "default") == "default"
    assert flags.get_string(key, "default") == "default"
    assert flags.get_int(key, 7) == 7
    detail = flags.evaluate(key)
    assert (detail.reason, detail.error) == ("ERROR", "FLAG_NOT_FOUND")
    handle = flags.flag(key)
    assert handle.key == key
    assert handle.enabled() is False
    assert handle.evaluate().error == "FLAG_NOT_FOUND"
    assert repr(handle) == "FlagHandle(%r)" % key


def test_evaluation_raises_type_error_for_arguments_of_the_wrong_type(flags):
    # What the package docstring promises: TypeError for a flag or context of
    # the wrong type (and nothing else: see the tests above).
    handle = flags.flag("eu-only")
    bad = {"region": ["eu"]}
    calls = {
        "enabled(42)": lambda: flags.enabled(42),
        "get_bool(42)": lambda: flags.get_bool(42),
        "get_string(42)": lambda: flags.get_string(42),
        "get_int(42)": lambda: flags.get_int(42),
        "get_float(42)": lambda: flags.get_float(42),
        "get_json(42)": lambda: flags.get_json(42),
        "evaluate(42)": lambda: flags.evaluate(42),
        "flag(42)": lambda: flags.flag(42),
        "enabled(bad)": lambda: flags.enabled("eu-only", bad),
        "get_bool(bad)": lambda: flags.get_bool("eu-only", False, bad),
        "get_int(bad)": lambda: flags.get_int("eu-only", 0, bad),
        "evaluate(bad)": lambda: flags.evaluate("eu-only", bad),
        "evaluate(expected=1)": lambda: flags.evaluate("eu-only",
                                                       expected=1),
        "handle.enabled(bad)": lambda: handle.enabled(bad),
        "handle.get_json(bad)": lambda: handle.get_json(None, bad),
        "handle.evaluate(bad)": lambda: handle.evaluate(bad),
    }
    for name, call in calls.items():
        with pytest.raises(TypeError):
            call()
            pytest.fail(name + " did not raise")


def test_a_mapping_context_may_raise_its_own_errors(flags):
    class Broken(collections.abc.Mapping):
        def __getitem__(self, k):
            raise LookupError("backend down")

        def __iter__(self):
            return iter(["region"])

        def __len__(self):
            return 1

    with pytest.raises(LookupError, match="backend down"):
        flags.enabled("eu-only", Broken())


def test_large_contexts_are_converted_in_linear_time():
    # 300 000 attributes: a conversion that searched for each name among the
    # earlier ones would take minutes (3.9 s for 40 000); a linear one takes
    # a fraction of a second. The subprocess deadline is a liveness bound
    # with a margin of hundreds, not a timing assertion.
    result = run_python("""
ctx = {"attr-%d" % i: i for i in range(300000)}
ctx["region"] = "eu"
with hotfix.Client.from_bootstrap(FLAGS) as client:
    print(client.enabled("eu-only", ctx), client.flag("eu-only").enabled(ctx))
""", "a 300 000-attribute context", timeout=60)
    out = assert_clean_exit(result, "large context")
    assert out.split() == ["True", "True"]


def test_non_ascii_strings_match(flags):
    flags.publish({"version": 9, "flags": {"city": {
        "variants": {"on": True, "off": False}, "default": "off",
        "rules": [{"if": [{"attribute": "city", "op": "eq",
                           "value": "Zürich"}], "serve": "on"}]},
        "greeting": {"variants": {"a": "grüezi ✓"}, "default": "a"}}})
    assert flags.enabled("city", {"city": "Zürich"})
    assert not flags.enabled("city", {"city": "Zurich"})
    assert flags.enabled("city", {"city": "Zürich".encode("utf-8")})
    assert flags.get_string("greeting") == "grüezi ✓"


def test_temporary_strings_live_long_enough(flags):
    # Every string below is created for the call and dropped right after:
    # the context must view them only while the call runs.
    for i in range(2000):
        region = "".join(["e", "u"]) if i % 2 == 0 else "u" + "s" * (i % 3 + 1)
        key = "user-%d" % i
        got = flags.enabled("eu-only", {"key": key, "region": region})
        assert got == (i % 2 == 0)
        if i % 500 == 0:
            gc.collect()


def test_no_references_are_leaked_or_stolen(flags):
    region = "".join(["e", "u"])
    name = "".join(["reg", "ion"])
    ctx = {name: region, "age": 31, "beta": True, "key": "user-1"}
    before = (sys.getrefcount(region), sys.getrefcount(name),
              sys.getrefcount(ctx))
    handle = flags.flag("eu-only")
    for _ in range(1000):
        flags.enabled("eu-only", ctx)
        flags.get_string("banner", "x", ctx)
        flags.evaluate("eu-only", ctx)
        handle.enabled(ctx)
        handle.get_json(None, ctx)
    after = (sys.getrefcount(region), sys.getrefcount(name),
             sys.getrefcount(ctx))
    assert before == after


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_repeated_evaluations_do_not_grow_memory(flags):
    ctx = {"attr-%d" % i: "v%d" % i for i in range(20)}  # spills to the heap
    ctx.update(key="user-1", region="eu", age=31, beta=True)
    handle = flags.flag("adults-beta")

    def work(n):
        for _ in range(n):
            flags.enabled("eu-only", ctx)
            flags.evaluate("config", ctx)
            flags.get_json("config", None, ctx)
            handle.enabled(ctx)
            try:
                flags.enabled("eu-only", {"bad": [1]})
            except TypeError:
                pass

    work(20000)  # warm up allocator pools
    gc.collect()
    before = _rss_bytes()
    work(100000)
    gc.collect()
    growth = _rss_bytes() - before
    # A leak of even one small object per call would be > 5 MB here.
    assert growth < 4 * 1024 * 1024, growth
