"""The event loop ``ztmcp proxy`` runs on: uvloop where it is installed, else asyncio's own.

Why: with every check on, the proxied call's time is mostly Python running mitmproxy and the
checks, and asyncio's pure-Python loop (its selector, transports and callbacks) is a share
of that which uvloop does in C. Measured in paired rounds against the same proxy on
asyncio's loop (docs/proxy.md): about 0.2 ms less per call, the same for the bare embedded
mitmproxy. ``ZTMCP_EVENT_LOOP=asyncio`` picks asyncio's loop (to compare, or to rule uvloop
out); uvloop is not installed on Windows, where asyncio's loop is used.

One fix is needed: mitmproxy's ``Master.run`` installs ``asyncio.eager_task_factory``, and
uvloop calls a task factory with an ``eager_start`` keyword that Python 3.12 and 3.13's
eager factory does not take, so the first task mitmproxy creates would raise ``TypeError``.
The loop here swaps that one factory for one that takes the keyword and builds the same eager
``asyncio.Task``; any other factory is installed as given.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine
from typing import Any, Final

from ztmcp.errors import UsageError

CHOICES: Final = ("uvloop", "asyncio")


def eager_task(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any],
    *,
    eager_start: bool | None = None,
    **kwargs: Any,
) -> asyncio.Task[Any]:
    """``asyncio.eager_task_factory``, also when the loop passes ``eager_start``."""
    eager = True if eager_start is None else eager_start
    return asyncio.Task(coro, loop=loop, eager_start=eager, **kwargs)


def factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for ``asyncio.run`` (None: asyncio's own loop)."""
    wanted = os.environ.get("ZTMCP_EVENT_LOOP", "").strip().lower()
    if wanted and wanted not in CHOICES:
        raise UsageError(
            f"ZTMCP_EVENT_LOOP={wanted[:40]!r} is not an event loop ztmcp knows",
            hint=f"use one of {', '.join(CHOICES)}, or unset it",
        )
    if wanted == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if wanted == "uvloop":
            raise UsageError(
                "ZTMCP_EVENT_LOOP=uvloop, but uvloop is not installed",
                hint="install uvloop (not available on Windows), or unset ZTMCP_EVENT_LOOP",
            ) from None
        return None

    class Loop(uvloop.Loop):
        def set_task_factory(self, task_factory: Any) -> None:
            if task_factory is asyncio.eager_task_factory:
                task_factory = eager_task
            super().set_task_factory(task_factory)

    return Loop
