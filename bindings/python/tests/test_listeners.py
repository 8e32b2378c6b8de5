"""on_change callbacks: delivery, threads and the GIL, exceptions, removal,
and what a callback may not do."""

import gc
import json
import logging
import threading

import pytest

import hotfix
from conftest import FLAGS, wait_until

V4 = {"version": 4, "flags": {
    "fix-123": FLAGS["flags"]["fix-123"],
    "dark": {"variants": {"on": True}, "default": "on"}}}


def test_publish_calls_callbacks_with_the_change(flags):
    events = []
    listener_id = flags.on_change(events.append)
    assert isinstance(listener_id, int)
    flags.publish(V4)
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, hotfix.ChangeEvent)
    assert (event.old_version, event.new_version, event.origin) \
        == (3, 4, "test")
    # Removed flags and the changed one, sorted; fix-123 did not change.
    assert event.changed_keys == sorted(
        set(FLAGS["flags"]) - {"fix-123"})
    assert "new_version=4" in repr(event)


def test_callbacks_run_on_the_publishing_thread_and_can_evaluate(flags):
    seen = []
    flags.on_change(lambda e: seen.append(
        (threading.get_ident(), flags.enabled("dark"))))
    worker = threading.Thread(target=flags.publish, args=(V4,))
    worker.start()
    worker.join()
    assert seen == [(worker.ident, True)]


def test_exceptions_in_callbacks_are_logged_not_raised(flags, caplog):
    calls = []

    def broken(event):
        calls.append(event.new_version)
        raise ValueError("callback bug")

    flags.on_change(broken)
    flags.on_change(lambda e: calls.append("second"))
    with caplog.at_level(logging.ERROR, logger="hotfix"):
        flags.publish(V4)  # does not raise
    assert calls == [4, "second"]
    records = [r for r in caplog.records if r.name == "hotfix"]
    assert len(records) == 1
    assert "on_change callback" in records[0].getMessage()
    assert records[0].exc_info[0] is ValueError
    assert "callback bug" in caplog.text
    assert flags.enabled("dark")


def test_non_callable_is_rejected(flags):
    with pytest.raises(TypeError, match="callable"):
        flags.on_change(42)


def test_remove_listener_stops_calls(flags):
    calls = []
    listener_id = flags.on_change(calls.append)
    flags.remove_listener(listener_id)
    flags.remove_listener(listener_id)  # twice: no error
    flags.remove_listener(12345)  # unknown: no error
    flags.publish(V4)
    assert calls == []


def test_a_callback_may_remove_itself(flags):
    calls = []
    ids = {}

    def once(event):
        calls.append(event.new_version)
        flags.remove_listener(ids["once"])

    ids["once"] = flags.on_change(once)
    flags.publish(V4)
    flags.publish(FLAGS)
    assert calls == [4]


def test_a_callback_cannot_close_its_client_or_publish(flags, caplog):
    errors = []

    def misbehave(event):
        for call in (flags.close, lambda: flags.publish(FLAGS)):
            try:
                call()
            except hotfix.StateError as e:
                errors.append(str(e))

    flags.on_change(misbehave)
    flags.publish(V4)
    assert len(errors) == 2
    assert "on_change callback" in errors[0]
    assert "listener" in errors[1]
    assert not flags.closed
    assert flags.version == 4


def test_a_callback_may_close_another_client(flags):
    other = hotfix.Client.from_bootstrap(FLAGS)
    flags.on_change(lambda e: other.close())
    flags.publish(V4)
    assert other.closed


def test_dropping_the_last_reference_inside_a_callback_is_safe(tmp_path):
    # The watcher thread runs the callback that drops the only reference to
    # its own client: the client cannot be destroyed on that thread (it would
    # join itself), so it is parked, silenced, until interpreter exit.
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    holder = {"client": hotfix.Client.from_file(path, poll_interval=0.01)}
    calls = []
    dropped = threading.Event()

    def drop(event):
        calls.append(event.new_version)
        holder.pop("client", None)  # the last reference
        gc.collect()
        dropped.set()

    holder["client"].on_change(drop)
    tmp = tmp_path / "flags.json.tmp"
    tmp.write_text(json.dumps(V4))
    tmp.replace(path)
    assert dropped.wait(10)
    assert calls == [4]
    assert holder == {}
    # Later changes reach no callback and nothing breaks.
    tmp.write_text(json.dumps(FLAGS))
    tmp.replace(path)
    with hotfix.Client.from_bootstrap(FLAGS) as other:
        assert other.enabled("fix-123")
    assert calls == [4]


def test_file_watcher_callbacks_take_the_gil(tmp_path):
    # The watcher thread runs the callback while the main thread keeps
    # evaluating: both touch Python objects, so the GIL must be held.
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    shared = []
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        done = threading.Event()

        def on_change(event):
            shared.append({"ident": threading.get_ident(),
                           "keys": list(event.changed_keys)})
            done.set()

        client.on_change(on_change)
        tmp = tmp_path / "flags.json.tmp"
        tmp.write_text(json.dumps(V4))
        tmp.replace(path)
        while not done.wait(0.001):
            # Busy evaluating, holding and releasing the GIL all the time.
            for _ in range(100):
                client.enabled("dark", {"key": "u", "n": 1})
        assert shared[0]["ident"] != threading.get_ident()
        assert "dark" in shared[0]["keys"]
        assert client.enabled("dark")


def test_close_waits_for_a_running_callback(tmp_path):
    path = tmp_path / "flags.json"
    path.write_text(json.dumps(FLAGS))
    entered = threading.Event()
    finished = []

    client = hotfix.Client.from_file(path, poll_interval=0.01)

    def slow(event):
        entered.set()
        # Give close() every chance to run concurrently.
        for _ in range(50):
            threading.Event().wait(0.001)
        finished.append(event.new_version)

    client.on_change(slow)
    tmp = tmp_path / "flags.json.tmp"
    tmp.write_text(json.dumps(V4))
    tmp.replace(path)
    assert entered.wait(10)
    client.close()  # releases the GIL, joins the watcher after the callback
    assert finished == [4]


def test_callbacks_across_many_publishes_from_many_threads(flags):
    lock = threading.Lock()
    versions = []

    def record(event):
        with lock:
            versions.append(event.new_version)

    flags.on_change(record)

    def publisher(base):
        for i in range(20):
            flags.publish({"version": base + i, "flags": {
                "dark": {"variants": {"on": True, "off": False},
                         "off_variant": "off",
                         "default": "on" if i % 2 else "off"}}})

    threads = [threading.Thread(target=publisher, args=(100 * t,))
               for t in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wait_until(lambda: len(versions) >= 1)
    assert len(versions) <= 60
    assert all(isinstance(v, int) for v in versions)
