"""hotfix.Client: construction, errors, publish, close and the package
surface."""

import json
import os

import pytest

import hotfix
from conftest import FLAGS


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


def test_many_clients_come_and_go_without_leaking_threads():
    import threading
    before = threading.active_count()
    for _ in range(50):
        with hotfix.Client.from_bootstrap(FLAGS) as client:
            assert client.enabled("fix-123")
    # Python-visible threads only: the core's threads are joined by close().
    assert threading.active_count() == before


def test_garbage_collected_client_is_closed(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    client = hotfix.Client.from_file(path, poll_interval=0.01)
    handle = client.flag("fix-123")
    del client
    # The handle keeps the client alive.
    assert handle.enabled()
    del handle  # now the client is freed and its watcher joined


def test_public_names():
    for name in hotfix.__all__:
        assert hasattr(hotfix, name), name
    assert issubclass(hotfix.Client, hotfix._hotfix.Client)
    assert os.path.basename(hotfix._hotfix.__file__).startswith("_hotfix")
