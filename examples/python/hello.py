#!/usr/bin/python3
"""examples/python/hello.py

The smallest hotfix program in Python (the same guard as
examples/hello/hello.cc): a client built from an embedded flag set, one
guarded code path, and one evaluate() call that explains its answer.

Run from a build tree:

    PYTHONPATH=<build>/python python3 examples/python/hello.py

or, with the package installed (bindings/python/README.md), python3 hello.py.
"""

import sys
from typing import Any

import hotfix

FLAGS: dict[str, Any] = {
    "version": 1,
    "flags": {
        "fix-123": {
            "variants": {"on": True, "off": False},
            "off_variant": "off",
            "default": "on",
            "owner": "payments-oncall", "ticket": "PAY-123",
        },
    },
}


def main() -> int:
    try:
        flags = hotfix.Client.from_bootstrap(FLAGS)
    except hotfix.HotfixError as e:
        print("hello:", e, file=sys.stderr)
        return 1
    with flags:
        if flags.enabled("fix-123"):
            print("fix-123 is on: taking the new code path")
        else:
            print("fix-123 is off: taking the old code path")

        detail = flags.evaluate("fix-123")
        print("value=%s variant=%s reason=%s version=%d" % (
            str(detail.value).lower(), detail.variant, detail.reason,
            detail.version))
    return 0


if __name__ == "__main__":
    sys.exit(main())
