"""Against a real hotfixd: a Python client streams flags from the server, and
a kill through the admin API reaches enabled() and on_change, with the
last-known-good cache written. Needs the hotfixd binary: ctest passes its path
in HOTFIX_HOTFIXD (empty when this build has no hotfixd target)."""

import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

import hotfix
from conftest import join, wait_event, wait_until
from test_fork import exit_code, run_child

HOTFIXD = os.environ.get("HOTFIX_HOTFIXD", "")
ADMIN_TOKEN = "adm-python-test-token-0123456789"
SDK_KEY = "sdk-python-test-key-0123456789"

pytestmark = pytest.mark.skipif(
    not HOTFIXD or not os.access(HOTFIXD, os.X_OK),
    reason="hotfixd is not built in this build tree (HOTFIX_HOTFIXD=%r); "
           "configure with HOTFIX_BUILD_TOOLS=ON and build hotfixd" % HOTFIXD)


class Server:
    """A hotfixd on a free loopback port with a fresh data directory."""

    def __init__(self, tmp_path):
        port_file = tmp_path / "port"
        env = dict(os.environ, HOTFIX_ADMIN_TOKEN=ADMIN_TOKEN,
                   HOTFIX_SDK_KEY=SDK_KEY)
        self._log_path = tmp_path / "hotfixd.log"
        self._log = open(self._log_path, "w")
        self._proc = subprocess.Popen(
            [HOTFIXD, "--data-dir", str(tmp_path / "data"),
             "--host", "127.0.0.1", "--port", "0",
             "--port-file", str(port_file)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.stop()
                pytest.fail("hotfixd did not start within 30 s: "
                            + self._log_path.read_text())
            time.sleep(0.01)
        self.url = "http://127.0.0.1:%s" % port_file.read_text().strip()

    def stop(self):
        if self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._log.close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path)
    try:
        yield s
    finally:
        s.stop()


def admin(base_url, method, path, body):
    request = urllib.request.Request(
        base_url + path, method=method, data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + ADMIN_TOKEN,
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def test_streaming_client_follows_a_kill_switch(server, tmp_path):
    cache = tmp_path / "cache.json"
    with hotfix.Client.from_url(server.url, SDK_KEY,
                                cache_path=cache) as client:
        assert client.wait_until_ready(30)
        # The server's default flag set (docs/examples/checkout-demo.json).
        assert client.enabled("kill-recommendations") is True
        assert client.enabled("fix-double-charge",
                              {"key": "u1", "region": "eu"}) is True
        wait_until(lambda: client.status().connection == "streaming",
                   "the stream to connect", timeout=30)
        status = client.status()
        assert (status.origin, status.state) == ("stream", "valid")

        changes = []
        changed = threading.Event()

        def on_change(event):
            changes.append((event, threading.get_ident()))
            changed.set()

        client.on_change(on_change)
        admin(server.url, "POST",
              "/v1/admin/envs/production/flags/kill-recommendations/kill",
              {"reason": "python binding test"})
        wait_event(changed, "the kill to reach on_change", timeout=30)
        event, thread = changes[0]
        assert "kill-recommendations" in event.changed_keys
        assert event.origin == "stream"
        assert thread != threading.get_ident()  # the stream's thread
        assert client.enabled("kill-recommendations") is False
        detail = client.evaluate("kill-recommendations")
        assert (detail.reason, detail.version) == ("KILLED", event.new_version)
    assert cache.exists()  # every accepted flag set is cached


def test_the_cache_serves_when_the_server_is_down(server, tmp_path):
    cache = tmp_path / "cache.json"
    with hotfix.Client.from_url(server.url, SDK_KEY,
                                cache_path=cache) as client:
        assert client.wait_until_ready(30)
        admin(server.url, "POST",
              "/v1/admin/envs/production/flags/kill-recommendations/kill",
              {"reason": "python binding test"})
        wait_until(lambda: not client.enabled("kill-recommendations"),
                   "the kill to reach the client", timeout=30)
        version = client.version
    server.stop()
    with hotfix.Client.from_url(server.url, SDK_KEY, cache_path=cache,
                                connect_timeout=1) as client:
        # Served from the cache before (and without) any server answer.
        assert client.status().origin == "cache"
        assert client.version == version
        assert client.enabled("kill-recommendations") is False
        assert client.enabled("fix-double-charge",
                              {"key": "u1", "region": "eu"}) is True


def test_a_wrong_sdk_key_is_reported_not_raised(server, caplog):
    wrong_key = "sdk-wrong-key-0123456789"
    with caplog.at_level(logging.DEBUG, logger="hotfix"):
        with hotfix.Client.from_url(server.url, wrong_key,
                                    mode="polling") as client:
            assert client.wait_until_ready(0.2) is False
            wait_until(lambda: client.status().config_error,
                       "the refused key to be reported", timeout=30)
            status = client.status()
            assert status.last_error is not None
            assert client.enabled("kill-recommendations") is False
            # The key the client sent is never repeated: not in the
            # status, not in the log.
            assert "401" in status.last_error or "403" in status.last_error
            assert wrong_key not in status.last_error
            wait_until(lambda: caplog.records, "the refusal to be logged",
                       timeout=30)
    assert wrong_key not in caplog.text


def test_fork_while_a_thread_waits_until_ready_for_the_server(server):
    # A pre-fork server: a readiness thread waits for the first flags from
    # hotfixd when the workers are forked. Every worker gets the flags.
    with hotfix.Client.from_url(server.url, SDK_KEY,
                                mode="polling") as client:
        def wait():
            client.wait_until_ready(60)

        waiting = threading.Thread(target=wait, daemon=True)
        waiting.start()
        children = [run_child(lambda: client.wait_until_ready(30)
                              and client.enabled("kill-recommendations"))
                    for _ in range(5)]
        for n, pid in enumerate(children):
            assert exit_code(pid, "child %d" % n) == 0, "child %d" % n
        assert client.wait_until_ready(30)
        join(waiting, "the parent's waiting thread")
