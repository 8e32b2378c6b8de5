"""hotfix: feature flags and kill switches for Python, on the C++ core.

The same compiled snapshot that serves C++ services answers here: the flag
document (docs/flag-format.md) is compiled once, and each evaluation is a
hash lookup plus the flag's rules, with no Python-side interpretation.

    import hotfix

    with hotfix.Client.from_file("/etc/myservice/flags.json") as flags:
        if flags.enabled("fix-123", {"key": "user-42", "region": "eu"}):
            new_code_path()
        else:
            old_code_path()

Contexts are dicts (or any Mapping): "key" is the context key (a str), other
entries are attributes whose values are str, bytes, bool, int, float, or None
(absent). A bare str is shorthand for {"key": that_str}. Ints beyond a
float's range compare as infinities; a str that is not valid Unicode (lone
surrogates) is compared as its "surrogatepass" UTF-8 bytes, so it never
equals valid text, as an invalid bytes value never does.

Evaluation never raises for flag problems: an unknown flag, a killed flag
without an off variant, a type mismatch, no flags yet, or a closed client all
serve the caller's default (False for enabled). It raises TypeError for a
flag or context of the wrong type, and whatever a Mapping context's own
methods raise; nothing else. Management calls raise HotfixError subclasses
carrying the core's message and `.code` (the canonical status code name):
ConfigError (also a ValueError) for bad options or flag documents, StateError
(also a RuntimeError) for operations the client's state forbids.

Values: get_json() and Evaluation.value for JSON flags return the parsed
object (json.loads of the served text, a fresh object per call); numbers are
floats except from get_int(), which truncates toward zero.

Threads: a Client may be used from any number of threads. Evaluation keeps
the GIL (it costs less than releasing it; see docs/benchmarks.md); creation,
close(), publish() and wait_until_ready() release it. on_change callbacks
run on the thread that accepted the change: the file watcher or stream
thread, or the thread calling publish(); calls of one client's callbacks
never overlap.

What a callback may do and wait on: anything, including evaluating, calling
status(), wait_until_ready(), remove_listener(), publishing to or closing
another client, closing its own client (the client is stopped once the
callback returns), and waiting for a lock that another thread holds while it
calls close() or remove_listener(), because neither of those ever waits for a
running callback. It may not publish() to its own client (StateError), and it
should not wait for another thread's publish() to its own client, which waits
for the delivery in progress. A callback's exception is logged on the
"hotfix" logger and the next callback runs; a KeyboardInterrupt or SystemExit
raised by a callback running inside publish() stops the delivery and is
raised by publish(). Callbacks on the core's threads cannot raise into your
code: theirs are logged too.

close(): evaluations serve defaults from then on, no callback starts, and the
client's threads are stopped before close() returns, unless one of its
callbacks is running at that moment: then they are stopped right after it
returns, in the background. Use the client as a context manager to close it.

asyncio: ``await client.wait_until_ready_async(timeout)`` waits without
blocking the event loop, and ``async with client.changes() as changes: async
for event in changes:`` receives ChangeEvents on the event loop (they are
handed over with loop.call_soon_threadsafe). To run your own code on the loop
from a callback, register ``lambda e: loop.call_soon_threadsafe(handle, e)``.

Logging: the core's warnings and errors (a rejected flag file, a stream
error) go to the "hotfix" logger, from a background thread shortly after the
core reports them; callback exceptions too. At interpreter exit the core
writes to stderr again.

fork(): every live client is restarted in the child automatically
(os.register_at_fork), so a forked worker keeps following its flags.

Interpreter exit: clients still open are closed by an atexit hook, which
waits up to 10 s for callbacks still running. Daemon threads still using a
client from then on see a closed client (defaults; StateError from
publish()), and one inside a call into the core when the interpreter
finalizes simply never returns, like any daemon thread at that point.
"""

from __future__ import annotations

import asyncio
import json as _json
import os as _os
from typing import Any, Mapping, Optional, Sequence, Union

from hotfix import _hotfix
from hotfix._hotfix import ChangeEvent
from hotfix._hotfix import ConfigError
from hotfix._hotfix import Evaluation
from hotfix._hotfix import FlagHandle
from hotfix._hotfix import HotfixError
from hotfix._hotfix import StateError
from hotfix._hotfix import Status

__all__ = [
    "ChangeEvent",
    "ChangeStream",
    "Client",
    "ConfigError",
    "Evaluation",
    "FlagHandle",
    "Guard",
    "HotfixError",
    "StateError",
    "Status",
]

__version__: str = _hotfix.__version__

Document = Union[str, bytes, bytearray, Mapping[str, Any]]
PathArg = Union[str, bytes, "_os.PathLike[str]", "_os.PathLike[bytes]"]


def _document_text(document: Optional[Document], what: str) -> Optional[str]:
    """A flag-set document as JSON text: str, bytes, or a dict to serialize."""
    if document is None or isinstance(document, str):
        return document
    if isinstance(document, (bytes, bytearray)):
        return bytes(document).decode("utf-8")
    if isinstance(document, Mapping):
        return _json.dumps(document)
    raise TypeError("%s must be a JSON str, bytes or a dict, not %s"
                    % (what, type(document).__name__))


def _path(path: Optional[PathArg], option: str) -> Union[str, bytes, None]:
    if path is None:
        return None
    try:
        return _os.fspath(path)
    except TypeError:
        raise TypeError("Client(): %s must be a str, bytes or os.PathLike "
                        "path, not %s" % (option, type(path).__name__)
                        ) from None


class Client(_hotfix.Client):
    """The application's view of the current flags.

    Build one per process (or per flag source) and share it: every method is
    thread-safe. Creation never blocks on the network: local files (cache,
    bootstrap, flag file) are read before the constructor returns; a server is
    contacted in the background (wait_until_ready() waits for it, optionally).

    Keyword arguments (all optional; None means the default; a client with no
    source serves defaults). A value of the wrong type raises TypeError naming
    the option; an invalid value raises ConfigError.

      Local sources
        bootstrap: a flag set (JSON str/bytes or a dict) served until a source
          delivers one. Invalid: ConfigError.
        bootstrap_path: read the bootstrap document from this file instead.
        file: a flag file, reloaded when it changes. A missing or bad file is
          not an error here: status() reports it, it is retried, and the last
          good flags stay in force.
        poll_interval: seconds between checks of the flag file (0.5); 0 loads
          it once.
        max_file_bytes: larger flag and bootstrap files are rejected (16 MiB).
      Server (hotfixd, or anything speaking docs/protocol.md)
        url: "http(s)://host[:port][/prefix]", or a list of them: replicas
          of one deployment, tried in order; on failure the client moves to
          the next after its jittered backoff and resumes its stream there
          (status().server says which it follows).
        sdk_key: sent as "Authorization: Bearer <sdk_key>"; never logged.
        mode: "streaming" (SSE, polling while the stream is down; the
          default), "polling", or "off".
        remote_poll_interval: seconds between polls (30, jittered +/- 10 %).
        connect_timeout, read_timeout, heartbeat_timeout: seconds (5, 10, 45).
        verify_tls: verify the server certificate and host name (True).
        ca_file: PEM file of trusted CAs (default: the system's).
        cache_path: last-known-good cache file, written on every accepted
          flag set and served at start until the server answers.
      Compiler
        unknown_operators: "reject" (a compile error; the default) or
          "fail_closed" (the clause never matches).
        max_document_bytes: larger documents are rejected (64 MiB).
      Guarded rollouts (docs/guarded-rollouts.md)
        counting: count exposures and outcomes per flag x variant (True);
          False turns counting, local guards and telemetry off.
        send_telemetry: post the counts to the server's /v1/telemetry when
          `url` is set (True).
        telemetry_interval: seconds between posts (5).
        guard_interval: seconds between judgements of the local guards (0.1).
        instance: this process's name in posts (host name and pid).
    Paths may be str, bytes or os.PathLike; no option may contain a NUL.

    Use it as a context manager, or call close(), to stop its threads. After
    close(), evaluations serve defaults and management calls raise StateError.

    Evaluation methods (inherited from the compiled class):
      enabled(flag, context=None) -> bool
      get_bool(flag, default=False, context=None)
      get_string(flag, default="", context=None)
      get_int(flag, default=0, context=None)
      get_float(flag, default=0.0, context=None)
      get_json(flag, default=None, context=None)
      evaluate(flag, context=None, expected=None) -> Evaluation
      flag(key) -> FlagHandle, with the same methods minus the flag argument
    The getters return `default` itself (any object) when the flag does not
    serve a value of their type.

    Outcomes: report(flag, ok, context=None) records how the work done
    under `flag` went; guard(flag, context=None) evaluates once and records
    the outcome when its `with` block ends (an exception is a failure).

    Management: on_change(callback) -> id, remove_listener(id), status(),
    wait_until_ready(timeout), publish(document), version, after_fork(),
    close(), closed; for asyncio, wait_until_ready_async(timeout) and
    changes().
    """

    # The change streams to end on close(). No per-instance __dict__:
    # attribute lookups (every enabled() call) need not consult one.
    __slots__ = ("_streams",)

    def __init__(self, *, bootstrap: Optional[Document] = None,
                 bootstrap_path: Optional[PathArg] = None,
                 file: Optional[PathArg] = None,
                 poll_interval: Optional[float] = None,
                 max_file_bytes: Optional[int] = None,
                 url: Union[str, Sequence[str], None] = None,
                 sdk_key: Optional[str] = None,
                 mode: Optional[str] = None,
                 remote_poll_interval: Optional[float] = None,
                 connect_timeout: Optional[float] = None,
                 read_timeout: Optional[float] = None,
                 heartbeat_timeout: Optional[float] = None,
                 verify_tls: Optional[bool] = None,
                 ca_file: Optional[PathArg] = None,
                 cache_path: Optional[PathArg] = None,
                 unknown_operators: Optional[str] = None,
                 max_document_bytes: Optional[int] = None,
                 counting: Optional[bool] = None,
                 send_telemetry: Optional[bool] = None,
                 telemetry_interval: Optional[float] = None,
                 guard_interval: Optional[float] = None,
                 instance: Optional[str] = None) -> None:
        self._streams: list[ChangeStream] = []
        super().__init__(
            bootstrap_json=_document_text(bootstrap, "Client(): bootstrap"),
            bootstrap_path=_path(bootstrap_path, "bootstrap_path"),
            file=_path(file, "file"),
            poll_interval=poll_interval,
            max_file_bytes=max_file_bytes,
            url=url,
            sdk_key=sdk_key,
            mode=mode,
            remote_poll_interval=remote_poll_interval,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            heartbeat_timeout=heartbeat_timeout,
            verify_tls=verify_tls,
            ca_file=_path(ca_file, "ca_file"),
            cache_path=_path(cache_path, "cache_path"),
            unknown_operators=unknown_operators,
            max_document_bytes=max_document_bytes,
            counting=counting,
            send_telemetry=send_telemetry,
            telemetry_interval=telemetry_interval,
            guard_interval=guard_interval,
            instance=instance)

    @classmethod
    def from_url(cls, url: str, sdk_key: str, **options: Any) -> Client:
        """A client following the flag server at `url` with `sdk_key` (see
        Client for options, e.g. cache_path and bootstrap)."""
        return cls(url=url, sdk_key=sdk_key, **options)

    @classmethod
    def from_file(cls, path: PathArg, **options: Any) -> Client:
        """A client following the flag file `path` (see Client for options)."""
        return cls(file=path, **options)

    @classmethod
    def from_bootstrap(cls, document: Document, **options: Any) -> Client:
        """A client serving `document` (JSON str/bytes or a dict)."""
        return cls(bootstrap=document, **options)

    def publish(self, document: Document) -> None:
        """Compiles and serves `document` (JSON str/bytes or a dict) as if a
        source had delivered it; for tests and embedders. Calls the on_change
        callbacks on this thread. Invalid: ConfigError, nothing changes. A
        KeyboardInterrupt or SystemExit raised by a callback stops the
        delivery and is raised here (the flags are published)."""
        text = _document_text(document, "publish(): document")
        if text is None:
            raise TypeError("publish(): document must be a JSON str, bytes "
                            "or a dict, not None")
        super().publish(text)

    def close(self) -> None:
        """Closes the client (see hotfix._hotfix.Client.close) and ends its
        change streams."""
        try:
            super().close()
        finally:
            streams = getattr(self, "_streams", None) or []
            for stream in list(streams):
                stream.close()

    async def wait_until_ready_async(self, timeout: float) -> bool:
        """wait_until_ready() for asyncio: waits until the client serves flags
        or `timeout` seconds pass, without blocking the event loop; True if it
        does. timeout=0 only checks; math.inf waits without limit. False if
        the client is closed meanwhile. Cancellable."""
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise TypeError("wait_until_ready_async(): timeout must be a "
                            "number of seconds, not " + type(timeout).__name__)
        if not timeout >= 0:
            raise ValueError("wait_until_ready_async(): timeout must be a "
                             "number of seconds, 0 or more")
        if self.wait_until_ready(0):
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        changed = asyncio.Event()

        def wake(event: ChangeEvent) -> None:
            try:
                loop.call_soon_threadsafe(changed.set)
            except RuntimeError:
                pass  # the loop is closed

        listener = self.on_change(wake)
        try:
            while True:
                # A first flag set that changes no flag calls no callback:
                # look again every 50 ms as well.
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(changed.wait(),
                                           min(remaining, 0.05))
                except asyncio.TimeoutError:
                    pass
                changed.clear()
                if self.closed:
                    return False
                if self.wait_until_ready(0):
                    return True
        finally:
            self.remove_listener(listener)

    def changes(self, *, loop: Optional[asyncio.AbstractEventLoop] = None
                ) -> ChangeStream:
        """An async iterator of this client's ChangeEvents, delivered on
        `loop` (default: the running loop). Ends when it is closed (leaving
        `async with`, or close()) or the client is.

            async with client.changes() as changes:
                async for event in changes:
                    ...
        """
        if loop is None:
            loop = asyncio.get_running_loop()
        stream = ChangeStream(self, loop)
        self._streams.append(stream)
        return stream

    def guard(self, flag: str, context: Any = None) -> Guard:
        """Evaluates `flag` once and records how the guarded work went.

            with flags.guard("fix-123", ctx) as g:
                if g.enabled:
                    new_checkout()      # an exception here is a failure
                else:
                    old_checkout()

        The outcome is a success when the block ends normally, a failure
        when it ends by an exception or after g.fail(); g.dismiss() records
        nothing. Like report(), the outcome goes to the variant `flag` serves
        `context` when it is recorded.
        """
        return Guard(self, flag, context)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        try:
            closed = self.closed
        except TypeError:
            return "<hotfix.Client (not initialized)>"
        if closed:
            return "<hotfix.Client closed>"
        return "<hotfix.Client version=%d>" % self.version


class Guard:
    """One evaluation of a guarded flag and the outcome of the work under
    it; made by Client.guard(). Records at most one outcome."""

    __slots__ = ("_client", "_flag", "_context", "_done", "evaluation")

    def __init__(self, client: Client, flag: str, context: Any) -> None:
        self._client = client
        self._flag = flag
        self._context = context
        self._done = False
        self.evaluation: Evaluation = client.evaluate(flag, context)

    @property
    def enabled(self) -> bool:
        """The boolean value served (False when the flag is not boolean)."""
        return self.evaluation.value is True

    def succeed(self) -> None:
        """Records a success now (once)."""
        self._record(True)

    def fail(self) -> None:
        """Records a failure now (once)."""
        self._record(False)

    def dismiss(self) -> None:
        """Records no outcome at all."""
        self._done = True

    def _record(self, ok: bool) -> None:
        if self._done:
            return
        self._done = True
        self._client.report(self._flag, ok, self._context)

    def __enter__(self) -> Guard:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._record(exc_type is None)


class ChangeStream:
    """A client's ChangeEvents on an asyncio event loop (Client.changes()).

    Events are queued (without bound) from the thread that accepted the
    change and handed to the loop with call_soon_threadsafe, in order.
    """

    _END = object()

    def __init__(self, client: Client, loop: asyncio.AbstractEventLoop
                 ) -> None:
        self._client = client
        self._loop = loop
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._closed = False
        self._listener: Optional[int] = client.on_change(self._deliver)

    def _deliver(self, event: ChangeEvent) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, event)
        except RuntimeError:
            pass  # the loop is closed

    def close(self) -> None:
        """Stops the stream: iteration ends after the events already
        delivered. Idempotent; may be called from any thread."""
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._client.remove_listener(self._listener)
            self._listener = None
        streams = getattr(self._client, "_streams", None)
        if streams is not None and self in streams:
            streams.remove(self)
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, self._END)
        except RuntimeError:
            pass  # the loop is closed

    def __aiter__(self) -> ChangeStream:
        return self

    async def __anext__(self) -> ChangeEvent:
        item = await self._queue.get()
        if item is self._END:
            self._queue.put_nowait(self._END)  # later calls end too
            raise StopAsyncIteration
        event: ChangeEvent = item
        return event

    async def __aenter__(self) -> ChangeStream:
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close()
