"""fork(): a child process keeps following its flag file, because the
package restarts every live client's source threads in the child
(os.register_at_fork), with no call from the application."""

import json
import os

import hotfix
from conftest import wait_until


def write(path, version, on):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": version, "flags": {"fix-123": {
        "variants": {"on": True, "off": False}, "off_variant": "off",
        "default": "on" if on else "off"}}}))
    tmp.replace(path)


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


def exit_code(pid):
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), status
    return os.WEXITSTATUS(status)


def test_child_follows_file_changes_after_fork(tmp_path):
    path = tmp_path / "flags.json"
    write(path, 1, False)
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        handle = client.flag("fix-123")
        assert client.enabled("fix-123") is False
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()

        def child():
            os.close(ready_r)
            os.close(go_w)
            os.write(ready_w, b"r")  # forked; the watcher was restarted
            os.read(go_r, 1)  # the parent rewrote the file
            return (wait_until(lambda: client.enabled("fix-123"))
                    and handle.enabled() and client.version == 2
                    and client.status().origin == "file")

        pid = run_child(child)
        os.close(ready_w)
        os.close(go_r)
        assert os.read(ready_r, 1) == b"r"
        write(path, 2, True)
        os.write(go_w, b"g")
        assert exit_code(pid) == 0
        os.close(ready_r)
        os.close(go_w)
        # The parent follows the file too.
        assert wait_until(lambda: client.enabled("fix-123"))


def test_child_callbacks_run_after_fork(tmp_path):
    path = tmp_path / "flags.json"
    write(path, 1, False)
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        def child():
            seen = []
            client.on_change(lambda e: seen.append(e.new_version))
            write(path, 5, True)
            return wait_until(lambda: seen == [5])

        assert exit_code(run_child(child)) == 0


def test_closed_clients_and_bootstrap_clients_survive_fork(tmp_path):
    closed = hotfix.Client.from_bootstrap({"version": 1, "flags": {}})
    closed.close()
    with hotfix.Client.from_bootstrap({"version": 1, "flags": {"a": {
            "variants": {"on": True}, "default": "on"}}}) as client:
        def child():
            return client.enabled("a") and closed.enabled("a") is False

        assert exit_code(run_child(child)) == 0
