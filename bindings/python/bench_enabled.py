#!/usr/bin/python3
"""bindings/python/bench_enabled.py: what a flag check costs from Python.

Compares hotfix's enabled() with the cheapest things Python can do instead: a
plain dict lookup (a flag table you would keep yourself) and a call to a
bound C++ function that does nothing (the floor of any pybind11 call). Also
measures what releasing the GIL around a call would add, which is why
evaluation keeps the GIL (see hotfix_module.cc and docs/benchmarks.md).

Run from a Release build tree:

    PYTHONPATH=<build>/python /usr/bin/python3 bindings/python/bench_enabled.py

Each figure is the best of --repeat runs of --number calls, in nanoseconds
per call, including timeit's loop (shown as "empty loop").
"""

import argparse
import json
import os
import sys
import threading
import time
import timeit

# Run as a script, this directory comes first on sys.path and its source-only
# hotfix/ package would shadow the built one on PYTHONPATH.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

import hotfix  # noqa: E402
from hotfix import _hotfix  # noqa: E402

FLAG_COUNT = 10_000


def flag_set():
    flags = {}
    for i in range(FLAG_COUNT):
        flags["flag-%05d" % i] = {
            "variants": {"on": True, "off": False},
            "off_variant": "off", "default": "on" if i % 2 else "off"}
    # Three rules that do not match the context, then a 50/50 rollout.
    flags["rules"] = {
        "variants": {"on": True, "off": False}, "off_variant": "off",
        "rules": [
            {"if": [{"attribute": "region", "op": "in",
                     "values": ["us", "ca"]}], "serve": "on"},
            {"if": [{"attribute": "age", "op": "lt", "value": 18}],
             "serve": "off"},
            {"if": [{"attribute": "plan", "op": "eq", "value": "enterprise"}],
             "serve": "on"},
        ],
        "default": {"rollout": {"split": [{"variant": "on", "weight": 50},
                                          {"variant": "off", "weight": 50}]}},
    }
    flags["banner"] = {"variants": {"a": "hello", "b": "bonjour"},
                       "default": "a"}
    return {"version": 1, "flags": flags}


def measure(stmt, env, number, repeat):
    timer = timeit.Timer(stmt, globals=env)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e9


def threaded_throughput(fn, threads, seconds=0.5):
    """Calls per second of `fn` summed over `threads` threads."""
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def worker(slot):
        n = 0
        while time.monotonic() < stop:
            for _ in range(1000):
                fn()
            n += 1000
        counts[slot] = n

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    start = time.monotonic()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return sum(counts) / (time.monotonic() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    document = flag_set()
    client = hotfix.Client.from_bootstrap(document)
    base = _hotfix.Client(bootstrap_json=json.dumps(document))
    table = {k: v["default"] == "on" for k, v in document["flags"].items()}
    ctx = {"key": "user-42", "region": "eu", "age": 31, "plan": "free",
           "beta": True}
    env = {
        "client": client, "base": base, "table": table, "ctx": ctx,
        "handle": client.flag("flag-00001"),
        "rules": client.flag("rules"),
        "noop": _hotfix._bench.noop,
        "noop_release": _hotfix._bench.noop_release_gil,
    }
    assert client.enabled("flag-00001") and table["flag-00001"]

    cases = [
        ("empty loop", "pass"),
        ("baseline: dict lookup  table['flag-00001']", "table['flag-00001']"),
        ("baseline: dict.get  table.get('flag-00001', False)",
         "table.get('flag-00001', False)"),
        ("baseline: bound no-op C++ call", "noop()"),
        ("bound no-op releasing the GIL", "noop_release()"),
        ("client.enabled('flag-00001')  [10k flags]",
         "client.enabled('flag-00001')"),
        ("_hotfix.Client.enabled (no subclass)", "base.enabled('flag-00001')"),
        ("client.enabled('unknown')", "client.enabled('unknown')"),
        ("handle.enabled()", "handle.enabled()"),
        ("client.enabled('rules', ctx)  [3 rules + rollout, 5 attrs]",
         "client.enabled('rules', ctx)"),
        ("rules_handle.enabled(ctx)", "rules.enabled(ctx)"),
        ("client.enabled('flag-00001', 'user-42')  [str key]",
         "client.enabled('flag-00001', 'user-42')"),
        ("client.get_string('banner')", "client.get_string('banner')"),
        ("client.evaluate('rules', ctx)", "client.evaluate('rules', ctx)"),
    ]
    print("hotfix %s, Python %s, %d flags; best of %d x %d calls" % (
        hotfix.__version__, sys.version.split()[0], FLAG_COUNT, args.repeat,
        args.number))
    print("%-62s %9s" % ("case", "ns/call"))
    for name, stmt in cases:
        print("%-62s %9.1f" % (name, measure(stmt, env, args.number,
                                               args.repeat)))

    print()
    print("GIL: calls per second summed over threads (M/s)")
    for name, fn in (("client.enabled('flag-00001')",
                      lambda: client.enabled("flag-00001")),
                     ("bound no-op", _hotfix._bench.noop),
                     ("bound no-op releasing the GIL",
                      _hotfix._bench.noop_release_gil)):
        one = threaded_throughput(fn, 1)
        two = threaded_throughput(fn, 2)
        print("%-40s 1 thread %6.2f   2 threads %6.2f" % (
            name, one / 1e6, two / 1e6))
    client.close()
    base.close()


if __name__ == "__main__":
    main()
