"""``ztmcp proxy URL``: an HTTP MCP server behind ztmcp's checks, through embedded mitmproxy.

mitmproxy runs in this process in reverse-proxy mode on 127.0.0.1 only, with the ztmcp addon
(``ztmcp.adapters.mitm``) deciding on every message. mitmproxy is imported only here, when the
command runs, so the rest of the CLI starts fast.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ztmcp import names
from ztmcp.cli.render import fail
from ztmcp.cli.values import argument, option
from ztmcp.errors import UsageError, ZtmcpError

if TYPE_CHECKING:
    from ztmcp.adapters.mitm import ZtmcpAddon
    from ztmcp.runtime import Upstream

# asyncio, the runtime and mitmproxy load when the command runs: `ztmcp --help` and every
# other command start without them.
__all__ = ["ProxyConfig", "build_addon", "register", "serve"]

LISTEN_HOST = "127.0.0.1"  # ztmcp listens on loopback only
START_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ProxyConfig:
    upstream: Upstream
    port: int = 0
    name: str | None = None
    policy: Path | None = None
    monitor: bool = False
    allow_hosts: tuple[str, ...] = ()
    allow_origins: tuple[str, ...] = ()
    timeout: int = 300
    upstream_headers: Mapping[str, str] = field(default_factory=dict)


def _say(text: str) -> None:
    from ztmcp.terminal import safe_lines

    print(f"ztmcp: {safe_lines(text)}", file=sys.stderr, flush=True)


class _StartupErrors(logging.Handler):
    """Collects mitmproxy's error records (a port in use, a bad option) for a one-line error."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.errors: list[str] = []
        self.started = False

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.ERROR:
            return
        text = record.getMessage().splitlines()[0] if record.getMessage() else record.name
        if not self.started:
            self.errors.append(text)
        else:
            _say(f"mitmproxy: {text[:300]}")


def build_addon(config: ProxyConfig) -> tuple[ZtmcpAddon, Callable[[str], None]]:
    """The addon over the runtime's pipeline; and how to close it (conversations, then the
    pins and the audit log)."""
    from ztmcp.runtime import ProxySettings, build

    runtime = build(
        config.upstream,
        policy_file=config.policy,
        name=config.name,
        monitor=config.monitor,
        say=_say,
        upstream_headers=config.upstream_headers,
    )
    try:
        addon = runtime.proxy_addon(ProxySettings(config.allow_hosts, config.allow_origins))
    except BaseException:
        runtime.close("proxy failed to start")
        raise

    def close(reason: str) -> None:
        addon.close_all(reason)
        runtime.close(reason)

    return addon, close


# The mitmproxy addons a reverse proxy needs. mitmproxy's default_addons() adds some 25 more
# (playback, map/modify, export, onboarding, …) that all sit idle here but are still called on
# every hook of every flow: leaving them out saves a measurable share of each call.
_MITM_ADDONS = (
    ("core", "Core"),
    ("proxyserver", "Proxyserver"),
    ("next_layer", "NextLayer"),
    ("tlsconfig", "TlsConfig"),
    ("disable_h2c", "DisableH2C"),
    ("block", "Block"),
)


def _mitm_addons(importlib: Any) -> list[Any]:
    if os.environ.get("ZTMCP_MITM_DEFAULT_ADDONS"):  # for comparing against the full set
        return list(importlib.import_module("mitmproxy.addons").default_addons())
    return [
        getattr(importlib.import_module(f"mitmproxy.addons.{module}"), name)()
        for module, name in _MITM_ADDONS
    ]


def _tcp_only(spec: str) -> None:
    """Serve the reverse mode ``spec`` over TCP only, never UDP.

    For ``reverse:https://`` mitmproxy also listens on UDP, in case HTTP/3 arrives there. ztmcp
    checks HTTP/1 and HTTP/2 only, so that listener would be a path to the upstream that skips
    every check. It also starts mitmproxy_rs's tokio threads, which crash Python 3.13 at exit
    when they wake during finalisation (mitmproxy#7409). ``ProxyMode.parse`` is cached, so the
    instance changed here is the one mitmproxy's proxyserver builds its listeners from; if that
    stops being true, this fails closed rather than listen on UDP.
    """
    from mitmproxy.proxy.mode_specs import ProxyMode

    mode: Any = ProxyMode.parse(spec)
    if mode.transport_protocol != "tcp":
        object.__setattr__(mode, "transport_protocol", "tcp")
    if ProxyMode.parse(spec).transport_protocol != "tcp":
        raise UsageError(
            "cannot keep the proxy to TCP with this mitmproxy version",
            hint="install the mitmproxy version in ztmcp's uv.lock",
        )


async def serve(config: ProxyConfig, *, on_ready: Callable[[str], None] | None = None) -> int:
    """Run the proxy until SIGINT/SIGTERM (or ``stop``); returns the exit code."""
    import asyncio
    import contextlib
    import gc
    import importlib
    import signal

    from ztmcp.compat.mitmproxy import lean_addons

    if not os.environ.get("ZTMCP_MITM_NO_TUNING") and not os.environ.get(
        "ZTMCP_MITM_DEFAULT_ADDONS"
    ):
        lean_addons()  # before anything imports mitmproxy.addons: its six addons only
    from mitmproxy import exceptions, options
    from mitmproxy.master import Master

    from ztmcp.adapters.mitm import HostPolicy
    from ztmcp.compat.mitmproxy import (
        cached_hook_args,
        coalesced_writes,
        direct_header_lookups,
        plain_option_reads,
    )

    addon, close = build_addon(config)
    errors = _StartupErrors()
    mitm_logger = logging.getLogger("mitmproxy")
    mitm_logger.addHandler(errors)
    mitm_logger.propagate = False
    ready = asyncio.Event()

    class _Ready:
        def running(self) -> None:
            ready.set()

    reason = "proxy stopped"
    tuning = contextlib.ExitStack()
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:  # from here on, a signal is a clean stop
        loop.add_signal_handler(sig, stop.set)
    try:
        # mitmproxy's master, options and addons are untyped: handled as Any.
        opts: Any = options.Options()
        master: Any = Master(opts)
        master.addons.add(*_mitm_addons(importlib))
        master.addons.add(addon, _Ready())
        if not os.environ.get("ZTMCP_MITM_NO_TUNING"):  # for comparing against plain mitmproxy
            tuning.enter_context(coalesced_writes())
            tuning.enter_context(plain_option_reads())
            tuning.enter_context(direct_header_lookups())
            tuning.enter_context(cached_hook_args())
        spec = f"reverse:{config.upstream.origin}"
        _tcp_only(spec)
        try:
            opts.update(
                mode=[spec],
                listen_host=LISTEN_HOST,
                listen_port=config.port,
                keep_host_header=True,  # the client's Host is checked by ztmcp, then replaced
                body_size_limit=str(addon.max_bytes),
                tcp_timeout=config.timeout,
                ssl_insecure=False,  # upstream TLS is verified
                http3=False,
                # Connect upstream only for a request that passed the checks: with "eager", a
                # down upstream closed each client connection before a word was said.
                connection_strategy="lazy",
            )
        except exceptions.OptionsError as exc:
            raise UsageError(f"cannot configure the proxy: {exc}") from None
        run = asyncio.create_task(master.run())
        waiter = asyncio.create_task(ready.wait())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait(
            {run, waiter, stopper}, timeout=START_TIMEOUT, return_when="FIRST_COMPLETED"
        )
        waiter.cancel()
        if stop.is_set():  # interrupted while starting
            reason = "interrupted"
            master.shutdown()
            await asyncio.wait({run}, timeout=5)
            return 0
        proxy = master.addons.get("proxyserver")
        addrs = proxy.listen_addrs() if ready.is_set() else []
        errors.started = True
        if not addrs:
            master.shutdown()
            await asyncio.wait({run}, timeout=5)
            cause = errors.errors[0] if errors.errors else "it did not start in time"
            if "in use" in cause.lower():
                hint = f"port {config.port} is taken: pick another with --port, or --port 0"
            else:
                hint = "check --port and the upstream URL"
            reason = "proxy failed to start"
            raise UsageError(f"cannot listen on {LISTEN_HOST}:{config.port}: {cause}", hint=hint)
        port = int(addrs[0][1])
        addon.hosts = HostPolicy.loopback(port, config.allow_hosts, config.allow_origins)
        local = f"http://{LISTEN_HOST}:{port}{config.upstream.path}"
        # Everything loaded so far lives as long as the proxy: take it out of the collector's
        # reach, so that the full collections that per-call garbage sets off stay short.
        gc.collect()
        gc.freeze()
        from ztmcp.cli.hints import probe, upstream_down

        down = probe(config.upstream.shown)
        if down is not None:  # say so at start, not by silence on the first call
            print(upstream_down(config.upstream.shown, down), file=sys.stderr, flush=True)
        _say(f"proxying {local} -> {config.upstream.shown}")
        if on_ready is not None:
            on_ready(local)
        _warm_up_in_background()  # listening already: the first call need not compile them

        await asyncio.wait({run, stopper}, return_when="FIRST_COMPLETED")
        stopper.cancel()
        if not stop.is_set():
            reason = "mitmproxy stopped unexpectedly"
            _say(reason)
            return 1
        reason = "interrupted"
        await proxy.servers.update([])  # stop listening first, then end the master
        master.shutdown()
        await asyncio.wait({run}, timeout=10)
        return 0
    finally:
        gc.unfreeze()
        tuning.close()
        for sig in signals:
            loop.remove_signal_handler(sig)
        mitm_logger.removeHandler(errors)
        close(reason)


def _warm_up_in_background() -> None:
    from ztmcp.runtime import warm_up_in_background

    warm_up_in_background()


def register(app: typer.Typer) -> None:
    """Add the ``proxy`` command to ``app``."""

    @app.command(
        "proxy",
        help=(
            "Put an HTTP MCP server (Streamable HTTP or legacy HTTP+SSE) behind ztmcp's checks.\n\n"
            "Starts a local reverse proxy on 127.0.0.1 (mitmproxy, in this process) and prints "
            "the URL to give your MCP client instead of URL. Every JSON-RPC message both ways "
            "is checked, fail-closed; responses are streamed and checked event by event; "
            "every decision is in the audit log (`ztmcp audit show`).\n\n"
            "Example: ztmcp proxy --port 8931 https://mcp.example.com/mcp"
        ),
    )
    def proxy(
        url: Annotated[
            str, argument(names.URL, "URL", help="The upstream MCP endpoint (http or https).")
        ],
        port: Annotated[
            int,
            typer.Option(
                "--port", "-p", min=0, max=65535, help="Local port on 127.0.0.1 (0: any free one)."
            ),
        ] = 0,
        name: Annotated[
            str | None,
            option(
                names.SERVER,
                "--name",
                help="Server name for policy, pins and audit (default: host).",
            ),
        ] = None,
        policy: Annotated[
            Path | None,
            typer.Option(
                "--policy", metavar="FILE", help="Policy file (default: ./ztmcp.toml if present)."
            ),
        ] = None,
        monitor: Annotated[
            bool, typer.Option("--monitor", help="Record what the checks find but block nothing.")
        ] = False,
        allow_host: Annotated[
            list[str] | None,
            option(
                names.HOST,
                "--allow-host",
                metavar="HOST:PORT",
                help="Also accept this Host header (default: 127.0.0.1/localhost:PORT only).",
            ),
        ] = None,
        allow_origin: Annotated[
            list[str] | None,
            option(
                names.ORIGIN,
                "--allow-origin",
                metavar="ORIGIN",
                help="Also accept this Origin (default: none or a localhost origin).",
            ),
        ] = None,
        timeout: Annotated[
            int,
            typer.Option(
                "--timeout",
                min=1,
                metavar="SECONDS",
                help="Close a connection (a stalled upstream, an idle stream) after this "
                "long without traffic.",
            ),
        ] = 300,
    ) -> None:
        import asyncio

        from ztmcp.adapters import event_loop
        from ztmcp.runtime import parse_upstream

        try:
            config = ProxyConfig(
                parse_upstream(url),
                port=port,
                name=name,
                policy=policy,
                monitor=monitor,
                allow_hosts=tuple(allow_host or ()),
                allow_origins=tuple(allow_origin or ()),
                timeout=timeout,
            )
            loop_factory = event_loop.factory()  # before serve(): a bad choice starts nothing
            code = asyncio.run(serve(config), loop_factory=loop_factory)
        except ZtmcpError as exc:
            fail(exc)
        except KeyboardInterrupt:
            code = 0
        raise typer.Exit(code)
