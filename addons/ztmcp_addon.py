"""ztmcp's checks inside mitmdump / mitmweb: the same addon and pipeline as `ztmcp proxy`.

    mitmdump -s addons/ztmcp_addon.py --mode reverse:http://127.0.0.1:3001 \
        --listen-host 127.0.0.1 --listen-port 8931 [--set ztmcp_name=NAME] \
        [--set ztmcp_policy=FILE] [--set ztmcp_monitor=true] [--set ztmcp_allow_host=H:P]

Then point the MCP client at http://127.0.0.1:8931/mcp. In mitmweb, each flow shows ztmcp's
verdicts: the comment says what was denied, rewritten or flagged and why (the rule), denied
flows are marked, and ``flow.metadata["ztmcp"]`` holds one entry per message.
The audit log is the same as `ztmcp proxy`'s ($ZTMCP_HOME/audit; `ztmcp audit show`).

This script only declares ztmcp's options. Once mitmproxy's options are final, it builds the
pipeline through ``ztmcp.runtime`` (as `ztmcp proxy` does) and registers the real addon with
mitmproxy, which then calls its hooks itself (a held call's coroutine is awaited by mitmproxy,
every hook runs through the addon's fail-closed guard). Until then, and for good if the
pipeline cannot be built, every request is refused: no proxy without ztmcp's checks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

from ztmcp.adapters.mitm import ZtmcpAddon
from ztmcp.errors import ZtmcpError
from ztmcp.names import HOST, ORIGIN, SERVER, check
from ztmcp.runtime import ProxySettings, Runtime, build, parse_upstream

logger = logging.getLogger("ztmcp")


class ZtmcpEntry:
    """Declares the options; builds and registers the ztmcp addon once they are known."""

    def __init__(self) -> None:
        self.addon: ZtmcpAddon | None = None
        self.runtime: Runtime | None = None

    def load(self, loader: Any) -> None:
        loader.add_option("ztmcp_name", str, "", "ztmcp: server name (default: upstream host)")
        loader.add_option("ztmcp_policy", str, "", "ztmcp: policy file (default ./ztmcp.toml)")
        loader.add_option("ztmcp_monitor", bool, False, "ztmcp: record findings, block nothing")
        loader.add_option(
            "ztmcp_allow_host", Sequence[str], [], "ztmcp: extra accepted Host values"
        )
        loader.add_option(
            "ztmcp_allow_origin", Sequence[str], [], "ztmcp: extra accepted Origin values"
        )

    def running(self) -> None:
        if self.addon is not None:
            return
        opts: Any = ctx.options
        master: Any = ctx.master
        modes = [m for m in opts.mode if m.startswith("reverse:")]
        try:
            if len(modes) != 1:
                raise ZtmcpError(
                    "ztmcp needs exactly one reverse proxy mode",
                    hint="run mitmdump with --mode reverse:URL",
                )
            # Read as `ztmcp proxy` reads --name, --allow-host and --allow-origin.
            name = check(SERVER, "ztmcp_name", opts.ztmcp_name) if opts.ztmcp_name else None
            hosts = tuple(check(HOST, "ztmcp_allow_host", h) for h in opts.ztmcp_allow_host)
            origins = tuple(check(ORIGIN, "ztmcp_allow_origin", o) for o in opts.ztmcp_allow_origin)
            self.runtime = build(
                parse_upstream(modes[0].removeprefix("reverse:")),
                policy_file=Path(opts.ztmcp_policy) if opts.ztmcp_policy else None,
                name=name,
                monitor=opts.ztmcp_monitor,
                say=lambda text: logger.warning(f"ztmcp: {text}"),
            )
            addon = self.runtime.proxy_addon(ProxySettings(hosts, origins))
            master.addons.add(addon)  # mitmproxy calls its hooks from now on
            addon.running()
        except Exception as exc:
            text = exc.diagnostics() if isinstance(exc, ZtmcpError) else type(exc).__name__
            logger.error(f"ztmcp: error: {text}")
            self._close("ztmcp failed to start")
            master.shutdown()  # fail closed: no proxy without ztmcp's checks
            return
        self.addon = addon

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if self.addon is None:  # not built yet, or failed: nothing goes through unchecked
            flow.response = http.Response.make(503, b"ztmcp: not ready\n")

    def done(self) -> None:
        self._close("mitmproxy stopped")

    def _close(self, reason: str) -> None:
        addon, self.addon = self.addon, None
        if addon is not None:
            addon.close_all(reason)
            master: Any = ctx.master
            if addon in master.addons.chain:  # a reloaded script must not leave it behind
                master.addons.remove(addon)
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            runtime.close(reason)


addons = [ZtmcpEntry()]
