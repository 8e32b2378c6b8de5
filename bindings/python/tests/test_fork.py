"""fork(): a child process keeps following its flag file, because the
package restarts every live client's source threads in the child
(os.register_at_fork), with no call from the application; and whatever other
threads are doing in a client at the moment of the fork, the child works."""

import json
import os
import select
import signal
import threading
import time

import pytest

import hotfix
from conftest import join, wait_until, write_flags

CHILD_DEADLINE = 30.0  # seconds a child may take before it is killed


def run_child(body):
    """Forks; the child runs body() and exits 0 if it returns True, 1 if
    False, 2 on an exception. Returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 2
        try:
            code = 0 if body() else 1
        finally:
            os._exit(code)
    return pid


def exit_code(pid, what="the child"):
    """The child's exit status; kills it and fails the test if it has not
    exited within CHILD_DEADLINE seconds, or was killed by a signal."""
    deadline = time.monotonic() + CHILD_DEADLINE
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("%s did not exit within %gs" % (what, CHILD_DEADLINE))
        time.sleep(0.01)
    assert os.WIFEXITED(status), "%s was killed by signal %d" % (
        what, os.WTERMSIG(status))
    return os.WEXITSTATUS(status)


def read_byte(fd, what, timeout=CHILD_DEADLINE):
    """One byte from the pipe `fd`, or b"" at EOF; fails after `timeout`."""
    ready, _, _ = select.select([fd], [], [], timeout)
    if not ready:
        raise TimeoutError("timed out after %gs waiting for %s"
                           % (timeout, what))
    return os.read(fd, 1)


def child_wait_until(predicate, timeout=10.0):
    """wait_until() for children, which report through their exit status."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_child_follows_file_changes_after_fork(tmp_path):
    path = tmp_path / "flags.json"
    write_flags(path, 1, on=False)
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        handle = client.flag("fix-123")
        assert client.enabled("fix-123") is False
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()

        def child():
            os.close(ready_r)
            os.close(go_w)
            os.write(ready_w, b"r")  # forked; the watcher was restarted
            if read_byte(go_r, "the parent's go") != b"g":
                return False  # the parent rewrote the file
            # (The handle is updated just after the client: wait for both.)
            return (child_wait_until(lambda: client.enabled("fix-123")
                                     and handle.enabled()
                                     and client.version == 2)
                    and client.status().origin == "file")

        pid = run_child(child)
        os.close(ready_w)
        os.close(go_r)
        try:
            assert read_byte(ready_r, "the child to start") == b"r"
            write_flags(path, 2, on=True)
            os.write(go_w, b"g")
        finally:
            os.close(go_w)
            os.close(ready_r)
        assert exit_code(pid) == 0
        # The parent follows the file too.
        wait_until(lambda: client.enabled("fix-123"), "the parent to see v2")


def test_child_callbacks_run_after_fork(tmp_path):
    path = tmp_path / "flags.json"
    write_flags(path, 1, on=False)
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        def child():
            seen = []
            client.on_change(lambda e: seen.append(e.new_version))
            write_flags(path, 5, on=True)
            return child_wait_until(lambda: seen == [5])

        assert exit_code(run_child(child)) == 0


def test_closed_clients_and_bootstrap_clients_survive_fork(tmp_path):
    closed = hotfix.Client.from_bootstrap({"version": 1, "flags": {}})
    closed.close()
    with hotfix.Client.from_bootstrap({"version": 1, "flags": {"a": {
            "variants": {"on": True}, "default": "on"}}}) as client:
        def child():
            return client.enabled("a") and closed.enabled("a") is False

        assert exit_code(run_child(child)) == 0


def test_fork_while_a_thread_waits_until_ready(tmp_path):
    # A readiness thread is blocked in wait_until_ready() when the process
    # forks (a pre-fork server starting its workers): every child must get
    # its flags, and its own wait_until_ready() must see them.
    path = tmp_path / "flags.json"  # not there yet
    with hotfix.Client.from_file(path, poll_interval=0.05) as client:
        def wait():
            client.wait_until_ready(60)

        waiting = threading.Thread(target=wait, daemon=True)
        waiting.start()
        wait_until(lambda: "wait_until_ready" in
                   sys_frame_names(waiting.ident),
                   "the thread to wait in wait_until_ready()")
        children = []
        for i in range(4):
            def child(first=(i == 0)):
                if first:  # the first child creates the file for everyone
                    write_flags(path, 1)
                return (client.wait_until_ready(20)
                        and client.enabled("fix-123")
                        and client.status().state == "valid")
            children.append(run_child(child))
        for n, pid in enumerate(children):
            assert exit_code(pid, "child %d" % n) == 0, "child %d" % n
        assert client.wait_until_ready(20)
        join(waiting, "the parent's waiting thread")


def test_fork_from_inside_a_callback(tmp_path):
    # The forking thread is delivering a change: the child inherits a
    # delivery in progress on its only thread, and must still get later ones.
    path = tmp_path / "flags.json"
    write_flags(path, 1)
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        result = {}
        forked = threading.Event()

        def fork_here(event):
            if event.new_version != 2:
                return

            def child():
                seen = []
                client.on_change(lambda e: seen.append(e.new_version))
                write_flags(path, 3)
                return child_wait_until(lambda: 3 in seen)

            result["pid"] = run_child(child)
            forked.set()

        client.on_change(fork_here)
        client.publish(json.dumps({"version": 2, "flags": {}}))
        assert forked.is_set()
        assert exit_code(result["pid"]) == 0
        wait_until(lambda: client.version == 3, "the parent to see v3")


def sys_frame_names(ident):
    """The names the innermost Python frame of thread `ident` uses."""
    import sys
    frame = sys._current_frames().get(ident)
    return frame.f_code.co_names if frame is not None else ()
