"""Clients following a flag file: reloads, bad edits, missing files, and
what status() reports."""

import json
import time

import hotfix
from conftest import FLAGS, wait_until


def write(path, document):
    """Replaces `path` atomically, as deploy tools should."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(document if isinstance(document, str)
                   else json.dumps(document))
    tmp.replace(path)


def fix_flags(version, on):
    return {"version": version, "flags": {"fix-123": {
        "variants": {"on": True, "off": False}, "off_variant": "off",
        "default": "on" if on else "off"}}}


def test_file_changes_reach_evaluations(tmp_path):
    path = tmp_path / "flags.json"
    write(path, fix_flags(1, False))
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        assert client.wait_until_ready(10)
        assert client.enabled("fix-123") is False
        handle = client.flag("fix-123")
        write(path, fix_flags(2, True))
        wait_until(lambda: client.enabled("fix-123"), "v2 to be served")
        assert handle.enabled() is True
        assert client.version == 2
        status = client.status()
        assert (status.state, status.origin, status.version) \
            == ("valid", "file", 2)
        assert status.last_error is None
        assert status.connection == "none"
        assert status.snapshot_time <= time.time() + 1
        assert status.last_success is not None
        assert status.age is not None and status.age >= 0


def test_a_bad_edit_keeps_the_last_good_flags(tmp_path):
    path = tmp_path / "flags.json"
    write(path, fix_flags(1, True))
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        write(path, '{"version": 2, "flags": {"fix-123": ')
        status = wait_until(
            lambda: (lambda s: s if s.last_error else None)(client.status()),
            "the bad edit to be reported")
        assert status.state == "stale"
        assert status.last_error_code == "INVALID_ARGUMENT"
        assert status.last_error_time is not None
        assert status.version == 1
        assert client.enabled("fix-123") is True
        # Fixing the file recovers.
        write(path, fix_flags(3, False))
        wait_until(lambda: client.status().state == "valid",
                   "the fixed file to be loaded")
        assert client.enabled("fix-123") is False


def test_a_missing_file_is_reported_not_raised(tmp_path):
    path = tmp_path / "does-not-exist.json"
    with hotfix.Client.from_file(path, poll_interval=0.01) as client:
        assert client.enabled("fix-123") is False
        status = client.status()
        assert status.state == "error"
        assert "does-not-exist" in status.last_error
        assert client.wait_until_ready(0.01) is False
        # The file appears later: picked up.
        write(path, fix_flags(1, True))
        wait_until(lambda: client.enabled("fix-123"),
                   "the new file to be loaded")
        assert client.wait_until_ready(10)


def test_bootstrap_serves_until_the_file_loads(tmp_path):
    path = tmp_path / "flags.json"
    with hotfix.Client(file=path, poll_interval=0.01,
                       bootstrap=FLAGS) as client:
        assert client.enabled("fix-123") is True
        assert client.status().origin == "bootstrap"
        write(path, fix_flags(7, False))
        wait_until(lambda: client.version == 7, "v7 to be loaded")
        assert client.enabled("fix-123") is False
        assert client.status().origin == "file"


def test_zero_poll_interval_loads_once(tmp_path):
    path = tmp_path / "flags.json"
    write(path, fix_flags(1, True))
    with hotfix.Client.from_file(path, poll_interval=0) as client:
        assert client.enabled("fix-123")
        write(path, fix_flags(2, False))
        # A client that watches the file sees the edit; this one does not.
        with hotfix.Client.from_file(path, poll_interval=0.01) as witness:
            wait_until(lambda: witness.version == 2, "the witness to see v2")
        assert client.version == 1


def test_oversize_file_is_rejected(tmp_path):
    path = tmp_path / "flags.json"
    write(path, FLAGS)
    with hotfix.Client.from_file(path, max_file_bytes=16) as client:
        assert client.enabled("fix-123") is False
        assert client.status().last_error is not None
