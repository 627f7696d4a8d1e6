"""``ztmcp doctor``: one screen saying what is protected and what is not, each problem with the
command that fixes it.

Each area is one function returning ``Finding``s; none of them writes state. An area that
fails unexpectedly is itself a finding (a problem), never a traceback and never silence.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from ztmcp.errors import ZtmcpError
from ztmcp.terminal import echo, safe


class Level(Enum):
    OK = "ok"
    INFO = "info"
    PROBLEM = "problem"


@dataclass(frozen=True)
class Finding:
    area: str
    level: Level
    text: str
    fix: str = ""


def clients(platform: str, home: Path, env: Mapping[str, str], project: Path) -> list[Finding]:
    from urllib.parse import urlsplit

    from ztmcp.clients import ops, rules, wrap
    from ztmcp.state import paths

    found: list[Finding] = []
    configs = rules.discover(platform, home, env, project)
    if not configs:
        return [
            Finding(
                "clients",
                Level.INFO,
                "no MCP client config found (looked for: "
                + ", ".join(c.title for c in rules.CLIENTS)
                + ")",
            )
        ]
    for config in configs:
        where = f"{config.client.title} {config.path}"
        fix = f"ztmcp wrap --client {config.client.name}"
        if config.scope is rules.Scope.PROJECT:
            fix += f" --config {config.path}"
        try:
            servers = ops.inspect(config)
            kept = wrap.Backups(paths.home() / "wrap").get(config.path)
        except ZtmcpError as exc:
            found.append(
                Finding("clients", Level.PROBLEM, f"{where}: {exc.message}", exc.hint or "")
            )
            continue
        if not servers:
            found.append(Finding("clients", Level.INFO, f"{where}: no servers"))
        for server in servers:
            label = f"{where}: {server.name}"
            if wrap.is_stale(server):
                found.append(
                    Finding(
                        "clients",
                        Level.PROBLEM,
                        f"{label}: names a ztmcp that is gone ({server.command})",
                        fix,
                    )
                )
            elif wrap.is_wrapped(server):
                found.append(Finding("clients", Level.OK, f"{label}: behind ztmcp run"))
            elif (
                server.command is None
                and server.url is not None
                and kept is not None
                and (kept.originals.get(server.key, {}).get("url_local") == server.url)
            ):
                upstream = kept.originals[server.key].get("url")
                port = urlsplit(server.url).port or 0
                run = wrap.proxy_command(port, server.name, str(upstream))
                found.append(
                    Finding(
                        "clients", Level.OK, f"{label}: behind ztmcp proxy (keep `{run}` running)"
                    )
                )
            elif server.command is None and server.url is not None:
                found.append(
                    Finding(
                        "clients",
                        Level.PROBLEM,
                        f"{label}: HTTP server {server.url}, not behind ztmcp",
                        f"{wrap.proxy_command(8931, server.name, server.url)}, then "
                        f"{fix} --http-port 8931",
                    )
                )
            else:
                found.append(Finding("clients", Level.PROBLEM, f"{label}: not behind ztmcp", fix))
    return found


def policy(cwd: Path) -> list[Finding]:
    from ztmcp.policy import load_policy
    from ztmcp.state import paths

    notices: list[str] = []
    try:
        loaded = load_policy(None, cwd=cwd, user_config=paths.user_config(), say=notices.append)
    except ZtmcpError as exc:
        return [Finding("policy", Level.PROBLEM, exc.message, exc.hint or "")]
    sources = " over ".join(str(p) for p in reversed(loaded.sources)) or "the built-in default"
    found = [Finding("policy", Level.OK, f"in force: {sources}")]
    for notice in notices:
        found.append(Finding("policy", Level.PROBLEM, notice, f"ztmcp trust {cwd / 'ztmcp.toml'}"))
    return found


def keyring_backend() -> list[Finding]:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:
        return [Finding("keyring", Level.PROBLEM, f"keyring unavailable: {exc}")]
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in type(backend).__module__ or "null" in type(backend).__module__:
        return [
            Finding(
                "keyring",
                Level.PROBLEM,
                f"no usable keyring backend ({name}): `ztmcp secret` cannot store tokens",
                "install a backend (e.g. keyrings.alt) or set PYTHON_KEYRING_BACKEND",
            )
        ]
    return [Finding("keyring", Level.OK, f"backend: {name}")]


def sandbox() -> list[Finding]:
    from ztmcp.sandbox import bwrap

    try:
        path = bwrap.bwrap_path()
        bwrap.probe(path, timeout=5.0)
    except ZtmcpError as exc:
        return [Finding("sandbox", Level.PROBLEM, exc.message, exc.hint or "")]
    return [Finding("sandbox", Level.OK, f"bubblewrap sandbox available ({path})")]


def audit() -> list[Finding]:
    from ztmcp.state import paths
    from ztmcp.state.audit_verify import verify_dir

    directory = paths.audit_dir()
    if not directory.is_dir():
        return [Finding("audit", Level.INFO, f"no audit log yet ({directory})")]
    result = verify_dir(directory)
    bad = [v for v in result.logs if not v.ok]
    if result.index_problem or bad:
        what = (
            result.index_problem or f"{len(bad)} of {len(result.logs)} logs fail: {bad[0].detail}"
        )
        return [Finding("audit", Level.PROBLEM, f"audit log: {what}", "ztmcp audit verify")]
    return [Finding("audit", Level.OK, f"{len(result.logs)} session logs verify ({directory})")]


def pins(cwd: Path) -> list[Finding]:
    from ztmcp import lockfile
    from ztmcp.state import db
    from ztmcp.state.observed import ObservedStore

    found: list[Finding] = []
    lock_path = cwd / "ztmcp.lock"
    try:
        lock = lockfile.read(lock_path)
    except ZtmcpError as exc:
        return [Finding("pins", Level.PROBLEM, exc.message, exc.hint or "")]
    if lock.pins:
        found.append(Finding("pins", Level.OK, f"{len(lock.pins)} servers pinned in {lock_path}"))
        if not lockfile.is_approved(lock):
            found.append(
                Finding(
                    "pins",
                    Level.PROBLEM,
                    f"{lock_path} is not approved: its pins are not used",
                    f"ztmcp trust {lock_path}",
                )
            )
    else:
        found.append(Finding("pins", Level.INFO, f"no pins in {lock_path}"))
    if not db.db_path().is_file():
        return found
    try:
        with ObservedStore() as store:
            observed = store.servers()
    except ZtmcpError as exc:
        return [*found, Finding("pins", Level.PROBLEM, exc.message, exc.hint or "")]
    for record in observed:
        if record.drifted or record.unpinned:
            changed = len(record.drifted) + len(record.unpinned)
            found.append(
                Finding(
                    "pins",
                    Level.PROBLEM,
                    f"{record.server}: drifted from its pin ({changed} tools changed)",
                    f"ztmcp diff {record.server} --observed",
                )
            )
    return found


def gather(platform: str, home: Path, env: Mapping[str, str], cwd: Path) -> list[Finding]:
    areas: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("clients", lambda: clients(platform, home, env, cwd)),
        ("policy", lambda: policy(cwd)),
        ("keyring", keyring_backend),
        ("sandbox", sandbox),
        ("audit", audit),
        ("pins", lambda: pins(cwd)),
    ]
    found: list[Finding] = []
    for area, run in areas:
        try:
            found += run()
        except Exception as exc:  # one broken area is a problem shown, not a crash
            found.append(Finding(area, Level.PROBLEM, f"cannot check: {type(exc).__name__}: {exc}"))
    return found


_MARK = {Level.OK: "ok  ", Level.INFO: "--  ", Level.PROBLEM: "FIX "}


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per finding.")] = False,
) -> None:
    """What ztmcp protects here and what it does not, with the command that fixes each problem."""
    from ztmcp.clients import rules

    found = gather(rules.host_platform(), Path.home(), os.environ, Path.cwd())
    if as_json:
        for finding in found:
            echo(json.dumps({**asdict(finding), "level": finding.level.value}, ensure_ascii=False))
    else:
        area = ""
        for finding in found:
            if finding.area != area:
                area = finding.area
                echo(area)
            echo(f"  {_MARK[finding.level]}{safe(finding.text)}")
            if finding.fix:
                echo(f"        fix: {safe(finding.fix)}")
        problems = sum(f.level is Level.PROBLEM for f in found)
        echo(f"{problems} problem{'s' if problems != 1 else ''}" if problems else "all good")
    if any(f.level is Level.PROBLEM for f in found):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
