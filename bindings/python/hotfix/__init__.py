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

Contexts are dicts: "key" is the context key (a str), other entries are
attributes whose values are str, bytes, bool, int, float, or None (absent).
A bare str is shorthand for {"key": that_str}.

Evaluation never raises for flag problems: an unknown flag, a killed flag
without an off variant, a type mismatch, no flags yet, or a closed client all
serve the caller's default (False for enabled). It raises only for a context
of the wrong shape (TypeError). Everything else raises HotfixError subclasses
carrying the core's message and `.code` (the canonical status code name):
ConfigError (also a ValueError) for bad options or flag documents, StateError
(also a RuntimeError) for operations the client's state forbids.

Values: get_json() and Evaluation.value for JSON flags return the parsed
object (json.loads of the served text, a fresh object per call); numbers are
floats except from get_int(), which truncates toward zero.

Threads: a Client may be used from any number of threads. Evaluation keeps
the GIL (it costs less than releasing it; see docs/benchmarks.md). on_change
callbacks run on the thread that accepted the change: the file watcher
thread, or the thread calling publish(). A callback's exception is logged on
the "hotfix" logger and otherwise ignored.

fork(): every live client is restarted in the child automatically
(os.register_at_fork), so a forked worker keeps following its flag file.
Clients still open at interpreter exit are closed by an atexit hook.
"""

import json as _json
import os as _os

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
    "Client",
    "ConfigError",
    "Evaluation",
    "FlagHandle",
    "HotfixError",
    "StateError",
    "Status",
]

__version__ = _hotfix.__version__


def _document_text(document):
    """A flag-set document as JSON text: str, bytes, or a dict to serialize."""
    if document is None or isinstance(document, str):
        return document
    if isinstance(document, (bytes, bytearray)):
        return bytes(document).decode("utf-8")
    if isinstance(document, dict):
        return _json.dumps(document)
    raise TypeError(
        "expected a JSON str, bytes or a dict, not " + type(document).__name__)


def _path(path):
    return None if path is None else _os.fspath(path)


class Client(_hotfix.Client):
    """The application's view of the current flags.

    Build one per process (or per flag source) and share it: every method is
    thread-safe. Creation never blocks on the network: local files (cache,
    bootstrap, flag file) are read before the constructor returns; a server is
    contacted in the background (wait_until_ready() waits for it, optionally).

    Keyword arguments (all optional; None means the default; a client with no
    source serves defaults):

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
        url: "http(s)://host[:port][/prefix]".
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

    Management: on_change(callback) -> id, remove_listener(id), status(),
    wait_until_ready(timeout=0.0), publish(document), version, after_fork(),
    close(), closed.
    """

    # No per-instance __dict__: attribute lookups (every enabled() call)
    # need not consult one.
    __slots__ = ()

    def __init__(self, *, bootstrap=None, bootstrap_path=None, file=None,
                 poll_interval=None, max_file_bytes=None, url=None,
                 sdk_key=None, mode=None, remote_poll_interval=None,
                 connect_timeout=None, read_timeout=None,
                 heartbeat_timeout=None, verify_tls=None, ca_file=None,
                 cache_path=None, unknown_operators=None,
                 max_document_bytes=None):
        super().__init__(
            bootstrap_json=_document_text(bootstrap),
            bootstrap_path=_path(bootstrap_path),
            file=_path(file),
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
            ca_file=_path(ca_file),
            cache_path=_path(cache_path),
            unknown_operators=unknown_operators,
            max_document_bytes=max_document_bytes)

    @classmethod
    def from_url(cls, url, sdk_key, **options):
        """A client following the flag server at `url` with `sdk_key` (see
        Client for options, e.g. cache_path and bootstrap)."""
        return cls(url=url, sdk_key=sdk_key, **options)

    @classmethod
    def from_file(cls, path, **options):
        """A client following the flag file `path` (see Client for options)."""
        return cls(file=path, **options)

    @classmethod
    def from_bootstrap(cls, document, **options):
        """A client serving `document` (JSON str/bytes or a dict)."""
        return cls(bootstrap=document, **options)

    def publish(self, document):
        """Compiles and serves `document` (JSON str/bytes or a dict) as if a
        source had delivered it; for tests and embedders. Calls the on_change
        callbacks on this thread. Invalid: ConfigError, nothing changes."""
        super().publish(_document_text(document))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __repr__(self):
        if self.closed:
            return "<hotfix.Client closed>"
        return "<hotfix.Client version=%d>" % self.version
