#!/usr/bin/python3
"""bench/peers/flagd_peer_bench.py: hotfix's Python module on flagd's flag
definitions (bench/peers/flagd_flags.json): ns per Client.enabled() for each
case over the 1024 contexts the other peers use, the best of several runs.
Prints one JSON object. Run with PYTHONPATH=<build>/python."""

import json
import os
import sys
import timeit

_HERE = os.path.dirname(os.path.abspath(__file__))
import hotfix  # noqa: E402


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    repetitions = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with open(os.path.join(_HERE, "flagd_flags.json")) as f:
        client = hotfix.Client.from_bootstrap(f.read())
    contexts = [{"key": "user-%d" % i,
                 "email": "u%d%s" % (i, "@example.com" if i % 3 == 0 else "@other.org"),
                 "version": "%d.%d.%d" % (i % 4, i % 7, i % 5)} for i in range(1024)]
    out = {"peer": "hotfix (Python Client.enabled)", "iterations": iterations, "cases": {}}
    for flag in ("static-bool", "ends-with-semver", "fractional-10"):
        env = {"enabled": client.enabled, "flag": flag, "contexts": contexts}
        stmt = "for c in contexts: enabled(flag, c)"
        number = max(1, iterations // len(contexts))
        best = min(timeit.Timer(stmt, globals=env).repeat(repeat=repetitions, number=number))
        out["cases"][flag] = best / (number * len(contexts)) * 1e9
    print(json.dumps(out))


if __name__ == "__main__":
    main()
