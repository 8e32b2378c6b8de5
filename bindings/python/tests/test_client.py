"""hotfix.Client: construction, errors, publish, close and the package
surface."""

import gc
import json
import math
import os

import pytest

import hotfix
from conftest import (FLAGS, assert_clean_exit, run_python, thread_ids,
                      threads_since)


def test_bootstrap_from_dict_str_and_bytes_serve_the_same_flags():
    text = json.dumps(FLAGS)
    for document in (FLAGS, text, text.encode("utf-8")):
        with hotfix.Client.from_bootstrap(document) as client:
            assert client.enabled("fix-123") is True
            assert client.enabled("dark") is False
            assert client.version == 3


def test_bootstrap_path_is_read_once(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    with hotfix.Client(bootstrap_path=path) as client:
        assert client.enabled("fix-123")
        assert client.status().origin == "bootstrap"


def test_client_without_sources_serves_defaults():
    with hotfix.Client() as client:
        assert client.enabled("fix-123") is False
        assert client.get_int("limit", 7) == 7
        assert client.version == 0
        assert client.wait_until_ready(0.01) is False
        detail = client.evaluate("fix-123")
        assert (detail.reason, detail.error) == ("ERROR", "NOT_READY")
        assert client.status().origin == "none"


def test_invalid_bootstrap_raises_config_error_with_the_core_message():
    bad = {"version": 1, "flags": {"f": {"variants": {"on": True},
                                         "default": "onn"}}}
    with pytest.raises(hotfix.ConfigError) as info:
        hotfix.Client.from_bootstrap(bad)
    assert "flags.f.default" in str(info.value)
    assert "onn" in str(info.value)
    assert info.value.code == "INVALID_ARGUMENT"
    # The hierarchy: a ConfigError is a HotfixError and a ValueError.
    assert isinstance(info.value, hotfix.HotfixError)
    assert isinstance(info.value, ValueError)


def test_invalid_json_and_unknown_fields_are_config_errors():
    with pytest.raises(hotfix.ConfigError, match="invalid JSON"):
        hotfix.Client.from_bootstrap('{"version": 1,')
    with pytest.raises(hotfix.ConfigError, match="kiled"):
        hotfix.Client.from_bootstrap({"version": 1, "flags": {}, "kiled": 1})


def test_missing_bootstrap_file_names_the_option(tmp_path):
    with pytest.raises(hotfix.ConfigError) as info:
        hotfix.Client(bootstrap_path=tmp_path / "nope.json")
    assert "bootstrap_path" in str(info.value)
    assert info.value.code == "NOT_FOUND"


def test_invalid_options_raise_config_error():
    with pytest.raises(hotfix.ConfigError, match="exclusive"):
        hotfix.Client(bootstrap=FLAGS, bootstrap_path="/x")
    with pytest.raises(hotfix.ConfigError, match="poll_interval"):
        hotfix.Client(poll_interval=-1)
    with pytest.raises(hotfix.ConfigError, match="max_file_bytes"):
        hotfix.Client(max_file_bytes=0)
    with pytest.raises(hotfix.ConfigError, match="unknown_operators"):
        hotfix.Client(unknown_operators="maybe")
    with pytest.raises(hotfix.ConfigError, match="mode"):
        hotfix.Client(url="http://127.0.0.1:1", mode="carrier-pigeon")
    with pytest.raises(hotfix.ConfigError, match="scheme"):
        hotfix.Client.from_url("ftp://example.com", "sdk-key-0123456789")
    with pytest.raises(hotfix.ConfigError, match="remote_poll_interval"):
        hotfix.Client(remote_poll_interval=0)
    with pytest.raises(TypeError):
        hotfix.Client(bootstrap=42)
    with pytest.raises(TypeError):
        hotfix.Client(no_such_option=1)
    with pytest.raises(TypeError):
        hotfix._hotfix.Client("positional")


def test_url_may_list_several_servers():
    # Replicas of one deployment, followed in order on failure; each is
    # checked at creation, and status() names none until one answers.
    with pytest.raises(hotfix.ConfigError, match="ftp://replica-b"):
        hotfix.Client(url=["http://127.0.0.1:1", "ftp://replica-b"],
                      sdk_key="sdk-key-0123456789")
    with hotfix.Client(url=["http://127.0.0.1:1", "http://127.0.0.1:2"],
                       sdk_key="sdk-key-0123456789", mode="polling",
                       bootstrap=FLAGS) as flags:
        assert flags.status().server == ""
        assert flags.enabled("fix-123")


def test_unknown_operators_reject_or_fail_closed():
    doc = {"version": 1, "flags": {"f": {
        "variants": {"on": True, "off": False}, "default": "off",
        "rules": [{"if": [{"attribute": "a", "op": "betwen", "value": 1}],
                   "serve": "on"}]}}}
    with pytest.raises(hotfix.ConfigError, match="betwen"):
        hotfix.Client.from_bootstrap(doc)
    with hotfix.Client.from_bootstrap(doc,
                                      unknown_operators="fail_closed") as c:
        assert c.enabled("f", {"a": 1}) is False


def test_document_size_limit_applies():
    with pytest.raises(hotfix.ConfigError):
        hotfix.Client.from_bootstrap(FLAGS, max_document_bytes=10)


def test_publish_replaces_flags_and_bad_documents_change_nothing(flags):
    flags.publish({"version": 4, "flags": {
        "dark": {"variants": {"on": True}, "default": "on"}}})
    assert flags.version == 4
    assert flags.enabled("dark") is True
    assert flags.enabled("fix-123") is False
    with pytest.raises(hotfix.ConfigError, match="flags.x"):
        flags.publish({"version": 5, "flags": {"x": {
            "variants": {"a": 1, "b": "s"}, "default": "a"}}})
    with pytest.raises(hotfix.ConfigError):
        flags.publish("[]")
    assert flags.version == 4
    assert flags.enabled("dark") is True
    assert flags.status().origin == "test"


def test_close_serves_defaults_and_refuses_management_calls():
    client = hotfix.Client.from_bootstrap(FLAGS)
    handle = client.flag("fix-123")
    assert client.enabled("fix-123") and handle.enabled()
    client.close()
    assert client.closed
    client.close()  # idempotent
    assert client.enabled("fix-123") is False
    assert client.get_string("banner", "default") == "default"
    assert client.evaluate("fix-123").error == "NOT_READY"
    assert client.version == 0
    # Handles outlive the close and serve defaults too.
    assert handle.enabled() is False
    assert handle.get_int(5) == 5
    assert handle.evaluate().error == "NOT_READY"
    for call in (lambda: client.status(),
                 lambda: client.flag("x"),
                 lambda: client.on_change(print),
                 lambda: client.publish(FLAGS),
                 lambda: client.wait_until_ready(0)):
        with pytest.raises(hotfix.StateError, match="closed") as info:
            call()
        assert info.value.code == "FAILED_PRECONDITION"
        assert isinstance(info.value, RuntimeError)
    client.remove_listener(1)  # nothing to remove: no error
    client.after_fork()  # no-op
    assert repr(client) == "<hotfix.Client closed>"


def test_context_manager_closes_even_on_error():
    with pytest.raises(KeyError):
        with hotfix.Client.from_bootstrap(FLAGS) as client:
            raise KeyError("boom")
    assert client.closed


def test_repr_and_version():
    with hotfix.Client.from_bootstrap(FLAGS) as client:
        assert repr(client) == "<hotfix.Client version=3>"
        assert hotfix.__version__.count(".") == 2


def test_many_clients_come_and_go_without_leaking_threads(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    before = thread_ids()
    for _ in range(50):
        with hotfix.Client.from_file(path, poll_interval=0.01) as client:
            assert client.enabled("fix-123")
            # The file watcher is a C++ thread, invisible to threading.
            assert len(threads_since(before)) == 1
        # close() joined it.
        assert not threads_since(before)


def test_garbage_collected_client_is_closed(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    before = thread_ids()
    client = hotfix.Client.from_file(path, poll_interval=0.01)
    handle = client.flag("fix-123")
    assert len(threads_since(before)) == 1
    del client
    gc.collect()
    # The handle keeps the client alive.
    assert handle.enabled()
    assert len(threads_since(before)) == 1
    del handle  # now the client is freed and its watcher joined
    gc.collect()
    assert not threads_since(before)


def test_public_names():
    for name in hotfix.__all__:
        assert hasattr(hotfix, name), name
    assert issubclass(hotfix.Client, hotfix._hotfix.Client)
    assert os.path.basename(hotfix._hotfix.__file__).startswith("_hotfix")


def test_objects_made_without_init_raise_type_error():
    # __new__ without __init__ leaves pybind11 objects without their C++
    # value: every method must say so instead of reading garbage.
    result = run_python("""
from hotfix import _hotfix
def outcome(call):
    try:
        call()
        return "returned"
    except TypeError as e:
        return "TypeError: " + str(e)
c = hotfix.Client.__new__(hotfix.Client)
base = _hotfix.Client.__new__(_hotfix.Client)
h = hotfix.FlagHandle.__new__(hotfix.FlagHandle)
calls = {
    "client.get_bool": lambda: c.get_bool("x"),
    "client.enabled": lambda: c.enabled("x"),
    "client.evaluate": lambda: c.evaluate("x"),
    "client.close": lambda: c.close(),
    "client.closed": lambda: c.closed,
    "client.version": lambda: c.version,
    "client.status": lambda: c.status(),
    "client.on_change": lambda: c.on_change(print),
    "client.wait_until_ready": lambda: c.wait_until_ready(0),
    "client.publish": lambda: c.publish("{}"),
    "base.get_bool": lambda: base.get_bool("x"),
    "base.close": lambda: base.close(),
    "handle.enabled": lambda: h.enabled(),
    "handle.get_int": lambda: h.get_int(),
    "handle.key": lambda: h.key,
    "handle.repr": lambda: repr(h),
    "evaluation.value": lambda: hotfix.Evaluation.__new__(
        hotfix.Evaluation).value,
    "status.state": lambda: hotfix.Status.__new__(hotfix.Status).state,
    "event.repr": lambda: repr(hotfix.ChangeEvent.__new__(
        hotfix.ChangeEvent)),
    "unbound with another type": lambda: _hotfix.Client.get_bool(42, "x"),
}
for name, call in calls.items():
    print(name, "->", outcome(call))
print("repr ->", repr(c))
""", "objects made without __init__")
    out = assert_clean_exit(result, "objects made without __init__")
    lines = out.splitlines()
    for line in lines[:-1]:
        assert "-> TypeError: " in line, line
    assert "not initialized" in out
    assert lines[-1] == "repr -> <hotfix.Client (not initialized)>"


def test_options_of_the_wrong_type_name_the_option():
    cases = {
        "poll_interval": "fast",
        "max_file_bytes": 1.5,
        "url": 42,
        "sdk_key": b"key",
        "mode": 1,
        "connect_timeout": "1",
        "verify_tls": 1,
        "unknown_operators": 0,
        "max_document_bytes": "big",
        "file": 3.5,
        "cache_path": 7,
    }
    for option, value in cases.items():
        with pytest.raises(TypeError, match=option) as info:
            hotfix.Client(**{option: value})
        assert type(value).__name__ in str(info.value), (option, info.value)


def test_nul_characters_in_options_are_refused():
    for option in ("file", "bootstrap_path", "cache_path", "ca_file", "url",
                   "sdk_key"):
        with pytest.raises(hotfix.ConfigError, match="NUL") as info:
            hotfix.Client(**{option: "/tmp/flags.json\0.evil"})
        assert option in str(info.value)
        assert info.value.code == "INVALID_ARGUMENT"
    with pytest.raises(hotfix.ConfigError, match="file"):
        hotfix.Client(file=b"/tmp/flags.json\0.evil")


def test_paths_may_be_bytes_and_path_like(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    for value in (path, str(path), os.fsencode(path)):
        with hotfix.Client(file=value, poll_interval=0) as client:
            assert client.enabled("fix-123"), value


def test_wait_until_ready_needs_a_timeout():
    with hotfix.Client() as client:
        with pytest.raises(TypeError):
            client.wait_until_ready()
        with pytest.raises(ValueError, match="timeout"):
            client.wait_until_ready(-1)
        with pytest.raises(ValueError, match="timeout"):
            client.wait_until_ready(float("nan"))
        with pytest.raises(TypeError, match="timeout"):
            client.wait_until_ready("1")
        assert client.wait_until_ready(0) is False  # 0: only checks
    with hotfix.Client.from_bootstrap(FLAGS) as client:
        assert client.wait_until_ready(0) is True
        assert client.wait_until_ready(math.inf) is True
