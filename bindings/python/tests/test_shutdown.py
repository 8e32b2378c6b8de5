"""Interpreter exit with clients still open and threads still inside them.

At exit an atexit hook closes every client; CPython then ends daemon threads
that take the GIL. Neither may crash the process ("FATAL: exception not
rethrown" was the forced unwind of such a thread swallowed by a catch-all),
hang it, or lose what the callbacks were doing. Each case is a fresh
interpreter, run a few times because the moment of exit varies."""

from conftest import assert_clean_exit, run_python

ROUNDS = 3


def exits_cleanly(code, what):
    for _ in range(ROUNDS):
        out = assert_clean_exit(run_python(code, what, timeout=60), what)
    return out


def test_exit_while_a_daemon_thread_publishes():
    out = exits_cleanly("""
c = hotfix.Client.from_bootstrap(FLAGS)
c.on_change(lambda e: None)
def publish():
    for v in range(4, 100000):
        try:
            c.publish({"version": v, "flags": {
                "rev": {"variants": {"v": v}, "default": "v"}}})
        except hotfix.StateError:
            return  # closed by the exit hook
threading.Thread(target=publish, daemon=True).start()
while c.version < 50:
    time.sleep(0.001)
print("main returns")
""", "exit while a daemon thread publishes")
    assert out.strip() == "main returns"


def test_exit_while_daemon_threads_run_callbacks_inside_publish():
    # The callbacks run Python code on the daemon threads when the
    # interpreter starts finalizing.
    exits_cleanly("""
c = hotfix.Client.from_bootstrap(FLAGS)
def busy(event):
    sum(range(2000))
c.on_change(busy)
def publish(base):
    for v in range(base, base + 100000):
        try:
            c.publish({"version": v, "flags": {
                "rev": {"variants": {"v": v}, "default": "v"}}})
        except hotfix.StateError:
            return
for base in (1000000, 2000000):
    threading.Thread(target=publish, args=(base,), daemon=True).start()
while c.version < 1000050:
    time.sleep(0.001)
""", "exit while callbacks run in daemon threads")


def test_exit_while_a_daemon_thread_waits_until_ready():
    exits_cleanly("""
c = hotfix.Client(url="http://127.0.0.1:9", sdk_key="sdk-key-0123456789")
waiting = threading.Thread(target=lambda: c.wait_until_ready(3600),
                           daemon=True)
waiting.start()
while "wait_until_ready" not in sys._current_frames()[
        waiting.ident].f_code.co_names:
    time.sleep(0.01)
""", "exit while a daemon thread waits until ready")


def test_exit_waits_for_a_callback_running_on_a_source_thread():
    # The file watcher is inside a callback when the main thread returns:
    # the callback finishes before the interpreter goes.
    out = exits_cleanly("""
import tempfile
path = pathlib.Path(tempfile.mkdtemp()) / "flags.json"
write_flags(path, 1)
c = hotfix.Client.from_file(path, poll_interval=0.01)
inside = threading.Event()
def callback(event):
    inside.set()
    time.sleep(0.5)
    print("callback finished", flush=True)
c.on_change(callback)
write_flags(path, 2)
inside.wait(20)
print("main returns", flush=True)
""", "exit while a callback runs on the watcher thread")
    assert out.splitlines() == ["main returns", "callback finished"]


def test_exit_with_open_clients_of_every_kind():
    exits_cleanly("""
import tempfile
path = pathlib.Path(tempfile.mkdtemp()) / "flags.json"
write_flags(path, 1)
clients = [hotfix.Client.from_bootstrap(FLAGS),
           hotfix.Client.from_file(path, poll_interval=0.01),
           hotfix.Client(url="http://127.0.0.1:9",
                         sdk_key="sdk-key-0123456789"),
           hotfix.Client()]
for c in clients:
    c.on_change(lambda e: None)
""", "exit with open clients")
