"""Python contexts: dict conversion, value types, errors, string lifetimes
and leaks. A hotfix::Context only views strings, so the binding must keep
every viewed object alive for the call and never keep a view after it."""

import collections
import gc
import sys
import types

import pytest

import hotfix


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


def test_unencodable_strings_raise_and_do_not_crash(flags):
    with pytest.raises(UnicodeEncodeError):
        flags.enabled("eu-only", {"region": "\ud800"})
    with pytest.raises(UnicodeEncodeError):
        flags.enabled("eu-only", {"\udfff": "eu"})
    with pytest.raises(OverflowError):
        flags.enabled("adults-beta", {"age": 10 ** 400})


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
