"""ztmcp's checks inside mitmdump / mitmweb: the same addon class as `ztmcp proxy`.

    mitmdump -s addons/ztmcp_addon.py --mode reverse:http://127.0.0.1:3001 \
        --listen-host 127.0.0.1 --listen-port 8931 [--set ztmcp_name=NAME] \
        [--set ztmcp_policy=FILE] [--set ztmcp_monitor=true] [--set ztmcp_allow_host=H:P]

Then point the MCP client at http://127.0.0.1:8931/mcp. In mitmweb, each flow shows ztmcp's
verdicts: the comment says what was denied, rewritten or flagged and why (the rule), denied
flows are marked, and ``flow.metadata["ztmcp"]`` holds one entry per message.
The audit log is the same as `ztmcp proxy`'s ($ZTMCP_HOME/audit; `ztmcp audit show`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mitmproxy import ctx, http

from ztmcp.adapters.mitm import ZtmcpAddon
from ztmcp.cli.proxy_cmd import ProxyConfig, build_addon, parse_upstream
from ztmcp.errors import ZtmcpError

logger = logging.getLogger("ztmcp")


class ZtmcpEntry:
    """Builds the ztmcp addon once mitmproxy's options are final, then hands it every hook."""

    def __init__(self) -> None:
        self.inner: ZtmcpAddon | None = None
        self._close: Callable[[str], None] | None = None

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
        opts: Any = ctx.options
        modes = [m for m in opts.mode if m.startswith("reverse:")]
        try:
            if len(modes) != 1:
                raise ZtmcpError(
                    "ztmcp needs exactly one reverse proxy mode",
                    hint="run mitmdump with --mode reverse:URL",
                )
            config = ProxyConfig(
                parse_upstream(modes[0].removeprefix("reverse:")),
                name=opts.ztmcp_name or None,
                policy=Path(opts.ztmcp_policy) if opts.ztmcp_policy else None,
                monitor=opts.ztmcp_monitor,
                allow_hosts=tuple(opts.ztmcp_allow_host),
                allow_origins=tuple(opts.ztmcp_allow_origin),
            )
            self.inner, self._close = build_addon(config)
        except ZtmcpError as exc:
            logger.error(f"ztmcp: error: {exc.diagnostics()}")
            master: Any = ctx.master
            master.shutdown()  # fail closed: no proxy without ztmcp's checks
            return
        self.inner.running()

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if self.inner is None:
            flow.response = http.Response.make(503, b"ztmcp: not ready\n")
            return
        self.inner.requestheaders(flow)

    def request(self, flow: http.HTTPFlow) -> None:
        if self.inner is not None:
            self.inner.request(flow)

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        if self.inner is not None:
            self.inner.responseheaders(flow)

    def response(self, flow: http.HTTPFlow) -> None:
        if self.inner is not None:
            self.inner.response(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if self.inner is not None:
            self.inner.error(flow)

    def done(self) -> None:
        if self._close is not None:
            self._close("mitmproxy stopped")
            self._close = None


addons = [ZtmcpEntry()]
