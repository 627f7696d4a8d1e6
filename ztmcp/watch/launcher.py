"""``ztmcp watch``: run an agent with its HTTP(S) traffic through an in-process mitmproxy.

mitmproxy runs in regular (forward) proxy mode on a thread, on 127.0.0.1 only, and answers
only the agent: the proxy URL the agent gets carries a per-run token (``Proxy-Authorization``),
so another local process that finds the port gets a 407. The agent gets ``HTTPS_PROXY`` and
``HTTP_PROXY`` (``NO_PROXY`` keeps loopback direct, so local MCP servers work as before), a CA
bundle (the system's CAs, then the per-user ztmcp CA of ``sandbox/ca.py``) in ``SSL_CERT_FILE``,
``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE`` and ``NODE_EXTRA_CA_CERTS``, and its identity in
``ZTMCP_AGENT`` for the ``ztmcp run`` processes it starts. Upstream TLS is verified against
the system's CAs, or only against ``--upstream-ca`` when given (a private gateway, a test).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ztmcp import identity
from ztmcp.errors import UsageError
from ztmcp.sandbox import ca
from ztmcp.state import paths as state_paths
from ztmcp.state.audit import AuditLog
from ztmcp.watch import node
from ztmcp.watch.addon import Resolve, WatchAddon
from ztmcp.watch.policy import WatchPolicy
from ztmcp.watch.userturns import UserTurns

START_TIMEOUT: Final = 30.0
NO_PROXY: Final = "localhost,127.0.0.1,::1"
_RESOLVE: Final = re.compile(r"^([^:\s]+):(\d{1,5}):(\[[0-9A-Fa-f:.]+\]|[^:\s]+)(?::(\d{1,5}))?$")


def parse_resolve(spec: str) -> Resolve:
    """``HOST:PORT:ADDRESS[:PORT]`` (curl's ``--resolve``, plus an optional new port)."""
    found = _RESOLVE.match(spec)
    if (
        not found
        or not (0 < int(found[2]) < 65536)
        or (found[4] is not None and not 0 < int(found[4]) < 65536)
    ):
        raise UsageError(
            f"--resolve {spec!r} is not HOST:PORT:ADDRESS[:PORT]",
            hint="e.g. --resolve api.openai.com:443:10.0.0.5 or …:127.0.0.1:8443",
        )
    port = int(found[2])
    return Resolve(found[1].lower(), port, found[3].strip("[]"), int(found[4] or port))


def _system_cafile() -> str:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.isfile(candidate):
            return candidate
    import certifi

    return str(certifi.where())


@dataclass(frozen=True, slots=True)
class Options:
    command: list[str]
    policy: WatchPolicy
    name: str | None = None
    resolve: tuple[Resolve, ...] = ()
    upstream_ca: Path | None = None


class Proxy:
    """mitmproxy with the watch addon, on a thread; ``close()`` stops it."""

    def __init__(self, addon: WatchAddon, confdir: Path, upstream_ca: Path | None) -> None:
        self.addon = addon
        self.confdir = confdir
        self.upstream_ca = upstream_ca
        self.port = 0
        self._ready = threading.Event()
        self._failure: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="ztmcp-watch", daemon=True)

    def start(self) -> int:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT) or self._failure or not self.port:
            self.close()
            raise UsageError(
                f"cannot start the watch proxy: {self._failure or 'timed out'}",
                hint="the agent was not started",
            )
        return self.port

    def _main(self) -> None:
        from ztmcp.compat.mitmproxy import coalesced_writes

        try:
            # one send per event-loop turn: a request's headers and body leave together
            # (else Nagle and the peer's delayed ACK hold the body back on every call)
            with coalesced_writes():
                asyncio.run(self._serve())
        except BaseException as exc:
            self._failure = self._failure or f"{type(exc).__name__}: {exc}"
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        from ztmcp.adapters import regular

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        master = regular.build(
            self.confdir,
            self.addon,
            ssl_verify_upstream_trusted_ca=str(self.upstream_ca or _system_cafile()),
        )
        run, port = await regular.start(master)
        if port is None:
            self._failure = "mitmproxy did not listen"
            return
        self.port = port
        self._ready.set()
        await self._stop.wait()
        await regular.stop(master, run)

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread.is_alive():
            self._thread.join(10)


def agent_env(
    base: dict[str, str], port: int, token: str, bundle: Path, agent: identity.Identity
) -> dict[str, str]:
    """The agent's environment: the proxy (with its token), the CA bundle, the identity."""
    url = f"http://ztmcp:{token}@127.0.0.1:{port}"
    env = dict(base)
    for key in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        env[key] = url
    for key in ("NO_PROXY", "no_proxy"):
        env[key] = NO_PROXY
    env.pop("ALL_PROXY", None)
    env.pop("all_proxy", None)
    for key in ca.BUNDLE_ENV:
        env[key] = str(bundle)
    env[identity.ENV] = agent.to_env()
    env["NODE_USE_ENV_PROXY"] = "1"  # Node 24+: fetch honours HTTPS_PROXY only when asked
    return env


def flow_on(cwd: Path | None = None) -> bool:
    """Whether the ``ztmcp run`` processes the agent starts have the flow check, as far as the
    policy they would load here says (the user config, a project ``ztmcp.toml``). A policy that
    cannot be read counts as on: recording the person's turns only ever vouches their words."""
    from ztmcp.errors import ZtmcpError
    from ztmcp.policy import load_policy

    try:
        policy = load_policy(
            None, cwd=cwd or Path.cwd(), user_config=state_paths.user_config(), say=lambda _: None
        )
    except ZtmcpError:
        return True
    return "flow" in policy.checks


def user_turns(agent: identity.Identity) -> UserTurns | None:
    """The person's turns go to the run of the agent name ``ztmcp run`` will use (from the
    identity in ``ZTMCP_AGENT``); none when the flow check is off."""
    if not flow_on():
        return None
    from ztmcp.behaviour.edge import run_agent

    return UserTurns(run_agent(None, {identity.ENV: agent.to_env()}))


def run(options: Options) -> int:
    """Start the proxy, run the agent, wait for it; the agent's exit status."""
    if not options.command or shutil.which(options.command[0]) is None:
        raise UsageError(
            f"cannot find the agent's command {options.command[0] if options.command else ''!r}",
            hint="ztmcp watch [--name AGENT] -- CMD ARGS…",
        )
    if options.name is None and options.policy.name is None:  # named by its command
        from ztmcp.names import AGENT, check

        check(AGENT, "the agent (its command's name; give --name)", Path(options.command[0]).name)
    agent = identity.observe(options.command, options.name or options.policy.name)
    authority = ca.ensure(state_paths.home())
    log = AuditLog.create(state_paths.audit_dir(), f"watch-{agent.name}")
    fields = agent.fields()
    turns = user_turns(agent)
    log.post(
        {
            "event": "watch.start",
            **fields,
            "process.command": options.command[0],
            "ztmcp.user_turns": turns is not None,  # the person's turns go to the agent run
        }
    )
    addon = WatchAddon(options.policy, log.post, fields, options.resolve, user_turns=turns)
    private = Path(tempfile.mkdtemp(prefix="ztmcp-watch-"))
    os.chmod(private, 0o700)
    proxy = Proxy(addon, authority.confdir, options.upstream_ca)
    background = None
    if options.policy.otlp_endpoint:  # off the hot path: reads the files, never waits traffic
        from ztmcp.export.otlp import Background, Exporter

        background = Background(Exporter(options.policy.otlp_endpoint))
        background.start()
    status = 1
    try:
        bundle = ca.write_bundle(authority, private / "ca-bundle.pem")
        port = proxy.start()
        env = agent_env(dict(os.environ), port, addon.token, bundle, agent)
        said = node.notice(options.command, env)
        if said is not None:
            print(said, file=sys.stderr, flush=True)
        child = subprocess.Popen(options.command, env=env)
        previous = {
            sig: signal.signal(sig, lambda s, _f: child.send_signal(s))
            for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            status = child.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    finally:
        proxy.close()
        if turns is not None:
            turns.close()
        shutil.rmtree(private, ignore_errors=True)
        log.close(
            **{
                "gen_ai.agent.name": agent.name,
                "ztmcp.llm_calls": addon.calls,
                "ztmcp.user_turns_recorded": turns.written if turns is not None else None,
                "process.exit.code": status,
            }
        )
        if background is not None:
            background.stop()  # a last pass; what the collector refused stays for next time
    return status if status >= 0 else 128 - status
