"""Shared fixtures for the hotfix Python tests (run by ctest with
PYTHONPATH=<build>/python; see bindings/python/CMakeLists.txt)."""

import json
import os
import subprocess
import sys
import time

import pytest

import hotfix

FLAGS = {
    "version": 3,
    "flags": {
        "fix-123": {"variants": {"on": True, "off": False},
                    "off_variant": "off", "default": "on"},
        "dark": {"variants": {"on": True, "off": False},
                 "off_variant": "off", "default": "off"},
        "killed": {"variants": {"on": True, "off": False},
                   "off_variant": "off", "default": "on", "killed": True},
        "killed-no-off": {"variants": {"on": True}, "default": "on",
                          "killed": True},
        "eu-only": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "off",
            "rules": [{"if": [{"attribute": "region", "op": "in",
                               "values": ["eu", "uk"]}],
                       "serve": "on"}],
        },
        "adults-beta": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "off",
            "rules": [
                {"if": [{"attribute": "region", "op": "eq", "value": "us"}],
                 "serve": "off"},
                {"if": [{"attribute": "age", "op": "gte", "value": 18},
                        {"attribute": "beta", "op": "eq", "value": True}],
                 "serve": "on"},
            ],
        },
        "half": {
            "variants": {"on": True, "off": False},
            "off_variant": "off",
            "default": {"rollout": {"split": [
                {"variant": "on", "weight": 50},
                {"variant": "off", "weight": 50}]}},
        },
        "banner": {"variants": {"en": "hello", "fr": "bonjour"},
                   "default": "en",
                   "targets": [{"variant": "fr", "keys": ["user-fr"]}]},
        "limit": {"variants": {"low": 10, "high": 1000.75, "huge": 1e30},
                  "default": "high",
                  "targets": [{"variant": "huge", "keys": ["user-huge"]}]},
        "config": {"variants": {"v1": {"retries": 3, "hosts": ["a", "b"]}},
                   "default": "v1"},
        "needs-fix": {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "on",
            "prerequisites": [{"flag": "dark", "variant": "on"}],
        },
    },
}


@pytest.fixture
def flags():
    with hotfix.Client.from_bootstrap(FLAGS) as client:
        yield client


def wait_until(predicate, what, timeout=10.0):
    """Polls `predicate` until it returns a true value, which it returns; fails
    the test, saying it was waiting for `what`, if `timeout` seconds pass
    first (a liveness deadline, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("timed out after %gs waiting for %s" % (timeout, what))
        time.sleep(0.01)


def wait_event(event, what, timeout=10.0):
    """Waits for a threading.Event with a deadline and a message."""
    if not event.wait(timeout):
        pytest.fail("timed out after %gs waiting for %s" % (timeout, what))


def join(thread, what, timeout=30.0):
    """Joins a thread with a deadline and a message."""
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail("timed out after %gs waiting for %s" % (timeout, what))


def _threads():
    """{(tid, start time): name} of this process's threads, the core's C++
    threads included (the threading module sees only Python's). The start
    time (clock ticks since boot) tells a thread from a later one that got
    the same id: ids are reused, and pid_max may be as low as 32768."""
    threads = {}
    for task in os.listdir("/proc/self/task"):
        try:
            with open("/proc/self/task/%s/stat" % task) as f:
                stat = f.read()
            with open("/proc/self/task/%s/comm" % task) as f:
                name = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
        # Field 22 is the start time; the name in field 2 may hold spaces.
        start = stat[stat.rindex(")") + 2:].split()[19]
        threads[(task, start)] = name
    return threads


def thread_ids():
    """The threads of this process now: compare a later threads_since() with
    it. Taken once no client is being stopped in the background (a
    "hotfix-close" thread, which ends when its client is stopped: see
    close())."""
    return set(_settled_threads())


def threads_since(before):
    """The threads started after `before` (a thread_ids()) and still running,
    once no client is being stopped in the background. Threads that were
    running at `before` and ended since do not count: a test that compared
    thread counts failed when one of them (a teardown thread of an earlier
    test, not yet named "hotfix-close" when the count was taken) ended."""
    return set(_settled_threads()) - before


def _settled_threads():
    return wait_until(
        lambda: (lambda t: t if "hotfix-close" not in t.values() else None)(
            _threads()),
        "background closes to finish")


def write_flags(path, version, on=True):
    """Replaces the flag file `path` atomically with a document of version
    `version` serving fix-123 = `on`, and "rev" = `version`, so that every
    version changes a flag (and calls the on_change callbacks)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": version, "flags": {
        "fix-123": {"variants": {"on": True, "off": False},
                    "off_variant": "off", "default": "on" if on else "off"},
        "rev": {"variants": {"v": version}, "default": "v"}}}))
    tmp.replace(path)


# Imported by the scripts run_python() starts. The core's warnings (a server
# that cannot be reached, ...) are expected there; errors go to stderr.
PRELUDE = """
import json, logging, os, pathlib, signal, sys, threading, time
import hotfix
from conftest import FLAGS, write_flags
_errors = logging.StreamHandler(sys.stderr)
_errors.setLevel(logging.ERROR)
logging.getLogger("hotfix").addHandler(_errors)
logging.getLogger("hotfix").propagate = False
# Ctrl-C as in a terminal: a process started in the background by a
# non-interactive shell (`cmd &`, as CI runners and nohup do) inherits SIGINT
# ignored, and Python then installs no handler, so SIGINT would never raise
# KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
"""


def run_python(code, what, timeout=60.0, env=None):
    """Runs `code` (after PRELUDE) in a fresh interpreter (this one: the build
    tree's module or the installed package, whichever the tests use), so that
    a crash or a hang fails one test instead of the run. Returns
    (returncode, stdout, stderr); fails the test if it takes longer than
    `timeout` seconds."""
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    environment["PYTHONPATH"] = os.pathsep.join(
        p for p in (tests_dir, os.environ.get("PYTHONPATH")) if p)
    environment.update(env or {})
    with subprocess.Popen([sys.executable, "-c", PRELUDE + code],
                          env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            pytest.fail("%s: no exit after %gs\nstdout:\n%s\nstderr:\n%s"
                        % (what, timeout, out, err))
    return process.returncode, out, err


def assert_clean_exit(result, what):
    """The script exited with status 0 and wrote nothing to stderr."""
    returncode, out, err = result
    assert (returncode, err) == (0, ""), (
        "%s: exit status %s\nstdout:\n%s\nstderr:\n%s"
        % (what, returncode, out, err))
    return out
