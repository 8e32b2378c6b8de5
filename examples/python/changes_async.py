#!/usr/bin/python3
"""examples/python/changes_async.py

hotfix with asyncio: wait for the first flags without blocking the event
loop, then react to changes on the loop itself. A flag file is written by
the example (as a deploy tool would), so it runs anywhere:

    PYTHONPATH=<build>/python python3 examples/python/changes_async.py
"""

import asyncio
import json
import os
import sys
import tempfile

import hotfix


def write_flags(path: str, version: int, on: bool) -> None:
    """Replaces the flag file atomically, as deploy tools should."""
    document = {"version": version, "flags": {"fix-123": {
        "variants": {"on": True, "off": False}, "off_variant": "off",
        "default": "on" if on else "off"}}}
    with open(path + ".tmp", "w") as f:
        json.dump(document, f)
    os.replace(path + ".tmp", path)


async def main() -> int:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "flags.json")
        with hotfix.Client.from_file(path, poll_interval=0.05) as flags:
            # The file does not exist yet: the deploy writes it a bit later.
            asyncio.get_running_loop().call_later(
                0.2, write_flags, path, 1, False)
            if not await flags.wait_until_ready_async(10):
                print("no flags within 10 s", file=sys.stderr)
                return 1
            print("ready: fix-123 is", "on" if flags.enabled("fix-123")
                  else "off")
            async with flags.changes() as changes:
                write_flags(path, 2, True)  # an operator turns the fix on
                async for event in changes:
                    print("change to version %d: %s; fix-123 is now %s" % (
                        event.new_version, ", ".join(event.changed_keys),
                        "on" if flags.enabled("fix-123") else "off"))
                    break
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
