"""asyncio: waiting for the first flags without blocking the event loop, and
receiving changes on the loop."""

import asyncio
import math
import threading

import pytest

import hotfix
from conftest import FLAGS, write_flags

DEADLINE = 20.0  # liveness bound for every awaited step


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, DEADLINE))


def test_wait_until_ready_async_returns_when_the_flags_arrive(tmp_path):
    path = tmp_path / "flags.json"  # not there yet

    async def main():
        with hotfix.Client.from_file(path, poll_interval=0.01) as client:
            assert await client.wait_until_ready_async(0) is False
            ticks = 0
            stop = asyncio.Event()

            async def ticker():
                nonlocal ticks
                while not stop.is_set():
                    ticks += 1
                    await asyncio.sleep(0.001)

            ticking = asyncio.create_task(ticker())
            waiting = asyncio.create_task(
                client.wait_until_ready_async(math.inf))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            write_flags(path, 1)
            assert await waiting is True
            stop.set()
            await ticking
            # The loop kept running while the client waited.
            assert ticks > 1
            assert client.enabled("fix-123")

    run(main())


def test_wait_until_ready_async_times_out_with_false():
    async def main():
        with hotfix.Client() as client:
            assert await client.wait_until_ready_async(0.05) is False

    run(main())


def test_wait_until_ready_async_returns_false_when_closed():
    async def main():
        client = hotfix.Client()
        waiting = asyncio.create_task(client.wait_until_ready_async(3600))
        await asyncio.sleep(0.05)
        client.close()
        assert await waiting is False

    run(main())


def test_wait_until_ready_async_is_cancellable():
    async def main():
        with hotfix.Client() as client:
            waiting = asyncio.create_task(client.wait_until_ready_async(3600))
            await asyncio.sleep(0.05)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting

    run(main())


def test_wait_until_ready_async_checks_its_timeout():
    async def main():
        with hotfix.Client() as client:
            with pytest.raises(ValueError):
                await client.wait_until_ready_async(-1)
            with pytest.raises(TypeError):
                await client.wait_until_ready_async("1")

    run(main())


def test_changes_are_delivered_on_the_event_loop(tmp_path):
    path = tmp_path / "flags.json"
    write_flags(path, 1)

    async def main():
        loop_thread = threading.get_ident()
        with hotfix.Client.from_file(path, poll_interval=0.01) as client:
            async with client.changes() as changes:
                write_flags(path, 2)
                seen = []
                async for event in changes:
                    seen.append((event.new_version, threading.get_ident()))
                    if event.new_version == 2:
                        write_flags(path, 3)
                    if event.new_version == 3:
                        break
            assert seen == [(2, loop_thread), (3, loop_thread)]

    run(main())


def test_changes_end_when_the_client_closes():
    async def main():
        client = hotfix.Client.from_bootstrap(FLAGS)
        changes = client.changes()
        client.publish({"version": 4, "flags": {}})
        client.close()
        versions = [event.new_version async for event in changes]
        assert versions == [4]

    run(main())


def test_a_closed_change_stream_stops_listening(flags):
    async def main():
        changes = flags.changes()
        changes.close()
        flags.publish({"version": 4, "flags": {}})
        assert [event async for event in changes] == []

    run(main())
