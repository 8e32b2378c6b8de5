"""on_change callbacks: delivery, threads and the GIL, exceptions, removal,
and what a callback may not do."""

import gc
import json
import logging
import sys
import threading

import pytest

import hotfix
from conftest import (FLAGS, assert_clean_exit, join, run_python,
                      thread_ids, threads_since, wait_event, wait_until,
                      write_flags)

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
    join(worker, "the publishing thread")
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


def test_a_callback_may_close_its_client_but_not_publish_to_it(flags):
    errors = []

    def misbehave(event):
        try:
            flags.publish(FLAGS)
        except hotfix.StateError as e:
            errors.append(str(e))
        flags.close()
        errors.append(("closed inside", flags.closed, flags.enabled("dark")))

    flags.on_change(misbehave)
    flags.publish(V4)
    assert len(errors) == 2
    assert "listener" in errors[0]
    assert errors[1] == ("closed inside", True, False)
    assert flags.closed
    assert flags.enabled("dark") is False


def test_a_callback_may_close_another_client(flags):
    other = hotfix.Client.from_bootstrap(FLAGS)
    flags.on_change(lambda e: other.close())
    flags.publish(V4)
    assert other.closed


def test_two_clients_callbacks_may_close_each_other():
    # A's callback closes B while B's callback closes A, each on its own
    # watcher thread: neither close() may wait for the other's thread.
    result = run_python("""
import tempfile
d = pathlib.Path(tempfile.mkdtemp())
write_flags(d / "a.json", 1); write_flags(d / "b.json", 1)
a = hotfix.Client.from_file(d / "a.json", poll_interval=0.01)
b = hotfix.Client.from_file(d / "b.json", poll_interval=0.01)
both_inside = threading.Barrier(3, timeout=20)
done = threading.Barrier(3, timeout=20)
def close_other(other):
    def callback(event):
        both_inside.wait()
        other.close()
        done.wait()
    return callback
a.on_change(close_other(b))
b.on_change(close_other(a))
write_flags(d / "a.json", 2); write_flags(d / "b.json", 2)
both_inside.wait()
done.wait()
print(a.closed, b.closed)
""", "two callbacks closing each other's client", timeout=60)
    out = assert_clean_exit(result, "cross-client close")
    assert out.split() == ["True", "True"]


def test_dropping_the_last_reference_inside_a_callback_frees_the_client(
        tmp_path):
    # The watcher thread runs the callback that drops the only reference to
    # its own client: the client cannot be destroyed on that thread (it would
    # join itself), so it is stopped right after the callback returns.
    path = tmp_path / "flags.json"
    write_flags(path, 1)
    before = thread_ids()
    holder = {"client": hotfix.Client.from_file(path, poll_interval=0.01)}
    calls = []
    dropped = threading.Event()

    def drop(event):
        calls.append(event.new_version)
        holder.pop("client", None)  # the last reference
        gc.collect()
        dropped.set()

    holder["client"].on_change(drop)
    assert len(threads_since(before)) == 1
    write_flags(path, 2)
    wait_event(dropped, "the callback dropping its client")
    assert calls == [2]
    assert holder == {}
    wait_until(lambda: not threads_since(before),
               "the dropped client's watcher thread to end")
    # A later change reaches no callback: a second client following the same
    # file sees it, the dropped one's callback never runs again.
    with hotfix.Client.from_file(path, poll_interval=0.01) as witness:
        write_flags(path, 3)
        wait_until(lambda: witness.version == 3, "the witness to see v3")
    assert calls == [2]


def test_clients_rebuilt_inside_their_callbacks_do_not_pile_up(tmp_path):
    # A callback that replaces the global client drops the old one inside
    # its own callback, 20 times: the old clients' threads must go.
    path = tmp_path / "flags.json"
    write_flags(path, 1)
    before = thread_ids()
    state = {"client": None, "rebuilds": 0}

    def make():
        client = hotfix.Client.from_file(path, poll_interval=0.01)
        client.on_change(rebuild)
        return client

    def rebuild(event):
        state["client"] = make()
        state["rebuilds"] += 1

    state["client"] = make()
    for version in range(2, 22):
        done = state["rebuilds"]
        write_flags(path, version, on=bool(version % 2))
        wait_until(lambda: state["rebuilds"] > done,
                   "rebuild %d" % (version - 1))
    wait_until(lambda: len(threads_since(before)) == 1,
               "only the current client's watcher to be left")
    state.pop("client").close()
    assert not threads_since(before)


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
        deadline = threading.Event()
        timer = threading.Timer(10, deadline.set)
        timer.start()
        try:
            while not done.wait(0.001):
                assert not deadline.is_set(), "no callback within 10 s"
                # Busy evaluating, holding and releasing the GIL all the time.
                for _ in range(100):
                    client.enabled("dark", {"key": "u", "n": 1})
        finally:
            timer.cancel()
            join(timer, "the deadline timer")  # threads are counted below
        assert shared[0]["ident"] != threading.get_ident()
        assert "dark" in shared[0]["keys"]
        assert client.enabled("dark")


def test_close_does_not_wait_for_a_running_callback(tmp_path):
    # close() while the watcher runs a callback: the callback is not waited
    # for (it may be waiting for the closing thread), later ones never start,
    # and the watcher is stopped once the callback returns.
    path = tmp_path / "flags.json"
    write_flags(path, 1)
    before = thread_ids()
    client = hotfix.Client.from_file(path, poll_interval=0.01)
    entered = threading.Event()
    release = threading.Event()
    seen = []

    def slow(event):
        entered.set()
        wait_event(release, "the test to let the callback go")
        seen.append((event.new_version, client.closed))

    client.on_change(slow)
    client.on_change(lambda e: seen.append("second callback"))
    write_flags(path, 2)
    wait_event(entered, "the callback to start")
    client.close()  # returns although the callback is still running
    assert client.closed
    assert seen == []
    release.set()
    wait_until(lambda: not threads_since(before),
               "the watcher to stop after the callback returned")
    assert seen == [(2, True)]


def test_close_while_holding_a_lock_the_running_callback_needs(tmp_path):
    result = run_python("""
import tempfile
path = pathlib.Path(tempfile.mkdtemp()) / "flags.json"
write_flags(path, 1)
lock = threading.Lock()
entered = threading.Event()
got_lock = threading.Event()
c = hotfix.Client.from_file(path, poll_interval=0.01)
def callback(event):
    entered.set()
    with lock:
        got_lock.set()
c.on_change(callback)
with lock:
    write_flags(path, 2)
    assert entered.wait(20)
    c.close()
print("closed", got_lock.wait(20))
""", "close() while holding a lock the callback needs")
    out = assert_clean_exit(result, "close with lock")
    assert out.split() == ["closed", "True"]


def test_remove_listener_while_holding_a_lock_the_running_callback_needs():
    result = run_python("""
import tempfile
path = pathlib.Path(tempfile.mkdtemp()) / "flags.json"
write_flags(path, 1)
lock = threading.Lock()
entered = threading.Event()
calls = []
c = hotfix.Client.from_file(path, poll_interval=0.01)
def callback(event):
    calls.append(event.new_version)
    entered.set()
    with lock:
        pass
listener = c.on_change(callback)
with lock:
    write_flags(path, 2)
    assert entered.wait(20)
    c.remove_listener(listener)
with hotfix.Client.from_file(path, poll_interval=0.01) as witness:
    write_flags(path, 3)
    deadline = time.monotonic() + 20
    while witness.version != 3 and time.monotonic() < deadline:
        time.sleep(0.01)
c.close()
print(calls)
""", "remove_listener() while holding a lock the callback needs")
    out = assert_clean_exit(result, "remove_listener with lock")
    assert out.strip() == "[2]"


def test_keyboard_interrupt_in_a_callback_propagates_from_publish(flags):
    calls = []

    def interrupted(event):
        calls.append("first")
        if len(calls) == 1:
            raise KeyboardInterrupt

    flags.on_change(interrupted)
    flags.on_change(lambda e: calls.append("second"))
    with pytest.raises(KeyboardInterrupt):
        flags.publish(V4)
    # The flags were published; the delivery stopped at the interrupt.
    assert flags.version == 4
    assert calls == ["first"]
    flags.publish(FLAGS)  # and the client goes on
    assert calls == ["first", "first", "second"]


def test_system_exit_in_a_callback_propagates_from_publish(flags):
    flags.on_change(lambda e: sys.exit(3))
    with pytest.raises(SystemExit) as info:
        flags.publish(V4)
    assert info.value.code == 3
    assert flags.version == 4


def test_ctrl_c_during_a_callback_run_by_publish_stops_the_program():
    result = run_python("""
entered = threading.Event()
c = hotfix.Client.from_bootstrap(FLAGS)
def slow(event):
    entered.set()
    threading.Event().wait(30)  # interruptible on the main thread
c.on_change(slow)
def interrupt():
    if entered.wait(20):
        os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
try:
    c.publish({"version": 4, "flags": {}})
    print("publish returned")
except KeyboardInterrupt:
    print("KeyboardInterrupt")
c.close()
""", "Ctrl-C during a callback", timeout=60)
    out = assert_clean_exit(result, "Ctrl-C during a callback")
    assert out.strip() == "KeyboardInterrupt"


def test_ctrl_c_interrupts_wait_until_ready():
    # The client never gets flags and the timeout is an hour: only the
    # interrupt can end the wait before the subprocess deadline.
    result = run_python("""
c = hotfix.Client()
main = threading.main_thread().ident
def interrupt():
    # Once the main thread is inside wait_until_ready().
    while "wait_until_ready" not in (
            sys._current_frames()[main].f_code.co_names):
        time.sleep(0.01)
    time.sleep(0.1)
    os.kill(os.getpid(), signal.SIGINT)
threading.Thread(target=interrupt, daemon=True).start()
try:
    print("returned", c.wait_until_ready(3600))
except KeyboardInterrupt:
    print("KeyboardInterrupt")
c.close()
""", "Ctrl-C during wait_until_ready()", timeout=60)
    out = assert_clean_exit(result, "Ctrl-C in a wait")
    assert out.strip() == "KeyboardInterrupt"


def test_callback_exceptions_on_source_threads_are_logged(tmp_path, caplog):
    # On the watcher thread there is no caller to raise to: every exception,
    # KeyboardInterrupt and SystemExit included, is logged, and the next
    # callback runs.
    path = tmp_path / "flags.json"
    write_flags(path, 1)
    ran = threading.Event()

    def raise_(exception):
        def callback(event):
            raise exception
        return callback

    with caplog.at_level(logging.ERROR, logger="hotfix"):
        with hotfix.Client.from_file(path, poll_interval=0.01) as client:
            for exception in (KeyError("boom"), SystemExit(3),
                              KeyboardInterrupt()):
                client.on_change(raise_(exception))
            client.on_change(lambda e: ran.set())
            write_flags(path, 2)
            wait_event(ran, "the last callback")
    raised = [r.exc_info[0] for r in caplog.records if r.name == "hotfix"]
    assert raised == [KeyError, SystemExit, KeyboardInterrupt]


def test_callbacks_across_many_publishes_from_many_threads(flags):
    # Every publication below changes a flag, so each calls the callback once;
    # calls never overlap and come in publication order, so each event
    # starts from the version the previous one ended with.
    lock = threading.Lock()
    events = []
    inside = []
    overlaps = []

    def record(event):
        if inside:
            overlaps.append(event.new_version)
        inside.append(1)
        with lock:
            events.append((event.old_version, event.new_version))
        threading.Event().wait(0.0001)  # let other threads run
        inside.pop()

    flags.on_change(record)

    def publisher(base):
        for i in range(20):
            flags.publish({"version": base + i, "flags": {
                "dark": {"variants": {"n": base + i}, "default": "n"}}})

    threads = [threading.Thread(target=publisher, args=(100 * t,))
               for t in range(1, 4)]
    for t in threads:
        t.start()
    for t in threads:
        join(t, "a publishing thread")
    assert overlaps == []
    published = {100 * t + i for t in range(1, 4) for i in range(20)}
    assert len(events) == 60
    assert {new for _, new in events} == published
    assert events[0][0] == 3  # the fixture's version
    for previous, current in zip(events, events[1:]):
        assert current[0] == previous[1], (previous, current)
    assert flags.version == events[-1][1]
