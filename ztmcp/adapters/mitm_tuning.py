"""Four changes to embedded mitmproxy that make ``ztmcp proxy`` cheaper per call, and why.

Measured per proxied ``tools/call`` on the 2-core development machine (docs/proxy.md): an MCP
client made with the official SDK opens a new connection for every POST (it closes each
response as soon as the JSON-RPC answer is in), so mitmproxy's per-connection and per-hook
work is paid on every call, twice over (client side and upstream side).

- ``fast_hooks``: mitmproxy's ``AddonManager`` finds the handlers of a hook by walking every
  addon (and their children) on every event, wrapping each in a coroutine and a context
  manager, and sends an ``update`` event after each flow hook even when no addon listens. A
  call sees about 18 such dispatches. Here each hook name maps to the list of its handlers,
  rebuilt whenever the addon chain changes; errors are still logged through mitmproxy's
  ``safecall`` and ``AddonHalt`` still stops the event. About 0.35 ms of CPU less per call.
- ``coalesced_writes``: mitmproxy writes each piece of a message as its layers produce it
  (request headers, then body; response headers, then each event, then the terminator). On
  loopback every ``send`` wakes the peer, which on a busy machine runs on this core before
  the next piece goes. The writes of one event-loop iteration are joined into one ``send``;
  anything that waits for, ends or half-closes the connection flushes first.
- ``plain_option_reads``: every read of an option (``ctx.options.body_size_limit`` …) returns
  ``copy.deepcopy`` of its value, and mitmproxy's layers read options about 50 times per call.
  For str, int, float, bool, bytes and None, deepcopy returns the very same object, so reads
  of those skip the call; lists and other mutable values are still copied. The same values
  come back, for a little less CPU per call (within the benchmark's noise on latency).
- ``unchecked_messages``: in a Python run without ``-O``, every ``Request`` and ``Response``
  mitmproxy builds walks its dataclass fields and type-checks each against its annotation
  (``MessageData.__post_init__``, inside ``if __debug__:``: a development aid that mitmproxy
  itself drops under ``python -O``). Each call's requests and responses pay it: about 5 % of
  the embedded proxy's CPU per call in a py-spy profile. While active, the check is skipped as under
  ``-O``; the objects are the same. Not ``-O`` itself: that would also drop ``assert``
  statements everywhere, and ``ztmcp`` is started as a console script.

All four touch mitmproxy internals that are not API (``AddonManager.chain``,
``mitmproxy.proxy.server.ConnectionIO``, ``mitmproxy.optmanager._Option``,
``mitmproxy.http.MessageData``): if a mitmproxy release changes them, the tuning is skipped and
everything works as before, only slower (tests/adapters/test_mitm_tuning.py fails loudly so
that it does not go unnoticed). Used by
``ztmcp proxy`` only, never when the addon is loaded into a user's own mitmdump or mitmweb.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Callable, Iterator
from typing import Any

logger = logging.getLogger("ztmcp.proxy")


def fast_hooks(master: Any) -> bool:
    """Give ``master.addons`` a per-hook dispatch table; False when mitmproxy has changed."""
    from mitmproxy import addonmanager, exceptions, flow, hooks

    manager = master.addons
    walk: Any = addonmanager.traverse  # untyped
    if not hasattr(manager, "chain") or not hasattr(addonmanager, "safecall"):
        logger.debug("mitmproxy's AddonManager changed: hook dispatch left as it is")
        return False
    table: dict[str, list[Callable[..., Any]]] = {}
    seen: list[tuple[Any, ...]] = [()]

    def handlers(name: str) -> list[Callable[..., Any]]:
        chain = tuple(manager.chain)
        if chain != seen[0]:  # an addon was added or removed: start again
            table.clear()
            seen[0] = chain
        found = table.get(name)
        if found is None:
            found = []
            for addon in walk(chain):
                func = getattr(addon, name, None)
                if func and callable(func) and not inspect.ismodule(func):
                    found.append(func)
            table[name] = found
        return found

    async def trigger_event(event: Any) -> None:
        funcs = handlers(event.name)
        if not funcs:
            return
        args = event.args()
        for func in funcs:
            try:
                with addonmanager.safecall():
                    result = func(*args)
                    if result is not None and inspect.isawaitable(result):
                        await result
            except exceptions.AddonHalt:
                return

    async def handle_lifecycle(event: Any) -> None:
        await trigger_event(event)
        if handlers("update"):
            message = event.args()[0]
            if isinstance(message, flow.Flow):
                await trigger_event(hooks.UpdateHook([message]))

    manager.trigger_event = trigger_event
    manager.handle_lifecycle = handle_lifecycle
    return True


class CoalescingWriter:
    """An ``asyncio.StreamWriter`` whose writes in one loop iteration leave as one ``send``."""

    __slots__ = ("_parts", "_scheduled", "_writer")

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer
        self._parts: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self._parts.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            if not self._writer.is_closing():
                self._writer.write(data)

    async def drain(self) -> None:
        self.flush()
        await self._writer.drain()

    def write_eof(self) -> None:
        self.flush()
        self._writer.write_eof()

    def close(self) -> None:
        self.flush()
        self._writer.close()

    def is_closing(self) -> bool:
        return self._writer.is_closing()

    def __getattr__(self, name: str) -> Any:  # get_extra_info, transport, wait_closed, …
        return getattr(self._writer, name)


@contextlib.contextmanager
def coalesced_writes() -> Iterator[bool]:
    """While inside, mitmproxy's TCP connections write through ``CoalescingWriter``."""
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
def unchecked_messages() -> Iterator[bool]:
    """While inside, building a ``Request``/``Response`` skips mitmproxy's debug-only type check
    of its fields (what ``python -O`` skips)."""
    from mitmproxy import http

    data: Any = getattr(http, "MessageData", None)
    original = getattr(data, "__dict__", {}).get("__post_init__")
    subclasses = (getattr(http, "RequestData", None), getattr(http, "ResponseData", None))
    if original is None or any(c is None or "__post_init__" in vars(c) for c in subclasses):
        logger.debug("mitmproxy's MessageData changed (or python -O): field checks left alone")
        yield False
        return

    def unchecked(self: Any) -> None:
        return None

    data.__post_init__ = unchecked
    try:
        yield True
    finally:
        data.__post_init__ = original
