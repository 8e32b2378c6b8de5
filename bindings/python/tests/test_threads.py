"""close() racing other threads: evaluations, publish(), wait_until_ready(),
remove_listener(), and evaluations whose Mapping context runs Python code
(and so lets another thread close the client) while it is converted.

Each race runs in a fresh interpreter (run_python): a use of freed memory
crashes that interpreter and fails one test, not the run."""

import collections.abc

import hotfix
from conftest import FLAGS, assert_clean_exit, run_python

# A document large enough that publishing it compiles for a while (with the
# GIL released), so that close() runs while publish() is inside the core.
BIG_DOCUMENT = """
def big_document(version):
    flags = {"f%d" % i: {
        "variants": {"on": True, "off": False}, "off_variant": "off",
        "default": "on",
        "rules": [{"if": [{"attribute": "a", "op": "in",
                           "values": [str(j) for j in range(50)]}],
                   "serve": "off"}]} for i in range(5000)}
    return json.dumps({"version": version, "flags": flags})
"""


def test_close_while_threads_evaluate_and_publish():
    # Eight threads evaluate, one publishes (with a callback registered, so
    # that publishing waits for the GIL inside the core), and close() comes
    # at a different moment in each round. Every call either works or, for
    # publish() after close(), raises StateError; evaluations after close()
    # serve defaults.
    result = run_python("""
import random
random.seed(17)
contexts = [{"key": "u1", "region": "eu"}, "u2",
            {"key": "u3", "age": 30, "beta": True}, None]
for round in range(5):
    client = hotfix.Client.from_bootstrap(FLAGS)
    handle = client.flag("eu-only")
    seen = []
    client.on_change(lambda e: seen.append(e.new_version))
    closed = threading.Event()
    problems = []

    def evaluate():
        after_close = 0
        for i in range(50000):
            c = contexts[i % 4]
            was_closed = closed.is_set()
            try:
                r = (client.enabled("eu-only", c), handle.enabled(c),
                     client.get_string("banner", "dflt", c),
                     client.evaluate("adults-beta", c).reason)
            except Exception as e:
                problems.append(repr(e))
                return
            if was_closed:
                if r != (False, False, "dflt", "ERROR"):
                    problems.append("after close: %r" % (r,))
                    return
                after_close += 1
                if after_close == 100:
                    return

    def publish():
        for v in range(4, 1004):
            try:
                client.publish({"version": v, "flags": {
                    "eu-only": FLAGS["flags"]["eu-only"],
                    "banner": FLAGS["flags"]["banner"],
                    "adults-beta": FLAGS["flags"]["adults-beta"],
                    "rev": {"variants": {"v": v}, "default": "v"}}})
            except hotfix.StateError:
                return
            except Exception as e:
                problems.append("publish: %r" % e)
                return

    threads = [threading.Thread(target=evaluate) for _ in range(8)]
    threads.append(threading.Thread(target=publish))
    for t in threads:
        t.start()
    time.sleep(random.uniform(0.01, 0.5))
    client.close()
    closed.set()
    for t in threads:
        t.join(60)
    alive = sum(t.is_alive() for t in threads)
    print("round", round, "callbacks", len(seen), "alive", alive,
          "problems", problems[:3])
""", "close() racing evaluations and publish()", timeout=240)
    out = assert_clean_exit(result, "threads + publish + close")
    for line in out.splitlines():
        assert line.endswith("alive 0 problems []"), line


def test_close_while_another_thread_publishes():
    result = run_python(BIG_DOCUMENT + """
client = hotfix.Client.from_bootstrap(FLAGS)
client.on_change(lambda e: None)
text = big_document(4)
started = threading.Event()
outcome = []
def publish():
    started.set()
    try:
        client.publish(text)
        outcome.append("published")
    except hotfix.StateError:
        outcome.append("StateError")
t = threading.Thread(target=publish)
t.start()
started.wait(20)
time.sleep(0.05)  # into the compilation, most of the time
client.close()
t.join(60)
print(t.is_alive(), outcome, client.closed, client.version)
""", "close() during publish()", timeout=120)
    out = assert_clean_exit(result, "close during publish")
    alive, rest = out.split(" ", 1)
    assert alive == "False"
    assert rest.strip() in ("['published'] True 0", "['StateError'] True 0")


def test_close_while_another_thread_waits_until_ready():
    # The client never gets flags and the wait is for an hour: close()
    # must end it (False), not free the client under it.
    result = run_python("""
client = hotfix.Client(url="http://127.0.0.1:9", sdk_key="sdk-key-0123456789",
                       connect_timeout=1)
result = []
def wait():
    result.append(client.wait_until_ready(3600))
t = threading.Thread(target=wait)
t.start()
while "wait_until_ready" not in sys._current_frames()[t.ident].f_code.co_names:
    time.sleep(0.01)
time.sleep(0.1)
client.close()
t.join(30)
print(t.is_alive(), result)
""", "close() during wait_until_ready()", timeout=60)
    out = assert_clean_exit(result, "close during wait")
    assert out.strip() == "False [False]"


def test_close_while_another_thread_removes_a_listener():
    # A callback is running (in publish() on another thread) when a third
    # thread removes it and the main thread closes the client. Neither waits
    # for the callback, which only finishes once both have returned.
    result = run_python("""
client = hotfix.Client.from_bootstrap(FLAGS)
entered = threading.Event()
release = threading.Event()
log = []
def slow(event):
    entered.set()
    release.wait(30)
    log.append("callback done")
listener = client.on_change(slow)
publisher = threading.Thread(target=client.publish,
                             args=({"version": 4, "flags": {}},))
publisher.start()
entered.wait(20)
remover = threading.Thread(target=lambda: (client.remove_listener(listener),
                                           log.append("removed")))
remover.start()
remover.join(20)
client.close()
log.append("closed")
release.set()
publisher.join(30)
print(log, remover.is_alive(), publisher.is_alive())
""", "close() during remove_listener()", timeout=90)
    out = assert_clean_exit(result, "close during remove")
    assert out.strip() == \
        "['removed', 'closed', 'callback done'] False False"


def test_a_mapping_context_that_closes_the_client_gets_defaults():
    # Converting a Mapping runs its Python code, which may close the client
    # (directly here; in real programs another thread does it while this one
    # waits for the GIL): the evaluation must not use the client after that.
    result = run_python("""
import collections.abc
class Closing(collections.abc.Mapping):
    def __init__(self, client):
        self.client = client
    def __getitem__(self, k):
        self.client.close()
        return {"key": "u1", "region": "eu"}[k]
    def __iter__(self):
        return iter(["key", "region"])
    def __len__(self):
        return 2
results = []
for how in ("enabled", "handle.enabled", "get_bool", "get_string",
            "evaluate", "handle.get_bool", "handle.evaluate"):
    c = hotfix.Client.from_bootstrap(FLAGS)
    h = c.flag("eu-only")
    ctx = Closing(c)
    calls = {
        "enabled": lambda: c.enabled("eu-only", ctx),
        "handle.enabled": lambda: h.enabled(ctx),
        "get_bool": lambda: c.get_bool("eu-only", "dflt", ctx),
        "get_string": lambda: c.get_string("banner", "dflt", ctx),
        "evaluate": lambda: c.evaluate("eu-only", ctx).error,
        "handle.get_bool": lambda: h.get_bool("dflt", ctx),
        "handle.evaluate": lambda: h.evaluate(ctx).error,
    }
    results.append((how, calls[how](), c.closed))
for r in results:
    print(*r)
""", "Mapping contexts closing the client")
    out = assert_clean_exit(result, "Mapping closing the client")
    assert out.splitlines() == [
        "enabled False True",
        "handle.enabled False True",
        "get_bool dflt True",
        "get_string dflt True",
        "evaluate NOT_READY True",
        "handle.get_bool dflt True",
        "handle.evaluate NOT_READY True",
    ]


def test_evaluations_with_lazy_mappings_racing_close():
    # The realistic form: four threads evaluate with Mappings whose
    # __getitem__ lets other threads run; another thread closes the client.
    result = run_python("""
import collections.abc
client = hotfix.Client.from_bootstrap(FLAGS)
handle = client.flag("eu-only")
class LazyUser(collections.abc.Mapping):
    def __init__(self, uid):
        self.uid = uid
    def __getitem__(self, k):
        time.sleep(0)  # any I/O: the GIL is released
        return {"key": self.uid, "region": "eu"}[k]
    def __iter__(self):
        return iter(("key", "region"))
    def __len__(self):
        return 2
running = threading.Barrier(5, timeout=20)
def work():
    running.wait()
    for n in range(3000):
        client.enabled("eu-only", LazyUser("u%d" % n))
        handle.enabled(LazyUser("u%d" % n))
threads = [threading.Thread(target=work) for _ in range(4)]
for t in threads:
    t.start()
running.wait()
time.sleep(0.05)
client.close()
for t in threads:
    t.join(60)
print(sum(t.is_alive() for t in threads), client.enabled("eu-only",
                                                         LazyUser("x")))
""", "lazy Mapping evaluations racing close()", timeout=120)
    out = assert_clean_exit(result, "lazy Mappings racing close")
    assert out.strip() == "0 False"


def test_handles_outlive_a_closed_client_in_other_threads():
    client = hotfix.Client.from_bootstrap(FLAGS)
    handle = client.flag("fix-123")
    assert handle.enabled()
    client.close()
    assert handle.enabled() is False
    assert handle.get_string("x") == "x"
    assert isinstance(handle, hotfix.FlagHandle)
    assert isinstance(collections.abc.Mapping, type)
