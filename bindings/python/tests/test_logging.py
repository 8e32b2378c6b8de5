"""The core's log messages reach Python's logging, on the "hotfix" logger,
once (not also on stderr) and without a doubled prefix, from the core's own
threads, in forked children, and (to stderr) while the interpreter exits."""

import logging
import os
import time

import hotfix
from conftest import assert_clean_exit, run_python, wait_until
from test_fork import exit_code


class Records(logging.Handler):
    """Collects the "hotfix" logger's records (from any thread)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def messages(self):
        return [r.getMessage() for r in self.records]


def with_records(body):
    logger = logging.getLogger("hotfix")
    handler = Records()
    logger.addHandler(handler)
    try:
        body(handler)
    finally:
        logger.removeHandler(handler)


def test_core_warnings_reach_the_hotfix_logger(tmp_path, capfd):
    path = tmp_path / "missing.json"

    def body(handler):
        with hotfix.Client.from_file(path, poll_interval=0.01):
            record = wait_until(
                lambda: next((r for r in handler.records
                              if "flag file rejected" in r.getMessage()),
                             None),
                "the core's warning about the missing file")
        assert record.name == "hotfix"
        assert record.levelno == logging.WARNING
        message = record.getMessage()
        assert str(path) in message
        # No prefix of our own: the logger's name says where it comes from.
        assert not message.lower().startswith("hotfix")

    with_records(body)
    # Logged once, through logging only: nothing from the core on stderr.
    assert "flag file rejected" not in capfd.readouterr().err


def test_callback_errors_are_logged_without_a_prefix(flags):
    def body(handler):
        def broken(event):
            raise ValueError("callback bug")

        flags.on_change(broken)
        flags.publish({"version": 4, "flags": {}})
        [record] = [r for r in handler.records if r.levelno >= logging.ERROR]
        assert record.getMessage().startswith("on_change callback")
        assert record.exc_info[0] is ValueError

    with_records(body)


def test_core_messages_in_a_forked_child_reach_its_logger(tmp_path):
    def body(handler):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                with hotfix.Client.from_file(tmp_path / "missing.json",
                                             poll_interval=0.01):
                    for _ in range(1000):
                        if any("flag file rejected" in m
                               for m in handler.messages()):
                            code = 0
                            break
                        time.sleep(0.01)
            finally:
                os._exit(code)
        assert exit_code(pid) == 0

    with_records(body)


def test_messages_logged_while_the_interpreter_exits_go_to_stderr():
    # A client whose server cannot be reached keeps logging from its thread;
    # after the exit hook the core writes to stderr, formatted by the core,
    # and nothing crashes.
    returncode, out, err = run_python("""
logging.getLogger("hotfix").handlers.clear()
logging.getLogger("hotfix").propagate = True
logging.basicConfig(level=logging.WARNING,
                    format="LOGGED %(name)s %(levelname)s: %(message)s")
c = hotfix.Client(url="http://127.0.0.1:9", sdk_key="sdk-key-0123456789",
                  mode="polling", remote_poll_interval=0.01)
deadline = time.monotonic() + 20
while c.status().last_error is None and time.monotonic() < deadline:
    time.sleep(0.01)
print("main returns", c.status().last_error is not None)
""", "exit while a client logs")
    assert (returncode, out.strip()) == (0, "main returns True"), err
    lines = [line for line in err.splitlines() if line]
    assert lines, "the warning was not logged at all"
    for line in lines:
        assert line.startswith(("LOGGED hotfix WARNING: ",
                                "hotfix warning: ")), line
    assert lines[0].startswith("LOGGED hotfix WARNING: flag poll failed")


def test_logging_from_many_threads_keeps_every_message():
    # 50 clients with missing files, each warning once from its own thread.
    result = run_python("""
import tempfile
d = pathlib.Path(tempfile.mkdtemp())
seen = []
class Collect(logging.Handler):
    def emit(self, record):
        seen.append(record.getMessage())
logging.getLogger("hotfix").addHandler(Collect())
clients = [hotfix.Client.from_file(d / ("missing-%d.json" % i),
                                   poll_interval=0.01) for i in range(50)]
deadline = time.monotonic() + 20
while len(seen) < 50 and time.monotonic() < deadline:
    time.sleep(0.01)
for c in clients:
    c.close()
print(len({m for m in seen if "flag file rejected" in m}))
""", "50 clients logging")
    out = assert_clean_exit(result, "50 clients logging")
    assert out.strip() == "50"
