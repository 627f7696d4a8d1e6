"""An embedded mitmproxy in regular-proxy mode on loopback, as the sandbox's egress gate and
``ztmcp watch`` run it: built with the few addons they need, started until it listens,
stopped. Each caller adds its own addon and settings; this is only the shared lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

ADDONS: Final = (
    ("core", "Core"),
    ("proxyserver", "Proxyserver"),
    ("next_layer", "NextLayer"),
    ("tlsconfig", "TlsConfig"),
)
START_TIMEOUT: Final = 30.0


def build(confdir: Path, addon: object, **settings: Any) -> Any:
    """A ``Master`` (untyped: mitmproxy's options are) listening on 127.0.0.1, a free port,
    connecting upstream lazily, no HTTP/3 and no raw TCP; ``settings`` override or add."""
    from mitmproxy import options
    from mitmproxy.master import Master

    logging.getLogger("mitmproxy").propagate = False
    opts: Any = options.Options(confdir=str(confdir))
    master: Any = Master(opts)
    master.addons.add(
        *(getattr(importlib.import_module(f"mitmproxy.addons.{m}"), n)() for m, n in ADDONS)
    )
    master.addons.add(addon)
    opts.update(
        mode=["regular"],
        listen_host="127.0.0.1",
        listen_port=0,
        connection_strategy="lazy",
        http3=False,
        rawtcp=False,
    )
    if settings:
        opts.update(**settings)
    return master


async def start(
    master: Any, *, stopped: Callable[[], bool] = lambda: False
) -> tuple[asyncio.Task[Any], int | None]:
    """Run ``master`` until it listens: its task and port (None when it did not listen within
    ``START_TIMEOUT``, stopped early or failed; the master is shut down then)."""
    run = asyncio.create_task(master.run())
    proxy = master.addons.get("proxyserver")
    for _ in range(int(START_TIMEOUT * 100)):
        await asyncio.sleep(0.01)
        if run.done() or proxy.listen_addrs() or stopped():
            break
    addrs = proxy.listen_addrs()
    if not addrs:
        master.shutdown()
        return run, None
    return run, int(addrs[0][1])


async def stop(master: Any, run: asyncio.Task[Any]) -> None:
    """Stop listening, shut down, and wait (bounded) for the master's task to end."""
    await master.addons.get("proxyserver").servers.update([])
    master.shutdown()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(run, 5)
