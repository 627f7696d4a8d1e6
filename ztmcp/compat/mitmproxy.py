"""Four changes to embedded mitmproxy that make ``ztmcp proxy`` cheaper per call, and why.

The only module of ztmcp that touches mitmproxy internals. Each change is behaviour-neutral: it
gives the same answers, the same bytes in the same order, the same errors, as mitmproxy's own
code (``tests/compat/test_mitmproxy.py`` compares each with the unpatched mitmproxy, and a real
proxy round trip with and without them). Each is active only on the mitmproxy versions in
``MITMPROXY.tested`` (read from the installed metadata); on any other version it is not applied
and everything works as before, only slower. Used by ``ztmcp proxy`` only, never when the addon
is loaded into a user's own mitmdump or mitmweb.

An MCP client made with the official SDK opens a new connection for every POST (it closes each
response as soon as the JSON-RPC answer is in), so mitmproxy's per-connection and per-hook work
is paid on every call, twice over (client side and upstream side).

- ``coalesced_writes``: mitmproxy writes each piece of a message as its layers produce it
  (request headers, then body; response headers, then each event, then the terminator). On
  loopback every ``send`` wakes the peer, which on a busy machine runs on this core before
  the next piece goes. The writes of one event-loop iteration are joined into one ``send``;
  anything that waits for, ends or half-closes the connection flushes first. The byte stream
  is the same; only its cut into TCP segments differs, which TCP does not promise anyway.
- ``plain_option_reads``: every read of an option (``ctx.options.body_size_limit`` …) returns
  ``copy.deepcopy`` of its value, and mitmproxy's layers read options about 50 times per call.
  For str, int, float, bool, bytes and None, deepcopy returns the very same object, so reads
  of those skip the call; lists and other mutable values are still copied.
- ``direct_header_lookups``: every ``headers.get(name)`` of mitmproxy's (and ztmcp's) goes
  through ``Mapping.get``, ``__getitem__``, two ``get_all`` and one ``_kconv`` call per field
  to lower-case each name; its HTTP layers look up about 30 headers a call. Here the
  lower-cased names are kept beside the ``fields`` tuple they came from (rebuilt when
  ``fields`` is replaced, as every write does), and a lookup is a ``count`` in that tuple.
  The answers are mitmproxy's own, errors included (checked on a probe before switching).
- ``cached_hook_args``: ``Hook.args()`` calls ``dataclasses.fields`` on each of the ~17 hook
  events a call; the field names are read once per hook class instead.

``lean_addons`` (start-up, not per call): ``mitmproxy.addons`` without its ``__init__``, which
imports all 31 default addons where ``ztmcp proxy`` uses six; ``default_addons()`` still works,
loading them all when read.

One more change is not neutral, on purpose: ``error_answers`` lets the addon answer a flow
that failed before any response went out (the upstream is down) with a JSON-RPC error, where
mitmproxy sends an HTML page that no MCP client can read (``adapters/http_rules.py``). The
addon holds it while it runs, under ``ztmcp proxy`` and in a user's mitmdump alike; it changes
nothing for a flow the addon did not register an answer for.

Two earlier changes were removed because they changed what mitmproxy does (docs/proxy.md):
a per-hook dispatch table (after an addon raised, it did not run the handlers mitmproxy runs
in the same way), and skipping mitmproxy's debug-only type check of ``Request``/``Response``
fields (a mistyped field then passed where mitmproxy raises ``TypeError``).

The internals touched (not API): ``mitmproxy.proxy.server.ConnectionIO``,
``mitmproxy.optmanager._Option``, ``mitmproxy.http.Headers``, ``mitmproxy.hooks.Hook``,
``mitmproxy.proxy.layers.http.Http1Server.send``, the ``mitmproxy.addons`` package's
``__init__``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import Any, Final

from ztmcp.compat import Support

logger = logging.getLogger("ztmcp.proxy")

# The mitmproxy versions these patches were tested on (tests/compat/test_mitmproxy.py).
MITMPROXY: Final = Support("mitmproxy", ("12.2.3",))


def _skipped(what: str) -> bool:
    """True (and say so at debug level) when the installed mitmproxy is not a tested one."""
    if MITMPROXY.active():
        return False
    logger.debug("mitmproxy %s is untested: %s left as it is", MITMPROXY.version(), what)
    return True


class CoalescingWriter:
    """An ``asyncio.StreamWriter`` whose writes in one loop iteration leave as one ``send``.

    Only the cut into ``send`` calls differs: whatever mitmproxy's own writer does with a write
    (send it, buffer it, drop it on a lost connection, raise after ``write_eof``) it does here
    with the same bytes in the same order. A write after ``write_eof`` or ``close`` goes
    straight through, so it fails, or not, just as it would unpatched."""

    __slots__ = ("_ended", "_parts", "_scheduled", "_writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._parts: list[bytes] = []
        self._scheduled = False
        self._ended = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._ended or self._writer.is_closing():
            self.flush()
            self._writer.write(data)
            return
        self._parts.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            self._writer.write(data)

    async def drain(self) -> None:
        self.flush()
        await self._writer.drain()

    def write_eof(self) -> None:
        self.flush()
        self._ended = True
        self._writer.write_eof()

    def close(self) -> None:
        self.flush()
        self._ended = True
        self._writer.close()

    def is_closing(self) -> bool:
        return self._writer.is_closing()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, transport, wait_closed, …
        return getattr(self._writer, name)


@contextlib.contextmanager
def coalesced_writes() -> Iterator[bool]:
    """While inside, mitmproxy's TCP connections write through ``CoalescingWriter``."""
    if _skipped("writes"):
        yield False
        return
    from mitmproxy.proxy import server as server_module

    server: Any = server_module  # ConnectionIO is replaced for the duration
    original = getattr(server, "ConnectionIO", None)
    if original is None or "writer" not in getattr(original, "__dataclass_fields__", {}):
        logger.debug("mitmproxy's ConnectionIO changed: writes left as they are")
        yield False
        return

    class CoalescingIO(original):  # type: ignore[misc, valid-type]
        def __setattr__(self, name: str, value: Any) -> None:
            if name == "writer" and isinstance(value, asyncio.StreamWriter):
                value = CoalescingWriter(value)
            super().__setattr__(name, value)

    server.ConnectionIO = CoalescingIO
    try:
        yield True
    finally:
        server.ConnectionIO = original


# What ``copy.deepcopy`` hands back unchanged (its ``_deepcopy_atomic`` types that options use).
_ATOMIC = frozenset({str, int, float, bool, bytes, type(None)})


@contextlib.contextmanager
def plain_option_reads() -> Iterator[bool]:
    """While inside, reading an immutable option value skips ``copy.deepcopy``."""
    if _skipped("option reads"):
        yield False
        return
    import copy

    from mitmproxy import optmanager

    option: Any = getattr(optmanager, "_Option", None)
    unset = getattr(optmanager, "unset", None)
    original = getattr(option, "current", None)
    if original is None or unset is None or "_default" not in getattr(option, "__slots__", ()):
        logger.debug("mitmproxy's _Option changed: option reads left as they are")
        yield False
        return

    def current(self: Any) -> Any:
        value = self._default if self.value is unset else self.value
        return value if type(value) in _ATOMIC else copy.deepcopy(value)

    option.current = current
    try:
        yield True
    finally:
        option.current = original


@contextlib.contextmanager
def direct_header_lookups() -> Iterator[bool]:
    """While inside, ``Headers`` lookups (``get``, ``[]``, ``in``, ``get_all``) compare against
    the field names lower-cased once per ``fields`` tuple, with the same results as mitmproxy's
    own (which lower-cases every name through two calls on every lookup)."""
    if _skipped("header lookups"):
        yield False
        return
    from mitmproxy import http

    headers: Any = getattr(http, "Headers", None)
    own = getattr(headers, "__dict__", {})
    names = ("get_all", "__getitem__", "__contains__", "get")
    if headers is None or "get_all" not in own or any(n in own for n in names[1:]):
        logger.debug("mitmproxy's Headers changed: header lookups left as they are")
        yield False
        return
    if not _same_lookups(headers):
        logger.debug("mitmproxy's Headers give other answers: header lookups left as they are")
        yield False
        return
    original: Callable[[Any, Any], list[str]] = own["get_all"]

    def get_all(self: Any, name: str | bytes) -> list[str]:
        if type(self) is not headers:  # a subclass may fold names its own way (_kconv)
            return original(self, name)
        if isinstance(name, str):
            key = name.encode("utf-8", "surrogateescape").lower()
        elif isinstance(name, bytes):
            key = name.lower()
        else:  # None, a number: whatever mitmproxy does with it (an error)
            return original(self, name)
        fields = self.fields
        cached = self.__dict__.get(_LOWERED)
        if cached is None or cached[0] is not fields:  # new, or fields replaced since
            cached = self.__dict__[_LOWERED] = (fields, tuple(k.lower() for k, _ in fields))
        keys = cached[1]
        count = keys.count(key)
        if count == 0:  # most lookups: a header that is not there
            return []
        if count == 1:
            return [fields[keys.index(key)][1].decode("utf-8", "surrogateescape")]
        return [
            fields[i][1].decode("utf-8", "surrogateescape") for i, k in enumerate(keys) if k == key
        ]

    def getitem(self: Any, name: str | bytes) -> str:
        values = get_all(self, name)
        if not values:
            raise KeyError(name)
        return ", ".join(values)

    def contains(self: Any, name: Any) -> bool:
        return bool(get_all(self, name))

    def get(self: Any, name: str | bytes, default: Any = None) -> Any:
        values = get_all(self, name)
        return ", ".join(values) if values else default

    headers.get_all = get_all
    headers.__getitem__ = getitem
    headers.__contains__ = contains
    headers.get = get
    try:
        yield True
    finally:
        headers.get_all = original
        for name in names[1:]:
            with contextlib.suppress(AttributeError):
                delattr(headers, name)


# Where a Headers object keeps its lower-cased names, with the ``fields`` tuple they belong to.
_LOWERED = "_ztmcp_lowered_names"


def _same_lookups(headers: Any) -> bool:
    """mitmproxy's own answers on a probe: folded values, any case, str or bytes names."""
    probe = headers([(b"Content-Type", b"a"), (b"X-Two", b"1"), (b"x-two", b"2")])
    try:
        return (
            probe.get("content-type") == "a"
            and probe[b"X-TWO"] == "1, 2"
            and probe.get_all("x-two") == ["1", "2"]
            and "CONTENT-type" in probe
            and probe.get("missing", "-") == "-"
        )
    except Exception:
        return False


@contextlib.contextmanager
def cached_hook_args() -> Iterator[bool]:
    """While inside, ``Hook.args()`` reads each hook class's field names from a table instead
    of calling ``dataclasses.fields`` on every event (about 17 events a call)."""
    if _skipped("hook arguments"):
        yield False
        return
    import dataclasses

    from mitmproxy import hooks

    hook: Any = getattr(hooks, "Hook", None)
    original = getattr(hook, "__dict__", {}).get("args")
    if original is None:
        logger.debug("mitmproxy's Hook changed: hook arguments left as they are")
        yield False
        return
    names: dict[type, tuple[str, ...]] = {}

    def args(self: Any) -> list[Any]:
        cls = type(self)
        fields = names.get(cls)
        if fields is None:
            fields = names[cls] = tuple(f.name for f in dataclasses.fields(self))
        return [getattr(self, name) for name in fields]

    hook.args = args
    try:
        yield True
    finally:
        hook.args = original


# The answer a client gets, per request, should its flow end in an error before any response
# went out (``error_answers``). Keyed weakly: an answer that is never sent goes with its request.
_ERROR_ANSWERS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def answer_error_with(request: Any, response: Any) -> None:
    """Should the flow of ``request`` (a ``mitmproxy.http.Request``) end in an error before any
    response went out, its client gets ``response`` (a ``mitmproxy.http.Response``) instead of
    mitmproxy's HTML error page, inside ``error_answers``; outside it (or on an untested
    mitmproxy) the page goes out as before. Call it from an addon's ``error`` hook."""
    _ERROR_ANSWERS[request] = response


class _Installed:
    """The one ``Http1Server.send`` wrapper and how many ``error_answers`` blocks use it (several
    proxies in one process, each addon from its ``running`` to its ``done``)."""

    lock = threading.Lock()
    users = 0
    original: Any = None


@contextlib.contextmanager
def error_answers() -> Iterator[bool]:
    """While inside, an HTTP/1 client whose flow failed before any response went out gets the
    answer registered with ``answer_error_with`` (status, headers, body, and ``Connection:
    close``) where mitmproxy sends its HTML error page; then the connection is closed, as
    mitmproxy does. Without a registered answer, mitmproxy's own page. (HTTP/2 clients keep
    mitmproxy's page: ``ztmcp proxy`` listens for plain HTTP, and h2c is disabled.) Blocks may
    nest and overlap: the wrapper is installed by the first and removed by the last."""
    if _skipped("error answers"):
        yield False
        return
    from mitmproxy.connection import ConnectionState
    from mitmproxy.net.http import http1 as http1_module
    from mitmproxy.proxy import commands
    from mitmproxy.proxy.layers import http as layers

    http1: Any = http1_module  # its assemble functions are untyped
    server: Any = getattr(layers, "Http1Server", None)
    protocol_error: Any = getattr(layers, "ResponseProtocolError", None)
    with _Installed.lock:
        if _Installed.users == 0:
            original = getattr(server, "__dict__", {}).get("send")
            if original is None or protocol_error is None:
                logger.debug("mitmproxy's Http1Server changed: error answers left as they are")
                original = None
            else:

                def send(self: Any, event: Any) -> Iterator[Any]:
                    if isinstance(event, protocol_error) and self.response is None and self.request:
                        answer = _ERROR_ANSWERS.pop(self.request, None)
                        writable = self.conn.state & ConnectionState.CAN_WRITE
                        status = event.code.http_status_code()
                        if answer is not None and writable and status is not None:
                            answer.headers["connection"] = "close"
                            yield commands.SendData(self.conn, http1.assemble_response(answer))
                            yield commands.CloseConnection(self.conn)
                            return
                    yield from original(self, event)

                server.send = send
                _Installed.original = original
        active = _Installed.original is not None
        if active:
            _Installed.users += 1
    if not active:
        yield False
        return
    try:
        yield True
    finally:
        with _Installed.lock:
            _Installed.users -= 1
            if _Installed.users == 0:
                server.send = _Installed.original
                _Installed.original = None


def lean_addons() -> bool:
    """Make ``mitmproxy.addons`` a package whose addons import one by one, when asked for.

    Its ``__init__`` imports all 31 default addons (the onboarding app with flask and jinja2,
    proxy auth with ldap3, the flow filter language, …) for ``default_addons()``, and
    ``mitmproxy.master`` imports the package (for ``termlog``): a third of what ``ztmcp proxy``
    imports before it listens, for six addons it uses. Here the package is created from its own
    spec without running ``__init__``; ``from mitmproxy.addons import core`` imports just that
    module, as before; reading ``default_addons`` runs the real ``__init__`` then (every addon,
    as unpatched). True when applied: only on a tested mitmproxy, and only before anything
    imported the package (else there is nothing left to save). Not undone: modules stay.
    """
    import sys

    if "mitmproxy.addons" in sys.modules or _skipped("addons package"):
        return False
    import importlib.util

    spec = importlib.util.find_spec("mitmproxy.addons")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        logger.debug("mitmproxy.addons is not a package here: imported as it is")
        return False
    package: Any = importlib.util.module_from_spec(spec)
    loader = spec.loader

    def on_demand(name: str) -> Any:
        if name != "default_addons":  # a submodule: the import system loads it
            raise AttributeError(name)
        del package.__getattr__
        loader.exec_module(package)  # the real __init__, every addon
        return package.default_addons

    package.__getattr__ = on_demand
    sys.modules["mitmproxy.addons"] = package
    import mitmproxy

    mitmproxy.addons = package  # what importing the package would set
    return True
