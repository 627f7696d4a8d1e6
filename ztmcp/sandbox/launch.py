"""``ztmcp run --sandbox``: the options, the profile from policy and flags, the gate, the plan.

A server is sandboxed when ``--sandbox`` is given, when the policy's ``[sandbox]`` table has
``enforce = true``, or when one of its ``[sandbox.servers."GLOB"]`` entries names the server:
a client config cannot opt a server out of what the policy says. Before anything starts, an
empty sandbox is probed; a machine that refuses user namespaces gets one line saying what to
enable, and the server is not started at all.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ztmcp.errors import UsageError

if TYPE_CHECKING:
    import argparse

    from ztmcp.policy import Policy
    from ztmcp.sandbox.egress import Intercept, Observe
    from ztmcp.sandbox.observed import SandboxObservations
    from ztmcp.sandbox.pinned import PinnedProfile
    from ztmcp.sandbox.profile import Profile, SandboxTable


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sandbox (Linux, bubblewrap; see docs/sandbox.md)")
    group.add_argument(
        "--sandbox",
        action="store_true",
        help="run the server in its own namespaces: no home, no network but ztmcp's egress gate",
    )
    group.add_argument(
        "--learn",
        action="store_true",
        help="sandbox and allow any egress, recording each host:port for `ztmcp pin NAME` "
        "(run it once, on trusted input; see docs/sandbox.md)",
    )
    group.add_argument(
        "--intercept-tls",
        action="store_true",
        help="decrypt allowed HTTPS with your ztmcp CA and scan request bodies for secrets "
        "(off by default; trade-offs in docs/sandbox.md)",
    )
    group.add_argument(
        "--allow-read", action="append", default=[], metavar="PATH", help="grant read (globs)"
    )
    group.add_argument(
        "--allow-write", action="append", default=[], metavar="PATH", help="grant read and write"
    )
    group.add_argument(
        "--allow-net",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="allow egress to HOST (globs; no port: 80 and 443; HOST:* any port)",
    )
    group.add_argument(
        "--allow-env",
        action="append",
        default=[],
        metavar="NAME",
        help="pass this environment variable through (secrets: the policy's keyring names)",
    )


class Flags(Protocol):
    """What ``ztmcp run``'s options say about the sandbox (``cli.run_cmd.RunOptions``)."""

    name: str | None
    sandbox: bool
    learn: bool
    intercept_tls: bool
    allow_read: list[str]
    allow_write: list[str]
    allow_net: list[str]
    allow_env: list[str]


def cli_profile(ns: Flags) -> Profile:
    from ztmcp.sandbox.profile import Profile, env_name, parse_net

    return Profile(
        allow_read=tuple(ns.allow_read),
        allow_write=tuple(ns.allow_write),
        allow_net=tuple(rule for spec in ns.allow_net for rule in parse_net(spec)),
        env=tuple(env_name(n, "--allow-env") for n in ns.allow_env),
        intercept_tls=bool(getattr(ns, "intercept_tls", False)),
    )


def policy_table(policy: Policy) -> SandboxTable:
    """The ``[sandbox]`` tables of the policy files ``load_policy`` read, later over earlier:
    the tables as that one read parsed them (``Policy.sandbox_tables``), never the files
    again (a file changed in between would sandbox by other rules than the policy's)."""
    from ztmcp.sandbox.profile import parse_table

    merged: dict[str, Any] = {}
    for _, table in policy.sandbox_tables:
        if isinstance(table, dict):
            servers, earlier = table.get("servers", {}), merged.get("servers", {})
            if isinstance(servers, dict) and isinstance(earlier, dict):
                servers = {**earlier, **servers}
            merged = {**merged, **table, "servers": servers}  # parse_table refuses a bad one
    origin = " over ".join(str(p) for p in reversed(policy.sources)) or "policy"
    return parse_table(merged, origin)


def given(ns: Flags) -> bool:
    """Whether any grant option (``--allow-*``, ``--intercept-tls``) was given."""
    return bool(ns.allow_read or ns.allow_write or ns.allow_net or ns.allow_env or ns.intercept_tls)


@dataclass
class Sandboxed:
    """What ``ztmcp run`` spawns instead of the bare command, and how to tear it down."""

    argv: list[str]
    env: dict[str, str]
    close: Callable[[str], None]


def prepare(ns: Flags, command: list[str], policy: Policy) -> Sandboxed | None:
    """The sandboxed command for ``ztmcp run``, or None when this server is not sandboxed."""
    if not (ns.sandbox or ns.learn or given(ns) or policy.sources):
        # No option asks for it and no policy file could (the default policy has no
        # [sandbox] table): the answer below, without importing the profile parser.
        return None
    from ztmcp.sandbox.profile import Profile

    flags = cli_profile(ns)
    granted = flags != Profile() or ns.learn  # --learn implies --sandbox
    if sys.platform != "linux" and not (ns.sandbox or granted):
        return None
    table = policy_table(policy)
    name = ns.name or Path(command[0]).name
    entry = table.profile_for(name)
    if not (ns.sandbox or granted or table.enforce or entry is not None):
        return None
    if sys.platform not in ("linux", "darwin"):
        raise UsageError(
            "cannot sandbox: ztmcp's sandbox runs on Linux (bubblewrap) and macOS (Seatbelt)",
            hint="the server was not started",
        )
    from ztmcp.sandbox.pinned import effective, pinned_for

    pinned = pinned_for(policy.lockfile, name)  # [servers.NAME.sandbox] in ztmcp.lock
    profile = effective((entry or Profile()).merged(flags), pinned, learn=ns.learn, name=name)
    upstream = Path(table.upstream_ca).expanduser() if table.upstream_ca else None
    return start(name, profile, command, learn=ns.learn, pinned=pinned, upstream_ca=upstream)


def start(
    name: str,
    profile: Profile,
    command: list[str],
    *,
    learn: bool = False,
    pinned: PinnedProfile | None = None,
    upstream_ca: Path | None = None,
) -> Sandboxed:
    """Probe, open the egress gate with its audit log, and plan the sandbox for ``command``.

    ``learn``: the gate allows any egress and records it (``observed.LEARNED``), with the path
    grants; ``pinned``: the lock's profile, whose refusals the gate records as drift.
    """
    from ztmcp.credentials import SecretStore
    from ztmcp.sandbox.bwrap import PROXY_PORT, Host, plan, probe
    from ztmcp.sandbox.egress import EgressGate
    from ztmcp.sandbox.netaudit import NetAudit
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog

    if sys.platform == "darwin":
        return _start_macos(
            name, profile, command, learn=learn, pinned=pinned, upstream_ca=upstream_ca
        )
    host = Host.current()
    probe(host.bwrap)
    store = SecretStore() if profile.secrets else None

    def secret(key: str) -> str:
        assert store is not None
        return store.get(key)

    observe, observations = _observe(name, profile, learn=learn, pinned=pinned)
    log = AuditLog.create(paths.audit_dir(), name)
    intercept = _intercept(profile, upstream_ca)
    gate = EgressGate(name, profile, log.post, observe, intercept=intercept)
    netaudit: NetAudit | None = None
    try:
        socket_path = gate.start()
        # Direct sockets (TCP, UDP, DNS) refused in the namespace are audited by seccomp too.
        netaudit = NetAudit(name, log.post, socket_path.parent, proxy_port=PROXY_PORT)
        netaudit.start()
        bundle = None
        if intercept is not None:  # system CAs + the ztmcp CA, beside the gate's socket
            from ztmcp.sandbox.ca import at, write_bundle

            bundle = write_bundle(at(intercept.confdir), socket_path.with_name("ca-bundle.pem"))
        # Planned once the gate is up (its socket is mounted); secrets are read here, once.
        sandbox = plan(
            profile,
            command,
            host,
            egress_socket=socket_path,
            secret=secret,
            ca_bundle=bundle,
            audit=(netaudit.filter_path, netaudit.socket_path, netaudit.seccomp_nr),
        )
        log.post(
            {
                "event": "sandbox.start",
                "server": name,
                "server.argv_sha256": hashlib.sha256("\0".join(command).encode()).hexdigest(),
                "process.pid": os.getpid(),
                "sandbox.mounts": [[m.path, m.mode] for m in sandbox.mounts],
                "sandbox.masked": list(sandbox.masked),
                "sandbox.allow_net": sorted({r.spec for r in profile.allow_net}),
                "sandbox.env": sorted(sandbox.env),  # names only, never values
                "sandbox.learn": learn,
                "sandbox.pinned": pinned.digest if pinned is not None else None,
                "sandbox.intercept_tls": intercept is not None,
                "sandbox.socket_audit": "seccomp",
            }
        )
    except BaseException:
        if netaudit is not None:
            netaudit.close()
        gate.close()
        observations.close()
        log.close(server=name, reason="sandbox failed to start")
        raise

    def close(reason: str) -> None:
        assert netaudit is not None
        netaudit.close()
        gate.close()
        observations.close()
        log.close(server=name, reason=reason)

    return Sandboxed(list(sandbox.argv), dict(sandbox.env), close)


def _observe(
    name: str, profile: Profile, *, learn: bool, pinned: PinnedProfile | None
) -> tuple[Observe | None, SandboxObservations]:
    """The gate's link to the state: learned destinations, drift beyond the pinned profile.

    In learn mode the path grants are recorded now (paths are granted, not observed); a state
    that cannot be written stops the start, since the profile it learns would be wrong.
    """
    import time

    from ztmcp.sandbox.egress import Observe
    from ztmcp.sandbox.observed import LEARNED, SandboxObservations

    store = SandboxObservations()  # written from the gate's thread only, after this
    if not learn and pinned is None:
        return None, store
    if learn:
        with SandboxObservations() as now:
            for what, paths in (("read", profile.allow_read), ("write", profile.allow_write)):
                for path in paths:
                    now.record(name, LEARNED, what, path, time.time())
    digest = pinned.digest if pinned is not None else None

    def record(kind: str, what: str, value: str) -> None:
        store.record(name, kind, what, value, time.time(), pinned=digest or "")

    return Observe(learn=learn, pinned=digest, record=record), store


def _start_macos(
    name: str,
    profile: Profile,
    command: list[str],
    *,
    learn: bool,
    pinned: PinnedProfile | None,
    upstream_ca: Path | None,
) -> Sandboxed:
    """``sandbox-exec`` with the Seatbelt rendering of the profile (``seatbelt.py``); the gate
    relays a loopback TCP port, the only one the profile reaches. Not run in CI (Linux)."""
    import shutil
    import tempfile

    from ztmcp.credentials import SecretStore
    from ztmcp.sandbox import seatbelt
    from ztmcp.sandbox.bwrap import Host
    from ztmcp.sandbox.egress import EgressGate
    from ztmcp.state import paths
    from ztmcp.state.audit import AuditLog

    if not Path(seatbelt.SANDBOX_EXEC).exists():
        raise UsageError(f"cannot sandbox: {seatbelt.SANDBOX_EXEC} is missing")
    host = Host(
        home=Path.home(),
        state_dir=paths.home().expanduser().resolve(),
        cwd=Path.cwd(),
        environ=dict(os.environ),
        bwrap=Path(seatbelt.SANDBOX_EXEC),
        python=Path(getattr(sys, "_base_executable", sys.executable)),
        python_prefix=Path(sys.base_prefix),
    )
    store = SecretStore() if profile.secrets else None
    observe, observations = _observe(name, profile, learn=learn, pinned=pinned)
    log = AuditLog.create(paths.audit_dir(), name)
    intercept = _intercept(profile, upstream_ca)
    gate = EgressGate(name, profile, log.post, observe, tcp=True, intercept=intercept)
    tmpdir = tempfile.mkdtemp(prefix="ztmcp-sandbox-")

    def close(reason: str) -> None:
        gate.close()
        observations.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
        log.close(server=name, reason=reason)

    try:
        gate.start()
        sandbox = seatbelt.plan(
            profile,
            command,
            host,
            proxy_port=gate.relay_port,
            tmpdir=tmpdir,
            name=name,
            secret=lambda key: store.get(key) if store is not None else "",
        )
        if intercept is not None:  # the bundle in the private temp directory it may read
            from ztmcp.sandbox.ca import BUNDLE_ENV, at, write_bundle

            bundle = write_bundle(at(intercept.confdir), Path(tmpdir) / "ca-bundle.pem")
            sandbox.env.update(dict.fromkeys(BUNDLE_ENV, str(bundle)))
        log.post(
            {
                "event": "sandbox.start",
                "server": name,
                "sandbox.kind": "seatbelt",
                "sandbox.profile_sha256": hashlib.sha256(sandbox.profile.encode()).hexdigest(),
                "sandbox.allow_net": sorted({r.spec for r in profile.allow_net}),
                "sandbox.env": sorted(sandbox.env),
                "sandbox.learn": learn,
                "sandbox.pinned": pinned.digest if pinned is not None else None,
                "sandbox.intercept_tls": intercept is not None,
            }
        )
    except BaseException:
        close("sandbox failed to start")
        raise
    return Sandboxed(list(sandbox.argv), dict(sandbox.env), close)


def _intercept(profile: Profile, upstream_ca: Path | None) -> Intercept | None:
    """TLS interception for this run (``intercept_tls``), with the user's ztmcp CA; None: off."""
    if not profile.intercept_tls:
        return None
    from ztmcp.sandbox import ca
    from ztmcp.sandbox.egress import Intercept
    from ztmcp.state import paths

    if upstream_ca is not None and not upstream_ca.is_file():
        raise UsageError(f"cannot sandbox: [sandbox] upstream_ca {upstream_ca} is not a file")
    authority = ca.ensure(paths.home())
    return Intercept(authority.confdir, profile.secret_action, upstream_ca)
