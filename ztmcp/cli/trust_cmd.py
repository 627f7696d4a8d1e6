"""``ztmcp trust [PATH…]``: a person approves a repository's ``ztmcp.toml`` / ``ztmcp.lock``.

It shows what the file changes against the user's own config (for a policy: every key it
loosens; for a lock: every server it pins, the command or URL ``ztmcp diff``/``pin`` would
start, every signer and trust root), then asks the person at the terminal to type ``yes``
(``ztmcp.person.confirm``: no terminal, no approval). The approval is the file's SHA-256 (for a
lock, with its trust roots) at its resolved path, in the user state dir: an edited file needs
approving again. ``--list`` shows approvals, ``--forget PATH`` withdraws one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ztmcp.cli.render import fail
from ztmcp.documents import NOT_A_FILE
from ztmcp.errors import PolicyError, UsageError, ZtmcpError
from ztmcp.terminal import echo, safe


def _policy_lines(path: Path) -> tuple[list[str], str]:
    from ztmcp.policy import _read, project_verdict
    from ztmcp.state import paths

    user_config = paths.user_config()
    user = _read(user_config) if user_config.is_file() else {}
    verdict = project_verdict(path, user, path.parent)
    if not verdict.loosens:
        lines = ["it only tightens your own policy: it applies without an approval"]
    else:
        lines = [f"it loosens your own policy ({user_config}):"]
        lines += [f"  {safe(line)}" for line in verdict.loosens]
    return lines, verdict.digest


def _lock_lines(path: Path) -> tuple[list[str], str]:
    from ztmcp import lockfile

    lock = lockfile.read(path, missing_ok=False)
    # The bytes shown are the bytes approved: those the lines above were parsed from.
    digest = lockfile.approval_digest(lock, lock.raw if lock.raw is not None else b"")
    lines = [
        f"it pins {len(lock.pins)} server(s); approving lets ztmcp enforce these pins, "
        "start these commands (`ztmcp diff`, `ztmcp pin NAME`) and trust these signers:"
    ]
    for name, pin in sorted(lock.pins.items()):
        launch = pin.url or " ".join(pin.command or ()) or "(no command)"
        lines.append(f"  {safe(name)}: {len(pin.tools)} tools, runs: {safe(launch)}")
        if pin.signed:
            lines.append(f"    signed by {safe(pin.signer())}")
        if pin.trust_config is not None:
            lines.append(
                f"    TRUST ROOT {safe(pin.trust_config)}: a private Sigstore root from the "
                "repository, used instead of the public one for this signature"
            )
    return lines, digest


def _is_lock(path: Path) -> bool:
    return path.suffix == ".lock"


def trust(
    files: Annotated[
        list[Path] | None,
        typer.Argument(metavar="[PATH]…", help="Default: ./ztmcp.toml and ./ztmcp.lock."),
    ] = None,
    listing: Annotated[bool, typer.Option("--list", help="List approved files.")] = False,
    forget: Annotated[
        Path | None, typer.Option("--forget", metavar="PATH", help="Withdraw an approval.")
    ] = None,
) -> None:
    """Approve a repository's ztmcp.toml / ztmcp.lock after reviewing what it changes."""
    from ztmcp import trust as store
    from ztmcp.person import confirm

    try:
        if listing:
            rows = store.approvals()
            if not rows:
                echo("no approved files")
            for row in rows:
                echo(f"{safe(row.path)}  {row.digest[:19]}…")
            return
        if forget is not None:
            done = store.forget(forget)
            echo(f"withdrew the approval of {forget}" if done else f"{forget} was not approved")
            return
        targets = list(files or [])
        if not targets:
            cwd = Path.cwd()
            targets = [p for p in (cwd / "ztmcp.toml", cwd / "ztmcp.lock") if p.is_file()]
            if not targets:
                raise UsageError(
                    "no ztmcp.toml or ztmcp.lock here", hint="name the file: ztmcp trust PATH"
                )
        for path in targets:
            if not path.is_file():
                raise UsageError(f"{path}: {NOT_A_FILE if path.exists() else 'no such file'}")
            lines, digest = _lock_lines(path) if _is_lock(path) else _policy_lines(path)
            if store.approved(path, digest):
                echo(f"{path}: already approved ({digest[:19]}…)")
                continue
            if not _is_lock(path) and lines[0].startswith("it only tightens"):
                echo(f"{path}: {lines[0]}")
                continue
            confirm(f"approve {path} ({digest[:19]}…)", lines, "yes")
            store.record(path, digest)
            echo(f"approved {path} ({digest[:19]}…); an edit to it needs approving again")
    except PolicyError as exc:
        fail(exc)
    except ZtmcpError as exc:
        fail(exc, 1)


def register(app: typer.Typer) -> None:
    app.command("trust")(trust)
